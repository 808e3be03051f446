#include "mtif/npy.hpp"

#include <fmt/format.h>

#include <cctype>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "mtif/output.hpp"

namespace mtif {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

// Messages quote pieces of the header, which may hold any byte: control
// characters become '?' so the message stays one line (found by npy_reader_fuzz).
[[noreturn]] void fail_at(const std::string& path, size_t byte, std::string message) {
  for (char& c : message)
    if (static_cast<unsigned char>(c) < 32 || c == 127) c = '?';
  throw DataError(fmt::format("{}: byte {}: {}", path, byte, message));
}

// Parser of the header text, a Python dict literal such as
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// `base` is the header's offset in the file, so errors name file bytes.
class HeaderParser {
 public:
  HeaderParser(std::string path, std::string text, size_t base)
      : path_(std::move(path)), text_(std::move(text)), base_(base) {}

  void parse(NpyHeader& h) {
    if (text_.empty() || text_.back() != '\n') fail(text_.size(), "the header does not end with a newline");
    expect('{');
    bool have_descr = false, have_order = false, have_shape = false;
    while (true) {
      skip_blanks();
      if (peek() == '}') break;
      const size_t key_at = pos_;
      const std::string key = quoted();
      expect(':');
      bool* seen = key == "descr" ? &have_descr : key == "fortran_order" ? &have_order
                                                 : key == "shape"       ? &have_shape
                                                                        : nullptr;
      if (!seen) fail(key_at, fmt::format("unknown header key '{}'", key));
      if (*seen) fail(key_at, fmt::format("header key '{}' appears twice", key));
      *seen = true;
      if (key == "descr") parse_descr(h);
      if (key == "fortran_order") parse_order();
      if (key == "shape") parse_shape(h);
      skip_blanks();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail(pos_, "expected ',' or '}' in the header");
    }
    ++pos_;
    skip_blanks();
    if (pos_ != text_.size()) fail(pos_, "unexpected text after the header dictionary");
    if (!have_descr || !have_order || !have_shape)
      fail(0, fmt::format("the header lacks '{}'", !have_descr ? "descr" : !have_order ? "fortran_order" : "shape"));
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& message) const { fail_at(path_, base_ + at, message); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_blanks() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_blanks();
    if (peek() != c) fail(pos_, fmt::format("expected '{}' in the header", c));
    ++pos_;
  }
  std::string quoted() {
    skip_blanks();
    const char q = peek();
    if (q != '\'' && q != '"') fail(pos_, "expected a quoted string in the header");
    const size_t end = text_.find(q, pos_ + 1);
    if (end == std::string::npos) fail(pos_, "unclosed string in the header");
    std::string s = text_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return s;
  }

  void parse_descr(NpyHeader& h) {
    skip_blanks();
    const size_t at = pos_;
    const std::string d = quoted();
    if (d.size() < 3) fail(at, fmt::format("unsupported dtype '{}'", d));
    const char order = d[0], kind = d[1];
    const std::string size = d.substr(2);
    if (order == '>') fail(at, fmt::format("dtype '{}' is big-endian; only little-endian data is read", d));
    if (order != '<' && order != '|' && order != '=')
      fail(at, fmt::format("unsupported dtype '{}'", d));
    const bool float_ok = kind == 'f' && (size == "4" || size == "8");
    const bool int_ok = (kind == 'i' || kind == 'u') && (size == "1" || size == "2" || size == "4" || size == "8");
    if (!float_ok && !int_ok)
      fail(at, fmt::format("unsupported dtype '{}' (float32, float64 or an integer type expected)", d));
    h.kind = kind;
    h.item_size = std::stoi(size);
  }

  void parse_order() {
    skip_blanks();
    const size_t at = pos_;
    if (text_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return;
    }
    if (text_.compare(pos_, 4, "True") == 0)
      fail(at, "fortran_order is True; only C-order arrays are read (save np.ascontiguousarray(a))");
    fail(at, "fortran_order must be True or False");
  }

  void parse_shape(NpyHeader& h) {
    expect('(');
    h.shape.clear();
    while (true) {
      skip_blanks();
      if (peek() == ')') break;
      const size_t at = pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail(at, "the shape must hold non-negative integers");
      unsigned long long v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        v = v * 10 + static_cast<unsigned>(text_[pos_++] - '0');
        if (v > static_cast<unsigned long long>(std::numeric_limits<Index>::max() / 16))
          fail(at, "a dimension of the shape is too large");
      }
      h.shape.push_back(static_cast<Index>(v));
      skip_blanks();
      if (peek() == ',') ++pos_;
      else if (peek() != ')') fail(pos_, "expected ',' or ')' in the shape");
    }
    const size_t at = pos_;
    ++pos_;
    if (h.shape.empty() || h.shape.size() > 2)
      fail(at, fmt::format("the array has {} dimensions; only 1-D and 2-D arrays are read", h.shape.size()));
  }

