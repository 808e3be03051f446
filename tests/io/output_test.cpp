#include <algorithm>
// Output files: AtomicFile (complete or absent), .npy matrices, JSON files,
// and the CSV writer of generated data read back by the CSV reader.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "io/io_test_util.hpp"
#include "mtif/csv_reader.hpp"
#include "mtif/output.hpp"
#include "mtif/synthetic.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

using test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) { return std::filesystem::exists(path); }

// ---------------------------------------------------------------- AtomicFile

TEST(AtomicFile, CommitWritesEverythingAndLeavesNoTemporary) {
  TempDir dir;
  std::string path = dir.file("out.csv");
  {
    AtomicFile f(path);
    f.write("abc", 3);
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), ",{}\n", 42);
    f.write(buf);
    EXPECT_EQ(buf.size(), 0u);  // written and cleared
    EXPECT_FALSE(exists(path)) << "visible before commit";
    f.commit();
  }
  EXPECT_EQ(slurp(path), "abc,42\n");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out.csv"}));
}

TEST(AtomicFile, WithoutCommitNothingIsLeft) {
  TempDir dir;
  std::string path = dir.file("out.csv");
  {
    AtomicFile f(path);
    f.write("partial", 7);
  }
  EXPECT_FALSE(exists(path));
  EXPECT_TRUE(dir.list().empty());
}

TEST(AtomicFile, AnExceptionBeforeCommitKeepsTheOldFile) {
  TempDir dir;
  std::string path = dir.write("out.csv", "old\n");
  try {
    AtomicFile f(path);
    f.write("new", 3);
    throw std::runtime_error("fails half-way");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(slurp(path), "old\n");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"out.csv"}));
}

TEST(AtomicFile, CommitReplacesTheOldFile) {
  TempDir dir;
  std::string path = dir.write("out.csv", "old old old\n");
  AtomicFile f(path);
  f.write("new\n", 4);
  f.commit();
  EXPECT_EQ(slurp(path), "new\n");
}

TEST(AtomicFile, UnwritableFolderThrows) {
  TempDir dir;
  EXPECT_THROW(AtomicFile(dir.file("no/such/folder/out.csv")), std::runtime_error);
}

// --------------------------------------------------------------------- .npy

TEST(Npy, RoundTripIsExact) {
  TempDir dir;
  MatrixXd m(3, 4);
  for (Index i = 0; i < 3; ++i)
    for (Index j = 0; j < 4; ++j) m(i, j) = (i + 1) * 0.1 - j * 1e-300 + j * 1e17;
  m(2, 3) = std::numeric_limits<double>::denorm_min();
  m(0, 0) = -0.0;
  std::string path = dir.file("m.npy");
  write_npy(path, m);
  MatrixXd back = read_npy(path);
  ASSERT_EQ(back.rows(), 3);
  ASSERT_EQ(back.cols(), 4);
  EXPECT_EQ(std::memcmp(back.data(), m.data(), sizeof(double) * m.size()), 0);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"m.npy"}));
}

TEST(Npy, FileLayoutFollowsTheNumpyFormat) {
  TempDir dir;
  MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  std::string path = dir.file("m.npy");
  write_npy(path, m);
  std::string bytes = slurp(path);
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ(bytes[7], 0);
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u) << "data must start 64-byte aligned";
  ASSERT_EQ(bytes.size(), 10 + header_len + 6 * sizeof(double));
  std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f8'"), std::string::npos) << header;
  EXPECT_NE(header.find("'fortran_order': False"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (2, 3)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
  // C order: the row 1 2 3 comes first.
  double first[3];
  std::memcpy(first, bytes.data() + 10 + header_len, sizeof first);
  EXPECT_EQ(first[0], 1);
  EXPECT_EQ(first[1], 2);
  EXPECT_EQ(first[2], 3);
}

TEST(Npy, EmptyAndOneColumnMatrices) {
  TempDir dir;
  MatrixXd empty(0, 5);
  write_npy(dir.file("e.npy"), empty);
  MatrixXd e = read_npy(dir.file("e.npy"));
  EXPECT_EQ(e.rows(), 0);
  EXPECT_EQ(e.cols(), 5);
  MatrixXd col(4, 1);
  col << 1, 2, 3, 4;
  write_npy(dir.file("c.npy"), col);
  EXPECT_EQ(read_npy(dir.file("c.npy")), col);
}

TEST(Npy, ReadsAOneDimensionalArrayAsAColumn) {
  TempDir dir;
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes.push_back(static_cast<char>(header.size()));
  bytes.push_back(0);
  bytes += header;
  const double v[3] = {1.5, -2.5, 3.5};
  bytes.append(reinterpret_cast<const char*>(v), sizeof v);
  MatrixXd m = read_npy(dir.write("v.npy", bytes));
  ASSERT_EQ(m.rows(), 3);
  ASSERT_EQ(m.cols(), 1);
  EXPECT_EQ(m(1, 0), -2.5);
}

TEST(Npy, RefusesOtherFilesAndTruncatedData) {
  TempDir dir;
  EXPECT_THROW(read_npy(dir.file("missing.npy")), std::runtime_error);
  EXPECT_THROW(read_npy(dir.write("text.npy", "task,y,a\nt,1,2\n")), std::runtime_error);
  MatrixXd m = MatrixXd::Ones(4, 4);
  write_npy(dir.file("m.npy"), m);
  std::string bytes = slurp(dir.file("m.npy"));
  EXPECT_THROW(read_npy(dir.write("short.npy", bytes.substr(0, bytes.size() - 8))), std::runtime_error);
  std::string f4 = bytes;
  f4.replace(f4.find("<f8"), 3, "<f4");
  EXPECT_THROW(read_npy(dir.write("f4.npy", f4)), std::runtime_error);
}

// --------------------------------------------------------------------- JSON

TEST(Json, WriteThenReadBack) {
  TempDir dir;
  nlohmann::json j = {{"a", 1.0 / 3.0}, {"b", {"x", "y"}}, {"c", nullptr}};
  write_json_file(dir.file("s.json"), j);
  nlohmann::json back = read_json_file(dir.file("s.json"));
  EXPECT_EQ(back, j);
  EXPECT_EQ(back["a"].get<double>(), 1.0 / 3.0);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"s.json"}));
}

