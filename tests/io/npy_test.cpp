// The .npy reader: good files of every supported dtype and version, each kind
// of bad header (with the byte offset the message must name), and the .npy
// form of a data set.
#include "mtif/npy.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "io/io_test_util.hpp"
#include "mtif/output.hpp"

namespace mtif::test {
namespace {

// A .npy file with the given header dict (padded and ended with '\n' as NumPy does) and raw data.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = std::string("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back(0);
  const size_t n = header.size();
  for (size_t i = 0; i < prefix - 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string dict(const std::string& descr, const std::string& shape, const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

TEST(NpyRead, Float64AndFloat32In2D) {
  TempDir dir;
  std::string f8 = dir.write("f8.npy", npy_bytes(dict("<f8", "(2, 3)"), raw<double>({1, 2, 3, 4, 5, 6.25})));
  MatrixXd m = read_npy(f8);
  ASSERT_EQ(m.rows(), 2);
  ASSERT_EQ(m.cols(), 3);
  EXPECT_EQ(m(1, 0), 4);
  EXPECT_EQ(m(1, 2), 6.25);
  std::string f4 = dir.write("f4.npy", npy_bytes(dict("<f4", "(3, 1)"), raw<float>({0.1f, -2.5f, 3})));
  MatrixXd v = read_npy(f4);
  EXPECT_EQ(v(0, 0), static_cast<double>(0.1f));  // widened exactly, not re-rounded
  EXPECT_EQ(v(1, 0), -2.5);
}

TEST(NpyRead, IntegerTypesAndVersion2Header) {
  TempDir dir;
  MatrixXd a = read_npy(dir.write("i4.npy", npy_bytes(dict("<i4", "(3,)"), raw<int32_t>({-1, 0, 7}))));
  EXPECT_EQ(a(0, 0), -1);
  EXPECT_EQ(a(2, 0), 7);
  MatrixXd b = read_npy(dir.write("u1.npy", npy_bytes(dict("|u1", "(2,)"), raw<uint8_t>({200, 3}))));
  EXPECT_EQ(b(0, 0), 200);
  MatrixXd c = read_npy(dir.write("v2.npy", npy_bytes(dict("<i8", "(2,)"), raw<int64_t>({5, 6}), 2)));
  EXPECT_EQ(c(1, 0), 6);
}

TEST(NpyRead, ReadsOnlyTheAskedRows) {
  TempDir dir;
  std::string p = dir.write("m.npy", npy_bytes(dict("<f8", "(4, 2)"), raw<double>({0, 1, 10, 11, 20, 21, 30, 31})));
  NpyHeader h = read_npy_header(p);
  NpyRows rows = read_npy_rows(h, 1, 3);
  ASSERT_EQ(rows.rows(), 2);
  EXPECT_EQ(rows(0, 0), 10);
  EXPECT_EQ(rows(1, 1), 21);
  EXPECT_THROW(read_npy_rows(h, 3, 5), DataError);
}

TEST(NpyRead, BadMagicVersionAndHeaderLength) {
  TempDir dir;
  std::string good = npy_bytes(dict("<f8", "(1,)"), raw<double>({1}));
  std::string p = dir.write("text.npy", "task,y\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte 0:", {"not a .npy file"}));
  std::string v9 = good;
  v9[6] = 9;
  p = dir.write("v9.npy", v9);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte 6:", {"version 9.0"}));
  std::string long_header = good;
  long_header[9] = 0x7f;
  p = dir.write("len.npy", long_header);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte 8:", {"runs past the end"}));
}

TEST(NpyRead, BadDtypeOrderAndShapeNameTheirByte) {
  TempDir dir;
  const std::string eight = raw<double>({1, 2});
  struct Case {
    std::string dict, needle, message;
  };
  const std::vector<Case> cases = {
      {dict(">f8", "(2,)"), "'>f8'", "big-endian"},
      {dict("<c16", "(1,)"), "'<c16'", "unsupported dtype"},
      {dict("<f2", "(8,)"), "'<f2'", "unsupported dtype"},
      {dict("<f8", "(2,)", "True"), "True", "C-order"},
      {dict("<f8", "(1, 1, 2)"), ")", "3 dimensions"},
      {dict("<f8", "()"), ")", "0 dimensions"},
      {dict("<f8", "(-2,)"), "-2", "non-negative"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}", "'extra'", "unknown header key"},
      {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", "'descr': '<f8', 'f",
       "appears twice"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::string p = dir.write("bad" + std::to_string(i) + ".npy", npy_bytes(c.dict, eight));
    size_t at = c.dict.find(c.needle);
    if (c.message == "appears twice") at = c.dict.rfind("'descr'");
    if (c.message.find("dimensions") != std::string::npos) at = c.dict.find(')');
    EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte " + std::to_string(10 + at) + ":", {c.message}))
        << c.dict;
  }
}

TEST(NpyRead, MissingKeyAndMissingNewline) {
  TempDir dir;
  std::string p = dir.write("nokey.npy", npy_bytes("{'descr': '<f8', 'shape': (1,), }", raw<double>({1})));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte 10:", {"lacks 'fortran_order'"}));
  std::string bytes = npy_bytes(dict("<f8", "(1,)"), raw<double>({1}));
  const size_t header_end = 10 + (static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8));
  bytes[header_end - 1] = ' ';
  p = dir.write("nonl.npy", bytes);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte " + std::to_string(header_end) + ":",
                              {"does not end with a newline"}));
}

TEST(NpyRead, ShapeMustMatchTheFileSize) {
  TempDir dir;
  const std::string d = dict("<f8", "(3, 2)");
  std::string full = npy_bytes(d, raw<double>({1, 2, 3, 4, 5, 6}));
  const size_t data_at = full.size() - 48;
  std::string p = dir.write("short.npy", full.substr(0, full.size() - 8));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte " + std::to_string(data_at) + ":",
                              {"holds 40 bytes", "(3, 2)", "needs 48"}));
  p = dir.write("long.npy", full + "xx");
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte " + std::to_string(data_at) + ":",
                              {"holds 50 bytes", "needs 48"}));
  // float32 data declared as float64: the size gives it away.
  std::string f4_as_f8 = npy_bytes(dict("<f8", "(4,)"), raw<float>({1, 2, 3, 4}));
  p = dir.write("f4f8.npy", f4_as_f8);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy(p); }, p + ": byte", {"needs 32"}));
}