  std::string path_, text_;
  size_t base_;
  size_t pos_ = 0;
};

template <typename T>
void convert(const char* bytes, Index count, double* out) {
  for (Index i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, bytes + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

void convert_elements(const NpyHeader& h, const char* bytes, Index count, double* out) {
  switch (h.kind * 16 + h.item_size) {
    case 'f' * 16 + 8: convert<double>(bytes, count, out); break;
    case 'f' * 16 + 4: convert<float>(bytes, count, out); break;
    case 'i' * 16 + 1: convert<int8_t>(bytes, count, out); break;
    case 'i' * 16 + 2: convert<int16_t>(bytes, count, out); break;
    case 'i' * 16 + 4: convert<int32_t>(bytes, count, out); break;
    case 'i' * 16 + 8: convert<int64_t>(bytes, count, out); break;
    case 'u' * 16 + 1: convert<uint8_t>(bytes, count, out); break;
    case 'u' * 16 + 2: convert<uint16_t>(bytes, count, out); break;
    case 'u' * 16 + 4: convert<uint32_t>(bytes, count, out); break;
    case 'u' * 16 + 8: convert<uint64_t>(bytes, count, out); break;
    default: throw DataError(h.path + ": unsupported dtype");
  }
}

uint32_t little_endian(const unsigned char* b, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

std::ifstream open_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open the file for reading");
  return in;
}

}  // namespace

std::string NpyHeader::shape_text() const {
  return shape.size() == 1 ? fmt::format("({},)", shape[0]) : fmt::format("({}, {})", shape[0], cols());
}

NpyHeader read_npy_header(std::istream& in, const std::string& path) {
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  if (!in || end < 0) throw DataError(path + ": cannot read the file (not seekable)");
  const auto file_size = static_cast<size_t>(end);
  in.seekg(0);
  unsigned char start[12] = {};
  in.read(reinterpret_cast<char*>(start), static_cast<std::streamsize>(std::min<size_t>(file_size, sizeof start)));
  if (file_size < 10 || std::memcmp(start, kMagic, 6) != 0)
    fail_at(path, 0, "not a .npy file (it does not start with \\x93NUMPY)");
  const int major = start[6], minor = start[7];
  if (major < 1 || major > 3 || minor != 0)
    fail_at(path, 6, fmt::format("unsupported .npy version {}.{} (1.0, 2.0 and 3.0 are read)", major, minor));
  const int length_bytes = major == 1 ? 2 : 4;
  if (file_size < size_t(8 + length_bytes)) fail_at(path, 8, "the file ends inside the header length");
  const size_t header_start = 8 + length_bytes;
  const size_t header_length = little_endian(start + 8, length_bytes);
  if (header_start + header_length > file_size)
    fail_at(path, 8, fmt::format("header length {} runs past the end of the file ({} bytes)", header_length, file_size));
  std::string text(header_length, '\0');
  in.clear();
  in.seekg(static_cast<std::streamoff>(header_start));
  in.read(text.data(), static_cast<std::streamsize>(header_length));
  if (!in) throw DataError(path + ": cannot read the header");

  NpyHeader h;
  h.path = path;
  HeaderParser(path, std::move(text), header_start).parse(h);
  h.data_offset = header_start + header_length;
  // Shape x item size must account for every byte after the header.
  size_t expected = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(h.rows()), static_cast<size_t>(h.cols()), &expected) ||
      __builtin_mul_overflow(expected, static_cast<size_t>(h.item_size), &expected))
    fail_at(path, h.data_offset, fmt::format("shape {} of {}-byte elements needs more bytes than a file can hold",
                                             h.shape_text(), h.item_size));
  const size_t actual = file_size - h.data_offset;
  if (expected != actual)
    fail_at(path, h.data_offset,
            fmt::format("the data holds {} bytes but shape {} of {}-byte elements needs {}", actual, h.shape_text(),
                        h.item_size, expected));
  return h;
}

NpyHeader read_npy_header(const std::string& path) {
  std::ifstream in = open_binary(path);
  return read_npy_header(in, path);
}

