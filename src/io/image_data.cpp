#include "mtif/image_data.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include "mtif/csv_reader.hpp"

namespace mtif {
namespace {

// Whole-file errors: binary files have no lines (csv_reader uses 0:0 the same way).
[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw DataError(fmt::format("{}:0:0: {}", path, message));
}

// zlib's message without the "PATH: " it puts in front (fail() names the file already).
std::string gz_message(gzFile file, const std::string& path, int* code) {
  std::string why = gzerror(file, code);
  if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
  return why;
}

// The whole decompressed content. gzread passes plain files through, so an
// IDX file that is not gzipped reads too.
std::vector<unsigned char> read_gz(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a folder, not a file");
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) fail(path, fmt::format("cannot open the file for reading: {}", std::strerror(errno)));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  gzbuffer(file, 1 << 17);
  std::vector<unsigned char> data;
  std::vector<unsigned char> chunk(1 << 20);
  int got;
  while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
    data.insert(data.end(), chunk.begin(), chunk.begin() + got);
  // A gzip file cut short is not a read error to gzread: it just ends the
  // data and leaves Z_BUF_ERROR for gzerror, so ask it either way.
  int code = Z_OK;
  const std::string why = gz_message(file, path, &code);
  if (got < 0 || code != Z_OK)
    fail(path, fmt::format("truncated or corrupt gzip data after {} decompressed bytes: {}", data.size(), why));
  return data;
}

std::uint32_t big_endian32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// Checks an IDX file of unsigned bytes with `ndims` dimensions: magic
// 0x000008NN, then NN big-endian uint32 sizes, then exactly their product of
// bytes. Returns the sizes. Offsets in messages count decompressed bytes.
std::vector<std::uint64_t> check_idx(const std::vector<unsigned char>& bytes, const std::string& path, int ndims,
                                     const char* what) {
  const std::uint32_t want = 0x0800u | static_cast<std::uint32_t>(ndims);
  if (bytes.size() < 4) fail(path, fmt::format("{} bytes is too short for an IDX {} file", bytes.size(), what));
  const std::uint32_t magic = big_endian32(bytes.data());
  if (magic != want) {
    // The usual mistake is swapping the image and label files: say so.
    const char* hint = magic == 0x801 ? " (this is an IDX label file)" : magic == 0x803 ? " (this is an IDX image file)" : "";
    fail(path, fmt::format("magic number 0x{:08x} at byte 0, expected 0x{:08x} for an IDX {} file{}", magic, want, what,
                           hint));
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header)
    fail(path, fmt::format("truncated header: {} bytes, an IDX {} file needs {}", bytes.size(), what, header));
  std::vector<std::uint64_t> dims(ndims);
  std::uint64_t item_bytes = 1;  // one image or one label; < 2^64 as a product of two uint32
  for (int k = 0; k < ndims; ++k) {
    dims[k] = big_endian32(bytes.data() + 4 + 4 * k);
    if (k > 0) item_bytes *= dims[k];
  }
  if (item_bytes == 0) fail(path, fmt::format("an image size in the header at byte 8 is zero"));
  const std::uint64_t have = bytes.size() - header;
  if (dims[0] > have / item_bytes)
    fail(path, fmt::format("truncated: the header promises {} {}s ({} bytes after the {}-byte header) but only {} "
                           "bytes follow",
                           dims[0], what, dims[0] * item_bytes, header, have));
  if (dims[0] * item_bytes != have)
    fail(path, fmt::format("{} bytes after the {}-byte header where it promises {} {}s ({} bytes): trailing data",
                           have, header, dims[0], what, dims[0] * item_bytes));
  return dims;
}

std::vector<std::string> numbered_names(int count) {
  std::vector<std::string> names;
  for (int c = 0; c < count; ++c) names.push_back(std::to_string(c));
  return names;
}

// A seeded random stream. std::shuffle and std::uniform_int_distribution are
// implementation-defined, so they are written out here: a seed gives the same
// rows with every standard library.
class Rng {
 public:
  // Distinct streams (train, test) from one user seed, independent of each other.
  Rng(std::uint64_t seed, std::uint64_t stream) : gen_(splitmix(seed ^ splitmix(stream + 1))) {}