// ------------------------------------------------------------ data sets

struct NpyData {
  std::vector<double> X;  // row-major
  Index d = 2;
  std::vector<double> y;
  std::vector<int32_t> task;
};

void write_npy_dir(const TempDir& dir, const std::string& name, const NpyData& data) {
  std::filesystem::create_directories(dir.path() / name);
  const Index n = static_cast<Index>(data.y.size());
  dir.write(name + "/X.npy", npy_bytes(dict("<f8", "(" + std::to_string(n) + ", " + std::to_string(data.d) + ")"),
                                       raw<double>(data.X)));
  dir.write(name + "/y.npy", npy_bytes(dict("<f8", "(" + std::to_string(n) + ",)"), raw<double>(data.y)));
  dir.write(name + "/task.npy", npy_bytes(dict("<i4", "(" + std::to_string(n) + ",)"), raw<int32_t>(data.task)));
}

NpyData small_data() { return {{1, 2, 3, 4, 5, 6, 7, 8}, 2, {0.5, 1.5, 2.5, 3.5}, {1, 0, 1, 0}}; }

TEST(NpyDataset, ReadsGroupedByTaskWithFileRows) {
  TempDir dir;
  write_npy_dir(dir, "train", small_data());
  write_npy_dir(dir, "test", small_data());
  TrainTest tt = read_npy_train_test(dir.file("train"), dir.file("test"));
  const Dataset& train = tt.train;
  ASSERT_EQ(train.num_tasks(), 2);
  EXPECT_EQ(train.task_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(train.feature_names, (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(train.task_rows(0), 2);
  // Task 0 holds file rows 1 and 3.
  EXPECT_EQ(train.file_row[0], 1);
  EXPECT_EQ(train.X(0, 0), 3);
  EXPECT_EQ(train.y(1), 3.5);
  EXPECT_EQ(tt.test.num_rows(), 4);
}

TEST(NpyDataset, TaskLabelsFromTasksTxt) {
  TempDir dir;
  write_npy_dir(dir, "train", small_data());
  write_npy_dir(dir, "test", small_data());
  dir.write("train/tasks.txt", "alpha\nbeta\n");
  TrainTest tt = read_npy_train_test(dir.file("train"), dir.file("test"));
  EXPECT_EQ(tt.train.task_names, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(tt.test.task_names, tt.train.task_names);
}

TEST(NpyDataset, RefusesBadContents) {
  TempDir dir;
  NpyData nan = small_data();
  nan.X[5] = std::nan("");
  write_npy_dir(dir, "nan", nan);
  write_npy_dir(dir, "good", small_data());
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("nan")); }, dir.file("nan/X.npy") + ": row 2, column 1:",
                              {"nan"}));
  NpyData negative = small_data();
  negative.task[2] = -1;
  write_npy_dir(dir, "negative", negative);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("negative")); }, dir.file("negative/task.npy") + ": row 2:",
                              {"task id -1"}));
  NpyData gap = small_data();
  gap.task = {0, 2, 2, 0};  // task 1 has no rows
  write_npy_dir(dir, "gap", gap);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_train_test(dir.file("gap"), dir.file("good")); },
                              dir.file("gap/task.npy") + ":", {"task '1'", "no training rows"}));
  NpyData huge_id = small_data();
  huge_id.task[3] = 2147483647;  // int's maximum: max id + 1 would overflow; 4 rows cannot hold that many tasks
  write_npy_dir(dir, "huge_id", huge_id);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("huge_id")); }, dir.file("huge_id/task.npy") + ": row 3:",
                              {"task id 2147483647", "only 4 rows"}));
  NpyData unseen = small_data();
  unseen.task[0] = 5;
  write_npy_dir(dir, "unseen", unseen);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_train_test(dir.file("good"), dir.file("unseen")); },
                              dir.file("unseen/task.npy") + ": row 0:", {"outside 0..1"}));
  NpyData wide = small_data();
  wide.d = 4;
  wide.X.resize(16, 1.0);
  write_npy_dir(dir, "wide", wide);
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_train_test(dir.file("good"), dir.file("wide")); },
                              dir.file("wide/X.npy") + ":", {"4 features", "has 2"}));
}