TEST(Json, RefusesMissingAndInvalidFiles) {
  TempDir dir;
  EXPECT_THROW(read_json_file(dir.file("none.json")), std::runtime_error);
  EXPECT_THROW(read_json_file(dir.write("bad.json", "{\"a\": ")), std::runtime_error);
}

// ------------------------------------------------- write_dataset_csv round trip

void expect_same(const Dataset& a, const Dataset& b) {
  EXPECT_EQ(a.feature_names, b.feature_names);
  EXPECT_EQ(a.task_names, b.task_names);
  EXPECT_EQ(a.task_begin, b.task_begin);
  EXPECT_EQ(a.file_row, b.file_row);
  ASSERT_EQ(a.X.rows(), b.X.rows());
  ASSERT_EQ(a.X.cols(), b.X.cols());
  EXPECT_EQ(a.X, b.X);  // bit-exact: numbers are written to round-trip
  EXPECT_EQ(a.y, b.y);
}

TEST(WriteDatasetCsv, RoundTripThroughTheReader) {
  TempDir dir;
  TrainTest tt = test::make_data(12, 5, {7, 3, 11, 2, 5, 6, 4, 8, 9, 1, 3, 5}, 4);  // task10, task11: natural order
  write_dataset_csv(tt.train, dir.file("train.csv"));
  write_dataset_csv(tt.test, dir.file("test.csv"));
  EXPECT_EQ(slurp(dir.file("train.csv")).substr(0, 7), "task,y,");
  TrainTest back = read_train_test(dir.file("train.csv"), dir.file("test.csv"), {});
  expect_same(back.train, tt.train);
  expect_same(back.test, tt.test);
}

TEST(WriteDatasetCsv, RoundTripOfLogisticData) {
  TempDir dir;
  TrainTest tt = test::make_data(3, 2, {20}, 10, LossKind::Logistic, 5);
  write_dataset_csv(tt.train, dir.file("train.csv"));
  write_dataset_csv(tt.test, dir.file("test.csv"));
  TrainTest back = read_train_test(dir.file("train.csv"), dir.file("test.csv"), {});
  expect_same(back.train, tt.train);
  for (Index i = 0; i < back.train.num_rows(); ++i) EXPECT_TRUE(back.train.y(i) == 0 || back.train.y(i) == 1);
}

TEST(WriteDatasetCsv, ExtremeValuesRoundTrip) {
  TempDir dir;
  RawRows r;
  r.feature_names = {"a", "b"};
  r.task_names = {"only"};
  r.task = {0, 0};
  r.y = {1e-310, -1.7976931348623157e308};
  r.values = {0.1, 1.0 / 3.0, -2.5e-8, 123456789.123456789};
  Dataset d = make_dataset(r, "mem");
  write_dataset_csv(d, dir.file("x.csv"));
  dir.write("t.csv", "task,y,a,b\nonly,0,0,0\n");
  TrainTest back = read_train_test(dir.file("x.csv"), dir.file("t.csv"), {});
  expect_same(back.train, d);
}

// Task labels holding a comma or a double quote are quoted, so they read back.
TEST(WriteDatasetCsv, TaskLabelsWithCommasRoundTrip) {
  TempDir dir;
  RawRows r;
  r.feature_names = {"a"};
  r.task_names = {"x, y", "say \"hi\""};
  r.task = {0, 1};
  r.y = {1, 2};
  r.values = {3, 4};
  Dataset d = make_dataset(r, "mem");
  write_dataset_csv(d, dir.file("x.csv"));
  TrainTest back = read_train_test(dir.file("x.csv"), dir.file("x.csv"), {});
  EXPECT_EQ(back.train.num_rows(), 2);
  std::vector<std::string> expected = d.task_names, got = back.train.task_names;
  std::sort(expected.begin(), expected.end());
  std::sort(got.begin(), got.end());  // the reader orders tasks by label
  EXPECT_EQ(got, expected);
}

}  // namespace
}  // namespace mtif