  // Uniform in [0, n): rejection removes the modulo bias.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t reject_below = (0 - n) % n;  // 2^64 mod n
    std::uint64_t x;
    do x = gen_(); while (x < reject_below);
    return x % n;
  }

  // Partial Fisher-Yates: afterwards v[from, from+m) is a uniform random
  // sample (in random order) of the elements that were in v[from, end).
  template <class T>
  void sample_front(std::vector<T>& v, size_t from, size_t m) {
    for (size_t i = from; i < from + m; ++i) std::swap(v[i], v[i + below(v.size() - i)]);
  }

 private:
  static std::uint64_t splitmix(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::mt19937_64 gen_;
};

ImageSet subset(const ImageSet& images, const std::vector<Index>& which) {
  ImageSet out;
  out.source = images.source;
  out.height = images.height;
  out.width = images.width;
  out.class_names = images.class_names;
  const Index p = images.pixels_per_image();
  out.pixels.reserve(which.size() * p);
  for (Index i : which) {
    out.pixels.insert(out.pixels.end(), images.image(i), images.image(i) + p);
    out.labels.push_back(images.labels[i]);
  }
  return out;
}

void check_pool(const ImageSet& images, int factor) {
  if (factor < 1 || images.height % factor != 0 || images.width % factor != 0)
    throw std::invalid_argument(fmt::format("pooling factor {} does not divide the {}x{} images", factor,
                                            images.height, images.width));
}

// Image i averaged over factor x factor blocks into out[0, h*w/factor^2).
template <class T>
void pool_image(const ImageSet& images, Index i, int factor, T* out) {
  const int w = images.width / factor;
  std::fill(out, out + (images.height / factor) * w, T(0));
  const float* px = images.image(i);
  for (int r = 0; r < images.height; ++r)
    for (int c = 0; c < images.width; ++c) out[(r / factor) * w + c / factor] += px[r * images.width + c];
  const T scale = T(1) / static_cast<T>(factor * factor);
  for (int k = 0; k < (images.height / factor) * w; ++k) out[k] *= scale;
}

// One row of a cast: the source image and its target.
struct Pick {
  Index image;
  double y;
};
using Picks = std::vector<std::vector<Pick>>;  // per task

// Rows come out already grouped by task, so the Dataset is filled directly
// rather than through RawRows (a full Fashion-MNIST cast is 60000 x 784
// doubles; a second copy would double the peak memory).
Dataset to_dataset(const ImageSet& images, const Picks& picks, int factor, const std::vector<std::string>& task_names,
                   std::string source, std::vector<Index>* origin) {
  const Index d = images.pixels_per_image() / (factor * factor);
  Index n = 0;
  for (const auto& task : picks) n += static_cast<Index>(task.size());
  Dataset data;
  data.source = std::move(source);
  for (Index j = 0; j < d; ++j) data.feature_names.push_back("px" + std::to_string(j));
  data.task_names = task_names;
  data.X.resize(n, d);
  data.y.resize(n);
  data.file_row.resize(n);
  std::iota(data.file_row.begin(), data.file_row.end(), Index{0});  // the cast's own row order is the file order
  if (origin) origin->clear();
  std::vector<double> row(d);
  Index r = 0;
  for (const auto& task : picks) {
    data.task_begin.push_back(r);
    for (const Pick& p : task) {
      pool_image(images, p.image, factor, row.data());
      data.X.row(r) = Eigen::Map<const Eigen::RowVectorXd>(row.data(), d);
      data.y(r) = p.y;
      if (origin) origin->push_back(p.image);
      ++r;
    }
  }
  data.task_begin.push_back(r);
  return data;
}

void check_split(const ImageSplit& images, int factor) {
  if (images.train.class_names != images.test.class_names || images.train.height != images.test.height ||
      images.train.width != images.test.width)
    throw std::invalid_argument("train and test images differ in size or class names");
  if (images.train.class_names.empty()) throw std::invalid_argument("images have no classes");
  const int C = static_cast<int>(images.train.class_names.size());
  for (const ImageSet* set : {&images.train, &images.test})
    for (int label : set->labels)
      if (label < 0 || label >= C) throw std::invalid_argument(fmt::format("label {} has no class name", label));
  check_pool(images.train, factor);
}

void sort_by_image(std::vector<Pick>& task) {
  std::sort(task.begin(), task.end(), [](const Pick& a, const Pick& b) { return a.image < b.image; });
}

Picks one_vs_rest_picks(const ImageSet& images, Index pos, Index neg, bool disjoint, Rng& rng, const char* split) {
  const int C = static_cast<int>(images.class_names.size());
  std::vector<std::vector<Index>> pool(C);
  for (Index i = 0; i < images.size(); ++i) pool[images.labels[i]].push_back(i);
  std::vector<size_t> used(C, 0);  // disjoint: pool[c][0, used[c]) went to earlier tasks
  auto take = [&](int c, Index m, double y, std::vector<Pick>& out) {
    const size_t from = disjoint ? used[c] : 0;
    if (static_cast<Index>(pool[c].size() - from) < m)
      throw std::invalid_argument(fmt::format("one-vs-rest {}: needs {} images of class '{}' but only {} {}", split, m,
                                              images.class_names[c], pool[c].size() - from,
                                              disjoint ? "are left (disjoint: earlier tasks took the rest)" : "exist"));
    rng.sample_front(pool[c], from, m);
    for (Index j = 0; j < m; ++j) out.push_back({pool[c][from + j], y});
    if (disjoint) used[c] += m;
  };
  Picks picks(C);
  for (int c = 0; c < C; ++c) {
    take(c, pos, 1.0, picks[c]);
    if (neg > 0 && C < 2) throw std::invalid_argument("one-vs-rest: negatives need at least two classes");
    // Negatives spread evenly over the other classes so every task sees every
    // kind of negative; the remainder goes to randomly chosen classes.
    std::vector<int> others;
    for (int o = 0; o < C; ++o)
      if (o != c) others.push_back(o);
    if (others.empty()) continue;
    const Index k = static_cast<Index>(others.size());
    std::vector<Index> count(k, neg / k);
    std::vector<Index> order(k);
    std::iota(order.begin(), order.end(), Index{0});
    rng.sample_front(order, 0, static_cast<size_t>(neg % k));
    for (Index j = 0; j < neg % k; ++j) ++count[order[j]];
    for (Index j = 0; j < k; ++j) take(others[j], count[j], 0.0, picks[c]);
    sort_by_image(picks[c]);  // rows of a task in source order: classes come mixed, and reruns are easy to compare
  }
  return picks;
}

Picks grouped_picks(const ImageSet& images, const std::vector<ClassGroup>& groups, Index per_task, Rng& rng,
                    const char* split) {
  const int C = static_cast<int>(images.class_names.size());
  Picks picks(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<int> target(C, -1);  // class id -> position in the group
    for (size_t j = 0; j < groups[g].classes.size(); ++j) {
      const int c = groups[g].classes[j];
      if (c < 0 || c >= C || target[c] >= 0)
        throw std::invalid_argument(fmt::format("group '{}': class {} is out of range 0..{} or listed twice",
                                                groups[g].name, c, C - 1));
      target[c] = static_cast<int>(j);
    }
    std::vector<Index> members;
    for (Index i = 0; i < images.size(); ++i)
      if (target[images.labels[i]] >= 0) members.push_back(i);
    if (per_task > 0) {
      if (per_task > static_cast<Index>(members.size()))
        throw std::invalid_argument(fmt::format("grouped {}: {} rows asked for group '{}' which has {} images", split,
                                                per_task, groups[g].name, members.size()));
      rng.sample_front(members, 0, per_task);
      members.resize(per_task);
      std::sort(members.begin(), members.end());
    }
    for (Index i : members) picks[g].push_back({i, static_cast<double>(target[images.labels[i]])});
  }
  return picks;
}

std::string pool_text(const ImageSet& images, int factor) {
  return fmt::format("{}x{}", images.height / factor, images.width / factor);
}

}  // namespace