TEST(NpyDataset, RefusesWrongDtypesAndLengths) {
  TempDir dir;
  write_npy_dir(dir, "d", small_data());
  dir.write("d/y.npy", npy_bytes(dict("<f8", "(3,)"), raw<double>({1, 2, 3})));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("d")); }, dir.file("d/y.npy") + ":",
                              {"shape (3,)", "4 rows"}));
  write_npy_dir(dir, "t", small_data());
  dir.write("t/task.npy", npy_bytes(dict("<f8", "(4,)"), raw<double>({0, 1, 0, 1})));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("t")); }, dir.file("t/task.npy") + ":", {"integer"}));
  write_npy_dir(dir, "x", small_data());
  dir.write("x/X.npy", npy_bytes(dict("<i8", "(4, 2)"), raw<int64_t>({1, 2, 3, 4, 5, 6, 7, 8})));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("x")); }, dir.file("x/X.npy") + ":", {"float32 or float64"}));
  write_npy_dir(dir, "v", small_data());
  dir.write("v/X.npy", npy_bytes(dict("<f8", "(8,)"), raw<double>({1, 2, 3, 4, 5, 6, 7, 8})));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("v")); }, dir.file("v/X.npy") + ":", {"2-D"}));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("missing")); }, dir.file("missing/X.npy") + ":",
                              {"cannot open"}));
}

}  // namespace
// The in-memory folder (what npy_reader_fuzz reads) goes through the same code as a folder on
// disk: the same data set, and the same messages naming dir/FILE and the byte.
TEST(NpyDataset, InMemoryFolderReadsAsTheDiskOne) {
  TempDir dir;
  const NpyData data = small_data();
  NpyFolder memory{dir.file("d"), true, {}};
  memory.files["X.npy"] = npy_bytes(dict("<f8", "(4, 2)"), raw<double>(data.X));
  memory.files["y.npy"] = npy_bytes(dict("<f8", "(4,)"), raw<double>(data.y));
  memory.files["task.npy"] = npy_bytes(dict("<i4", "(4,)"), raw<int32_t>(data.task));
  memory.files["tasks.txt"] = "alpha\nbeta\n";
  std::filesystem::create_directories(dir.file("d"));
  for (const auto& [name, bytes] : memory.files) dir.write("d/" + name, bytes);
  const Dataset disk = read_npy_dataset(dir.file("d"), nullptr, 1, 4);
  const Dataset mem = read_npy_dataset(memory, nullptr, 1, 4);
  EXPECT_EQ(mem.X, disk.X);
  EXPECT_EQ(mem.y, disk.y);
  EXPECT_EQ(mem.task_names, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(mem.file_row, disk.file_row);
  EXPECT_EQ(mem.task_size, disk.task_size);

  const std::string fortran = dict("<f8", "(4, 2)", "True");
  memory.files["X.npy"] = npy_bytes(fortran, raw<double>(data.X));
  dir.write("d/X.npy", memory.files["X.npy"]);
  const std::string at = dir.file("d/X.npy") + ": byte " + std::to_string(10 + fortran.find("True")) + ":";
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(dir.file("d")); }, at, {"fortran_order is True"}));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(memory); }, at, {"fortran_order is True"}));
  memory.files.erase("X.npy");
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_dataset(memory); }, dir.file("d/X.npy") + ":", {"cannot open"}));
}

// A stream holds the same file as the path: the same header and rows.
TEST(NpyRead, StreamReadsAsThePath) {
  TempDir dir;
  const std::string bytes = npy_bytes(dict("<i8", "(3, 2)"), raw<int64_t>({1, 2, 3, 4, 5, 6}));
  const std::string p = dir.write("a.npy", bytes);
  std::istringstream in(bytes);
  NpyHeader h = read_npy_header(in, p);
  EXPECT_EQ(h.shape, read_npy_header(p).shape);
  EXPECT_EQ(h.data_offset, read_npy_header(p).data_offset);
  EXPECT_EQ(read_npy_rows(h, in, 1, 3), read_npy_rows(h, 1, 3));
  std::istringstream cut(bytes.substr(0, bytes.size() - 1));
  EXPECT_TRUE(ThrowsDataError([&] { read_npy_header(cut, p); }, p + ": byte " + std::to_string(h.data_offset) + ":",
                              {"holds 47 bytes", "needs 48"}));
}

}  // namespace mtif::test