void read_npy_values(const NpyHeader& h, std::istream& in, Index row_begin, Index row_end, double* out) {
  if (row_begin < 0 || row_end > h.rows() || row_begin > row_end)
    throw DataError(fmt::format("{}: rows {}..{} are outside the array's {} rows", h.path, row_begin, row_end, h.rows()));
  in.clear();
  in.seekg(static_cast<std::streamoff>(h.data_offset + size_t(row_begin) * h.cols() * h.item_size));
  // Converted in pieces of at most 4 MiB: the raw bytes never exist in full beside the doubles.
  const Index count = (row_end - row_begin) * h.cols();
  const Index piece = std::max<Index>(1, (Index{4} << 20) / static_cast<Index>(h.item_size));
  std::vector<char> bytes(static_cast<size_t>(std::min(count, piece)) * h.item_size);
  for (Index done = 0; done < count; done += piece) {
    const Index now = std::min(piece, count - done);
    in.read(bytes.data(), static_cast<std::streamsize>(now * h.item_size));
    if (!in) throw DataError(h.path + ": cannot read the data (the file changed while it was read?)");
    convert_elements(h, bytes.data(), now, out + done);
  }
}

void read_npy_values(const NpyHeader& h, Index row_begin, Index row_end, double* out) {
  std::ifstream in = open_binary(h.path);
  read_npy_values(h, in, row_begin, row_end, out);
}

NpyRows read_npy_rows(const NpyHeader& h, std::istream& in, Index row_begin, Index row_end) {
  NpyRows out(std::max<Index>(0, row_end - row_begin), h.cols());
  read_npy_values(h, in, row_begin, row_end, out.data());
  return out;
}

NpyRows read_npy_rows(const NpyHeader& h, Index row_begin, Index row_end) {
  std::ifstream in = open_binary(h.path);
  return read_npy_rows(h, in, row_begin, row_end);
}

MatrixXd read_npy(const std::string& path) {
  NpyHeader h = read_npy_header(path);
  return read_npy_rows(h, 0, h.rows());
}

// ------------------------------------------------------------ data sets

std::string NpyFolder::path(const std::string& name) const { return (std::filesystem::path(dir) / name).string(); }

bool NpyFolder::has(const std::string& name) const {
  return in_memory ? files.count(name) > 0 : std::filesystem::exists(path(name));
}

std::unique_ptr<std::istream> NpyFolder::open(const std::string& name) const {
  if (!in_memory) return std::make_unique<std::ifstream>(open_binary(path(name)));
  const auto file = files.find(name);
  if (file == files.end()) throw DataError(path(name) + ": cannot open the file for reading");
  return std::make_unique<std::istringstream>(file->second, std::ios::binary);
}

namespace {

// A 1-D array (or one column) of n values; rows [begin, end) of it.
VectorXd read_column(const NpyHeader& h, std::istream& in, Index n, const std::string& rows_from, Index begin,
                     Index end) {
  if (h.cols() != 1 || h.rows() != n)
    throw DataError(fmt::format("{}: shape {} does not match the {} rows of {} (expected ({},) or ({}, 1))", h.path,
                                h.shape_text(), n, rows_from, n, n));
  return read_npy_rows(h, in, begin, end).col(0);
}

// first_row: the file row of values' first row, for the message.
void check_finite(const std::string& path, const Eigen::Ref<const NpyRows>& values, Index first_row = 0) {
  for (Index i = 0; i < values.rows(); ++i)
    for (Index j = 0; j < values.cols(); ++j)
      if (!std::isfinite(values(i, j)))
        throw DataError(fmt::format("{}: row {}, column {}: value {} (features and targets must be finite)", path,
                                    first_row + i, j, values(i, j)));
}

// Rows [begin, end) of X.npy straight into the data set's X, a few MiB at a time: the
// features never exist twice in memory.
void fill_features(const NpyHeader& xh, std::istream& x_in, Index begin, Index end, Dataset& data) {
  const Index d = xh.cols();
  const Index piece = std::max<Index>(1, (Index{4} << 20) / (8 * std::max<Index>(d, 1)));
  const std::vector<Index> stored_row = data.stored_row_of_file_row();
  std::vector<double> rows(static_cast<size_t>(std::min(piece, end - begin) * d));
  for (Index first = begin; first < end; first += piece) {
    const Index count = std::min(piece, end - first);
    read_npy_values(xh, x_in, first, first + count, rows.data());
    check_finite(xh.path, Eigen::Map<const NpyRows>(rows.data(), count, d), first);
    fill_rows(data, stored_row, first - begin, count, rows.data());
  }
}

std::vector<std::string> read_task_labels(std::istream& in, const std::string& path) {
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty())
      throw DataError(fmt::format("{}:{}: empty task label", path, labels.size() + 1));
    labels.push_back(line);
  }
  return labels;
}

std::vector<int> task_ids(const std::string& path, const VectorXd& ids, int num_tasks) {
  std::vector<int> out(ids.size());
  for (Index i = 0; i < ids.size(); ++i) {
    const double v = ids(i);
    if (v < 0 || v >= num_tasks)
      throw DataError(fmt::format("{}: row {}: task id {} is outside 0..{}", path, i, v, num_tasks - 1));
    out[i] = static_cast<int>(v);
  }
  return out;
}

}  // namespace