ImageSet read_idx(const std::string& images_path, const std::string& labels_path) {
  const std::vector<unsigned char> image_bytes = read_gz(images_path);
  const auto dims = check_idx(image_bytes, images_path, 3, "image");
  const std::vector<unsigned char> label_bytes = read_gz(labels_path);
  const auto label_dims = check_idx(label_bytes, labels_path, 1, "label");
  if (label_dims[0] != dims[0])
    fail(labels_path, fmt::format("has {} labels but {} has {} images", label_dims[0], images_path, dims[0]));
  if (dims[1] > INT_MAX || dims[2] > INT_MAX)
    fail(images_path, fmt::format("image size {}x{} is too large", dims[1], dims[2]));

  ImageSet set;
  set.source = images_path;
  set.height = static_cast<int>(dims[1]);
  set.width = static_cast<int>(dims[2]);
  set.pixels.resize(image_bytes.size() - 16);
  std::transform(image_bytes.begin() + 16, image_bytes.end(), set.pixels.begin(),
                 [](unsigned char v) { return static_cast<float>(v) / 255.0f; });
  set.labels.assign(label_bytes.begin() + 8, label_bytes.end());
  const int max_label = set.labels.empty() ? -1 : *std::max_element(set.labels.begin(), set.labels.end());
  set.class_names = numbered_names(max_label + 1);
  return set;
}

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

const std::vector<ClassGroup>& fashion_mnist_groups() {
  static const std::vector<ClassGroup> groups = {
      {"tops", {0, 2, 4, 6}}, {"bottoms", {1, 3}}, {"footwear", {5, 7, 9}}, {"bags", {8}}};
  return groups;
}

ImageSplit read_fashion_mnist(const std::string& dir) {
  auto read = [&](const std::string& prefix) {
    const std::string images = (std::filesystem::path(dir) / (prefix + "-images-idx3-ubyte.gz")).string();
    const std::string labels = (std::filesystem::path(dir) / (prefix + "-labels-idx1-ubyte.gz")).string();
    ImageSet set = read_idx(images, labels);
    for (size_t i = 0; i < set.labels.size(); ++i)
      if (set.labels[i] > 9)
        fail(labels, fmt::format("label {} at byte {}; Fashion-MNIST labels are 0..9", set.labels[i], 8 + i));
    set.class_names = fashion_mnist_class_names();
    return set;
  };
  return {read("train"), read("t10k")};
}

ImageSet read_mnist_digits(const std::string& dir) {
  constexpr Index kPixels = 28 * 28;
  ImageSet set;
  set.source = dir;
  set.height = set.width = 28;
  set.class_names = numbered_names(10);
  for (int digit = 0; digit < 10; ++digit) {
    const std::string path = (std::filesystem::path(dir) / (std::to_string(digit) + ".json")).string();
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open the file for reading (scripts/fetch_data.sh --images fetches it)");
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      // nlohmann reports a byte offset; turn it into line:column like the CSV errors.
      const size_t at = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
      const size_t line = 1 + std::count(text.begin(), text.begin() + at, '\n');
      const size_t line_start = text.rfind('\n', at == 0 ? 0 : at - 1);
      const size_t column = line_start == std::string::npos || at == 0 ? at + 1 : at - line_start;
      throw DataError(fmt::format("{}:{}:{}: not valid JSON ({})", path, line, column, e.what()));
    }
    // The package stores {"data": [...]}; a bare array is accepted too.
    const nlohmann::json& data = json.is_object() && json.contains("data") ? json.at("data") : json;
    if (!data.is_array()) fail(path, "expected {\"data\": [numbers]} or an array of numbers");
    if (data.size() % kPixels != 0)
      fail(path, fmt::format("{} numbers is not a whole number of 28x28 images ({} each)", data.size(), kPixels));
    for (size_t k = 0; k < data.size(); ++k) {
      const nlohmann::json& v = data[k];
      const double x = v.is_number() ? v.get<double>() : NAN;
      if (!(x >= 0.0 && x <= 1.0))
        fail(path, fmt::format("element {} (image {}, pixel {}) is {}, expected a number in [0,1]", k, k / kPixels,
                               k % kPixels, v.dump()));
      set.pixels.push_back(static_cast<float>(x));
    }
    set.labels.insert(set.labels.end(), data.size() / kPixels, digit);
  }
  return set;
}