Dataset read_npy_dataset(const NpyFolder& folder, const Dataset* tasks_of, Index row_begin, Index row_end) {
  const std::string x_path = folder.path("X.npy"), y_path = folder.path("y.npy"), task_path = folder.path("task.npy");
  const auto x_in = folder.open("X.npy");
  NpyHeader xh = read_npy_header(*x_in, x_path);
  if (xh.kind != 'f' || xh.shape.size() != 2)
    throw DataError(fmt::format("{}: features must be a 2-D float32 or float64 array (got shape {}, {} of {} bytes)",
                                x_path, xh.shape_text(), xh.kind == 'f' ? "float" : "integers", xh.item_size));
  const Index n = xh.rows(), d = xh.cols();
  // Only rows [begin, end) of X and y are read (one MPI rank's share); the
  // task ids of every row are read, for the task count and the whole set's n_k.
  const Index begin = std::clamp<Index>(row_begin, 0, n), end = row_end < 0 ? n : std::clamp<Index>(row_end, begin, n);
  const bool slice = begin != 0 || end != n;
  RawRows raw;  // all but the features, which fill_features reads into the data set's X
  const auto y_in = folder.open("y.npy");
  VectorXd y = read_column(read_npy_header(*y_in, y_path), *y_in, n, x_path, begin, end);
  check_finite(y_path, y);
  const auto task_in = folder.open("task.npy");
  const NpyHeader th = read_npy_header(*task_in, task_path);
  if (th.kind == 'f') throw DataError(task_path + ": task ids must be an integer array (e.g. np.int32)");
  VectorXd all_ids = read_column(th, *task_in, n, x_path, 0, n);
  VectorXd ids = all_ids.segment(begin, end - begin);

  for (Index j = 0; j < d; ++j) raw.feature_names.push_back(fmt::format("x{}", j + 1));
  if (tasks_of) {
    if (tasks_of->feature_names != raw.feature_names)
      throw DataError(fmt::format("{}: {} features, but the training data has {}", x_path, d,
                                  tasks_of->feature_names.size()));
    raw.task_names = tasks_of->task_names;
  } else if (folder.has("tasks.txt")) {
    raw.task_names = read_task_labels(*folder.open("tasks.txt"), folder.path("tasks.txt"));
  } else {
    // Without tasks.txt the tasks are 0..max id, each with a training row, so an
    // id of n or more cannot be right (and one beyond int would overflow the cast).
    Index max_row = 0;
    const double max_id = n == 0 ? -1.0 : all_ids.maxCoeff(&max_row);
    if (max_id >= double(n))
      throw DataError(fmt::format("{}: row {}: task id {} but only {} rows: ids must be 0..K-1 with every task present "
                                  "(or name the tasks in tasks.txt)", task_path, max_row, max_id, n));
    const int K = n == 0 ? 0 : static_cast<int>(std::max(0.0, max_id)) + 1;
    for (int k = 0; k < K; ++k) raw.task_names.push_back(std::to_string(k));
  }
  const int K = static_cast<int>(raw.task_names.size());
  std::vector<int> all_tasks = task_ids(task_path, all_ids, K);  // checks every row's id
  raw.task.assign(all_tasks.begin() + begin, all_tasks.begin() + end);
  raw.y.assign(y.data(), y.data() + y.size());
  Dataset out = make_dataset_layout(raw, folder.dir);  // file rows renumbered from 0, as slice_file_rows does
  fill_features(xh, *x_in, begin, end, out);
  if (slice) {
    out.task_size.assign(K, 0);
    for (int k : all_tasks) ++out.task_size[k];
  }
  return out;
}

Dataset read_npy_dataset(const std::string& dir, const Dataset* tasks_of, Index row_begin, Index row_end) {
  return read_npy_dataset(NpyFolder{dir, false, {}}, tasks_of, row_begin, row_end);
}

Index npy_dataset_rows(const std::string& dir) {
  return read_npy_header((std::filesystem::path(dir) / "X.npy").string()).rows();
}

TrainTest read_npy_train_test(const std::string& train_dir, const std::string& test_dir, Index row_begin,
                              Index row_end) {
  TrainTest out;
  out.train = read_npy_dataset(train_dir, nullptr, row_begin, row_end);
  const std::string task_path = (std::filesystem::path(train_dir) / "task.npy").string();
  if (npy_dataset_rows(train_dir) == 0) throw DataError(train_dir + ": no training rows");
  for (int k = 0; k < out.train.num_tasks(); ++k)
    if (out.train.task_n(k) == 0)
      throw DataError(fmt::format("{}: task '{}' (id {}) has no training rows", task_path, out.train.task_names[k], k));
  out.test = read_npy_dataset(test_dir, &out.train);
  return out;
}

}  // namespace mtif