ImageSplit split_images(const ImageSet& images, double test_fraction, std::uint64_t seed) {
  if (!(test_fraction >= 0.0 && test_fraction <= 1.0))
    throw std::invalid_argument(fmt::format("test fraction {} is not in [0,1]", test_fraction));
  std::vector<Index> order(images.size());
  std::iota(order.begin(), order.end(), Index{0});
  Rng rng(seed, 0);
  rng.sample_front(order, 0, order.size());
  const auto n_test = static_cast<size_t>(std::llround(test_fraction * static_cast<double>(order.size())));
  ImageSplit split{subset(images, std::vector<Index>(order.begin() + n_test, order.end())),
                   subset(images, std::vector<Index>(order.begin(), order.begin() + n_test))};
  split.train.source = fmt::format("{} (train part, test fraction {}, seed {})", images.source, test_fraction, seed);
  split.test.source = fmt::format("{} (test part, test fraction {}, seed {})", images.source, test_fraction, seed);
  return split;
}

ImageSet average_pool(const ImageSet& images, int factor) {
  check_pool(images, factor);
  ImageSet out;
  out.source = images.source;
  out.height = images.height / factor;
  out.width = images.width / factor;
  out.labels = images.labels;
  out.class_names = images.class_names;
  out.pixels.resize(images.size() * out.pixels_per_image());
  for (Index i = 0; i < images.size(); ++i)
    pool_image(images, i, factor, out.pixels.data() + i * out.pixels_per_image());
  return out;
}

TrainTest one_vs_rest_tasks(const ImageSplit& images, const OneVsRestOptions& options, CastOrigin* origin) {
  check_split(images, options.pool);
  if (options.train_pos < 0 || options.train_neg < 0 || options.test_pos < 0 || options.test_neg < 0)
    throw std::invalid_argument("one-vs-rest: negative row counts");
  Rng train_rng(options.seed, 1), test_rng(options.seed, 2);
  const Picks train = one_vs_rest_picks(images.train, options.train_pos, options.train_neg, options.disjoint,
                                        train_rng, "train");
  const Picks test =
      one_vs_rest_picks(images.test, options.test_pos, options.test_neg, options.disjoint, test_rng, "test");
  auto describe = [&](const ImageSet& set, Index pos, Index neg, const char* split) {
    return fmt::format("{} [{}] one-vs-rest: {} pos + {} neg per task{}, {} pixels, seed {}", set.source, split, pos,
                       neg, options.disjoint ? ", disjoint" : "", pool_text(set, options.pool), options.seed);
  };
  const auto& names = images.train.class_names;
  return {to_dataset(images.train, train, options.pool, names,
                     describe(images.train, options.train_pos, options.train_neg, "train"),
                     origin ? &origin->train_image : nullptr),
          to_dataset(images.test, test, options.pool, names,
                     describe(images.test, options.test_pos, options.test_neg, "test"),
                     origin ? &origin->test_image : nullptr)};
}

TrainTest grouped_tasks(const ImageSplit& images, const std::vector<ClassGroup>& groups, const GroupOptions& options,
                        CastOrigin* origin) {
  check_split(images, options.pool);
  if (groups.empty()) throw std::invalid_argument("grouped: no groups");
  if (options.train_per_task < 0 || options.test_per_task < 0)
    throw std::invalid_argument("grouped: negative row counts");
  Rng train_rng(options.seed, 1), test_rng(options.seed, 2);
  const Picks train = grouped_picks(images.train, groups, options.train_per_task, train_rng, "train");
  const Picks test = grouped_picks(images.test, groups, options.test_per_task, test_rng, "test");
  for (size_t g = 0; g < groups.size(); ++g)
    if (train[g].empty())
      throw std::invalid_argument(fmt::format("grouped: group '{}' has no training images", groups[g].name));
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(g.name);
  auto describe = [&](const ImageSet& set, Index per_task, const char* split) {
    return fmt::format("{} [{}] grouped (target = class within group): {} rows per task, {} pixels, seed {}",
                       set.source, split, per_task > 0 ? std::to_string(per_task) : std::string("all"),
                       pool_text(set, options.pool), options.seed);
  };
  return {to_dataset(images.train, train, options.pool, names, describe(images.train, options.train_per_task, "train"),
                     origin ? &origin->train_image : nullptr),
          to_dataset(images.test, test, options.pool, names, describe(images.test, options.test_per_task, "test"),
                     origin ? &origin->test_image : nullptr)};
}

}  // namespace mtif
