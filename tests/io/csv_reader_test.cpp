// The CSV contract of shared/spec/interfaces.md: what parse_csv,
// read_train_test and read_with_tasks_of accept, and the exact
// "FILE:LINE:COLUMN:" message of every kind of input they refuse.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io/io_test_util.hpp"
#include "mtif/csv_reader.hpp"

namespace mtif {
namespace {

using test::TempDir;
using test::ThrowsDataError;

ParsedCsv parse(const std::string& text, const CsvOptions& options = {}) { return parse_csv(text, "d.csv", options); }

// Checks parse_csv(text) is refused with `prefix` and a message holding `needles`.
::testing::AssertionResult Refused(const std::string& text, const std::string& prefix,
                                   const std::vector<std::string>& needles, const CsvOptions& options = {}) {
  return ThrowsDataError([&] { parse(text, options); }, prefix, needles);
}

std::vector<double> row(const RawRows& r, size_t i) {
  const size_t d = r.feature_names.size();
  return std::vector<double>(r.values.begin() + i * d, r.values.begin() + (i + 1) * d);
}

// ---------------------------------------------------------------- good input

TEST(CsvParse, ReadsHeaderFeaturesTargetsAndTasks) {
  ParsedCsv p = parse("task,y,a,b\nt1,1.5,2,3\nt2,-4,5e-1,6\nt1,0,7,8\n");
  EXPECT_FALSE(p.has_split);
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(p.train.y, (std::vector<double>{1.5, -4, 0}));
  EXPECT_EQ(p.train.task, (std::vector<int>{0, 1, 0}));
  EXPECT_EQ(p.train.values, (std::vector<double>{2, 3, 0.5, 6, 7, 8}));
  EXPECT_TRUE(p.test.y.empty());
}

TEST(CsvParse, ColumnsMayComeInAnyOrder) {
  ParsedCsv p = parse("a,y,b,task\n1,2,3,k\n");
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(row(p.train, 0), (std::vector<double>{1, 3}));
  EXPECT_EQ(p.train.y, (std::vector<double>{2}));
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"k"}));
}

TEST(CsvParse, TargetAndTaskColumnsCanBeRenamed) {
  CsvOptions o;
  o.target_column = "price";
  o.task_column = "city";
  ParsedCsv p = parse("city,price,y\nparis,10,3\n", o);
  EXPECT_EQ(p.train.y, (std::vector<double>{10}));
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"y"}));  // 'y' is a plain feature now
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"paris"}));
}

TEST(CsvParse, QuotedTaskLabelsKeepCommasAndQuotes) {
  ParsedCsv p = parse("task,y,a\n\"x, y\",1,2\n\"say \"\"hi\"\"\",3,4\n\"x, y\",5,6\n");
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"say \"hi\"", "x, y"}));
  EXPECT_EQ(p.train.task, (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(p.train.values, (std::vector<double>{2, 4, 6}));
}

TEST(CsvParse, QuotedNumbersAndHeaderNames) {
  ParsedCsv p = parse("\"task\",\"y\",\"a,b\"\nt,\"1.25\",\" 2 \"\n");
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a,b"}));
  EXPECT_EQ(p.train.y, (std::vector<double>{1.25}));
  EXPECT_EQ(p.train.values, (std::vector<double>{2}));
}

TEST(CsvParse, CrlfLineEndings) {
  ParsedCsv p = parse("task,y,a\r\nt,1,2\r\nu,3,4\r\n");
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.train.y, (std::vector<double>{1, 3}));
  EXPECT_EQ(p.train.values, (std::vector<double>{2, 4}));
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"t", "u"}));
  // Errors in a CRLF file still point at the right line and show no '\r'.
  EXPECT_TRUE(Refused("task,y,a\r\nt,1,2\r\nt,1,x\r\n", "d.csv:3:3:", {"'x' in column 'a'"}));
}

TEST(CsvParse, LastLineWithoutNewline) {
  ParsedCsv p = parse("task,y,a\nt,1,2\nt,3,4");
  EXPECT_EQ(p.train.y, (std::vector<double>{1, 3}));
}

TEST(CsvParse, Utf8ByteOrderMarkIsIgnored) {
  ParsedCsv p = parse("\xEF\xBB\xBFtask,y,a\nt,1,2\n");
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"t"}));
}

TEST(CsvParse, BlankLinesAreSkippedButCounted) {
  ParsedCsv p = parse("task,y,a\n\nt,1,2\n   \n\t\nt,3,4\n\n");
  EXPECT_EQ(p.train.y, (std::vector<double>{1, 3}));
  EXPECT_TRUE(Refused("task,y,a\n\nt,1,2\n\r\nt,x,4\n", "d.csv:5:2:", {"'x' in column 'y'"}));
}

TEST(CsvParse, LeadingPlusAndSurroundingWhitespace) {
  ParsedCsv p = parse("task , y ,\ta\t\n t ,+1.5, \t-2e3 \n t,  +7  ,+.5\n");
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"t"}));
  EXPECT_EQ(p.train.y, (std::vector<double>{1.5, 7}));
  EXPECT_EQ(p.train.values, (std::vector<double>{-2000, 0.5}));
}

TEST(CsvParse, NumbersRoundTripExactly) {
  ParsedCsv p = parse("task,y,a\nt,0.1,1.7976931348623157e308\nt,-0,4.9406564584124654e-324\n");
  EXPECT_EQ(p.train.y[0], 0.1);
  EXPECT_EQ(p.train.values[0], 1.7976931348623157e308);
  EXPECT_EQ(p.train.values[1], 4.9406564584124654e-324);
}

TEST(CsvParse, FeaturesOptionSelectsSubsetInGivenOrder) {
  CsvOptions o;
  o.features = {"c", "a"};
  ParsedCsv p = parse("task,y,a,b,c\nt,1,10,20,30\nt,2,11,21,31\n", o);
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(row(p.train, 0), (std::vector<double>{30, 10}));
  EXPECT_EQ(row(p.train, 1), (std::vector<double>{31, 11}));
}

TEST(CsvParse, ColumnsNotSelectedByFeaturesAreNotParsed) {
  CsvOptions o;
  o.features = {"a"};
  ParsedCsv p = parse("task,y,a,notes\nt,1,2,free text\n", o);
  EXPECT_EQ(p.train.values, (std::vector<double>{2}));
}

TEST(CsvParse, TaskLabelsSortNaturally) {
  ParsedCsv p = parse("task,y,a\ntask10,1,1\ntask2,1,1\ntask1,1,1\ntask2,1,1\n");
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"task1", "task2", "task10"}));
  EXPECT_EQ(p.train.task, (std::vector<int>{2, 1, 0, 1}));

  ParsedCsv numbers = parse("task,y,a\n100,1,1\n9,1,1\n10,1,1\n");
  EXPECT_EQ(numbers.train.task_names, (std::vector<std::string>{"9", "10", "100"}));
}

TEST(CsvParse, TaskOrderDoesNotDependOnRowOrder) {
  const std::vector<std::string> labels = {"b2", "a10", "a9", "b10", "07", "7", "x", "a09"};
  std::vector<std::string> first;
  for (size_t shift = 0; shift < labels.size(); ++shift) {
    std::string text = "task,y,a\n";
    for (size_t i = 0; i < labels.size(); ++i) text += labels[(i + shift) % labels.size()] + ",1,1\n";
    ParsedCsv p = parse(text);
    if (shift == 0) first = p.train.task_names;
    EXPECT_EQ(p.train.task_names, first) << "shift " << shift;
  }
  EXPECT_EQ(first.size(), labels.size());
  // "a9" < "a10" but both after "7"-like labels that start with digits.
  auto pos = [&](const std::string& s) { return std::find(first.begin(), first.end(), s) - first.begin(); };
  EXPECT_LT(pos("a9"), pos("a10"));
  EXPECT_LT(pos("b2"), pos("b10"));
  EXPECT_LT(pos("7"), pos("a9"));
}

TEST(CsvParse, SplitColumnSeparatesTrainAndTest) {
  ParsedCsv p = parse("task,y,a,split\nt2,1,1,train\nt1,2,2,test\nt1,3,3, train \nt2,4,4,test\n");
  EXPECT_TRUE(p.has_split);
  EXPECT_EQ(p.train.feature_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.test.feature_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(p.train.y, (std::vector<double>{1, 3}));
  EXPECT_EQ(p.test.y, (std::vector<double>{2, 4}));
  EXPECT_EQ(p.train.task_names, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(p.test.task_names, p.train.task_names);
  EXPECT_EQ(p.train.task, (std::vector<int>{1, 0}));
  EXPECT_EQ(p.test.task, (std::vector<int>{0, 1}));
}

// ----------------------------------------------------------------- bad input

TEST(CsvRefuse, MissingTaskColumn) {
  EXPECT_TRUE(Refused("y,a,b\n1,2,3\n", "d.csv:1:4:", {"task column 'task'"}));
  CsvOptions o;
  o.task_column = "group";
  EXPECT_TRUE(Refused("task,y,a\nt,1,2\n", "d.csv:1:4:", {"'group'"}, o));
}

TEST(CsvRefuse, MissingTargetColumn) {
  EXPECT_TRUE(Refused("task,a,b\nt,1,2\n", "d.csv:1:4:", {"target column 'y'"}));
  CsvOptions o;
  o.target_column = "price";
  EXPECT_TRUE(Refused("task,y,a\nt,1,2\n", "d.csv:1:4:", {"'price'"}, o));
}

TEST(CsvRefuse, MissingFeaturesColumn) {
  CsvOptions o;
  o.features = {"a", "zz"};
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3\n", "d.csv:1:5:", {"'zz'", "--features"}, o));
}

TEST(CsvRefuse, FeaturesNamingTaskTargetOrSplitOrTwice) {
  CsvOptions o;
  o.features = {"a", "y"};
  EXPECT_TRUE(Refused("task,y,a\nt,1,2\n", "d.csv:1:2:", {"'y'"}, o));
  o.features = {"split"};
  EXPECT_TRUE(Refused("task,y,a,split\nt,1,2,train\n", "d.csv:1:4:", {"'split'"}, o));
  o.features = {"a", "a"};
  EXPECT_TRUE(Refused("task,y,a\nt,1,2\n", "d.csv:1:3:", {"'a'", "twice"}, o));
}

TEST(CsvRefuse, NoFeatureColumns) {
  EXPECT_TRUE(Refused("task,y\nt,1\n", "d.csv:1:1:", {"no feature columns"}));
}

TEST(CsvRefuse, NonNumericFeature) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3\nt,1,x1,3\n", "d.csv:3:3:", {"non-numeric", "'x1'", "column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3 4\n", "d.csv:2:4:", {"'3 4'", "column 'b'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,1.2.3\n", "d.csv:2:3:", {"column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,0x10\n", "d.csv:2:3:", {"column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,+-1\n", "d.csv:2:3:", {"'+-1'", "column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,++1\n", "d.csv:2:3:", {"column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,+\n", "d.csv:2:3:", {"column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,\"2\"x\n", "d.csv:2:3:", {"column 'a'"}));
}

TEST(CsvRefuse, NonNumericTarget) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,abc,1,2\n", "d.csv:2:2:", {"'abc'", "column 'y'"}));
  CsvOptions o;
  o.target_column = "label";
  EXPECT_TRUE(Refused("label,task,a\ncat,t,1\n", "d.csv:2:1:", {"'cat'", "column 'label'"}, o));
}

TEST(CsvRefuse, NaN) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,nan\n", "d.csv:2:4:", {"not finite", "column 'b'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,NaN,2,3\n", "d.csv:2:2:", {"column 'y'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,-nan,3\n", "d.csv:2:3:", {"column 'a'"}));
}

TEST(CsvRefuse, Inf) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,inf,3\n", "d.csv:2:3:", {"not finite", "column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,Infinity,2,3\n", "d.csv:2:2:", {"column 'y'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,+inf\n", "d.csv:2:4:", {"column 'b'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,1e999\n", "d.csv:2:4:", {"column 'b'"}));
}

TEST(CsvRefuse, MinusInf) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3\nt,1,-inf,3\n", "d.csv:3:3:", {"'-inf'", "column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,-INF,2,3\n", "d.csv:2:2:", {"column 'y'"}));
}

TEST(CsvRefuse, EmptyValue) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,,2\n", "d.csv:2:3:", {"empty value", "column 'a'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,  \n", "d.csv:2:4:", {"empty value", "column 'b'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,,1,2\n", "d.csv:2:2:", {"empty value", "column 'y'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,\"\",2\n", "d.csv:2:3:", {"empty value", "column 'a'"}));
  EXPECT_TRUE(Refused("y,a,task\n1,2, \n", "d.csv:2:3:", {"empty task label", "column 'task'"}));
}

TEST(CsvRefuse, RaggedRowTooFewFields) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3\nt,1,2\n", "d.csv:3:4:", {"ragged", "3 fields", "column 'b'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt\n", "d.csv:2:2:", {"ragged", "column 'y'"}));
}

TEST(CsvRefuse, RaggedRowTooManyFields) {
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3,4\n", "d.csv:2:5:", {"ragged", "5 fields", "column 'b'"}));
  EXPECT_TRUE(Refused("task,y,a,b\nt,1,2,3,\n", "d.csv:2:5:", {"ragged"}));
  // An unquoted comma inside a label makes the row ragged.
  EXPECT_TRUE(Refused("task,y,a\nx, y,1,2\n", "d.csv:2:4:", {"ragged"}));
}

TEST(CsvRefuse, EmptyFile) {
  EXPECT_TRUE(Refused("", "d.csv:1:1:", {"empty file"}));
  EXPECT_TRUE(Refused("\n\n", "d.csv:1:1:", {"empty file"}));
  EXPECT_TRUE(Refused("\xEF\xBB\xBF", "d.csv:1:1:", {"empty file"}));
}

TEST(CsvRefuse, HeaderOnly) {
  EXPECT_TRUE(Refused("task,y,a\n", "d.csv:1:1:", {"no data rows"}));
  EXPECT_TRUE(Refused("task,y,a", "d.csv:1:1:", {"no data rows"}));
  EXPECT_TRUE(Refused("task,y,a\n\n \n", "d.csv:3:1:", {"no data rows"}));
}

TEST(CsvRefuse, DuplicateHeaderColumn) {
  EXPECT_TRUE(Refused("task,y,a,b,a\nt,1,2,3,4\n", "d.csv:1:5:", {"'a'", "twice"}));
  EXPECT_TRUE(Refused("task,y,task\nt,1,t\n", "d.csv:1:3:", {"'task'", "twice"}));
  EXPECT_TRUE(Refused("task,y,a, a \nt,1,2,3\n", "d.csv:1:4:", {"'a'", "twice"}));
}

TEST(CsvRefuse, EmptyColumnName) {
  EXPECT_TRUE(Refused("task,y,,a\nt,1,2,3\n", "d.csv:1:3:", {"empty column name"}));
}

TEST(CsvRefuse, UnclosedQuote) {
  EXPECT_TRUE(Refused("task,y,a\n\"t,1,2\n", "d.csv:2:1:", {"never closed", "column 'task'"}));
  EXPECT_TRUE(Refused("task,y,a\nt,1,\"2\n", "d.csv:2:3:", {"never closed", "column 'a'"}));
  // A quoted field cannot span lines.
  EXPECT_TRUE(Refused("task,y,a\n\"t\n\",1,2\n", "d.csv:2:1:", {"never closed"}));
  EXPECT_TRUE(Refused("task,\"y,a\n", "d.csv:1:2:", {"never closed"}));
}

TEST(CsvRefuse, BadSplitValue) {
  EXPECT_TRUE(Refused("task,y,a,split\nt,1,2,train\nt,1,2,valid\n", "d.csv:3:4:", {"'valid'", "column 'split'"}));
  EXPECT_TRUE(Refused("split,task,y,a\nTrain,t,1,2\n", "d.csv:2:1:", {"'Train'", "column 'split'"}));
  EXPECT_TRUE(Refused("split,task,y,a\n,t,1,2\n", "d.csv:2:1:", {"column 'split'"}));
}

TEST(CsvRefuse, TestTaskUnseenInTrainingWithSplitColumn) {
  EXPECT_TRUE(Refused("y,a,task,split\n1,2,t1,train\n1,2,t1,test\n1,2,t2,test\n", "d.csv:4:3:",
                      {"'t2'", "no training rows", "column 'task'"}));
}

TEST(CsvRefuse, NulByte) {
  EXPECT_TRUE(Refused(std::string("task,y,a\nt,1,2\0\n", 16), "d.csv:2:3:", {"NUL", "column 'a'"}));
  EXPECT_TRUE(Refused(std::string("task,y\0,a\nt,1,2\n", 16), "d.csv:1:2:", {"NUL"}));
  EXPECT_TRUE(Refused(std::string("task,y,a\n\0\n", 11), "d.csv:2:1:", {"NUL", "column 'task'"}));
}

TEST(CsvRefuse, ErrorsNameTheFileGiven) {
  EXPECT_TRUE(ThrowsDataError([] { parse_csv("task,y,a\nt,1,x\n", "some/dir/train.csv", {}); },
                              "some/dir/train.csv:2:3:", {"column 'a'"}));
}

TEST(CsvRefuse, ControlCharactersAreNotEchoed) {
  try {
    parse("task,y,a\nt,1,\x01\x1b[31m\n");
    FAIL() << "no error";
  } catch (const DataError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind("d.csv:2:3:", 0), 0u) << what;
    for (char c : what) EXPECT_GE(static_cast<unsigned char>(c), 32) << what;
  }
}

// ---------------------------------------------------- read_train_test (files)

TEST(ReadTrainTest, SeparateFilesShareTaskIds) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a,b\nb,1,1,2\na,2,3,4\nb,3,5,6\n");
  std::string test = dir.write("test.csv", "task,y,a,b\nb,10,7,8\n");
  TrainTest tt = read_train_test(train, test, {});
  EXPECT_EQ(tt.train.task_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(tt.test.task_names, tt.train.task_names);
  EXPECT_EQ(tt.test.num_rows(), 1);
  EXPECT_EQ(tt.test.task_of_row(0), 1);
  EXPECT_EQ(tt.test.task_rows(0), 0);
  EXPECT_EQ(tt.test.y(0), 10);
  EXPECT_EQ(tt.train.source, train);
  EXPECT_EQ(tt.test.source, test);
}

TEST(ReadTrainTest, TrainRowIsFileOrderAmongTrainingRows) {
  TempDir dir;
  // train rows in file order: 0:(t2,y=0) 1:(t1,y=1) 2:(t2,y=2) 3:(t1,y=3); test rows interleaved.
  std::string path = dir.write("all.csv",
                               "task,y,a,split\n"
                               "t2,0,0,train\n"
                               "t1,100,0,test\n"
                               "t1,1,1,train\n"
                               "\n"
                               "t2,2,2,train\n"
                               "t2,200,0,test\n"
                               "t1,3,3,train\n");
  TrainTest tt = read_train_test(path, "", {});
  const Dataset& tr = tt.train;
  ASSERT_EQ(tr.num_rows(), 4);
  EXPECT_EQ(tr.task_names, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_EQ(tr.task_begin, (std::vector<Index>{0, 2, 4}));
  // Stored rows are grouped by task, in file order inside a task.
  EXPECT_EQ(tr.file_row, (std::vector<Index>{1, 3, 0, 2}));
  for (Index i = 0; i < tr.num_rows(); ++i) {
    EXPECT_EQ(tr.y(i), static_cast<double>(tr.file_row[i]));  // y was set to the train_row
    EXPECT_EQ(tr.X(i, 0), static_cast<double>(tr.file_row[i]));
  }
  EXPECT_EQ(tr.stored_row_of_file_row(), (std::vector<Index>{2, 0, 3, 1}));
  ASSERT_EQ(tt.test.num_rows(), 2);
  EXPECT_EQ(tt.test.file_row, (std::vector<Index>{0, 1}));
  EXPECT_EQ(tt.test.y(0), 100);
  EXPECT_EQ(tt.test.y(1), 200);
}

TEST(ReadTrainTest, UnreadableFile) {
  TempDir dir;
  std::string missing = dir.file("nope.csv");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(missing, "", {}); }, missing + ":", {"cannot open"}));
}

TEST(ReadTrainTest, FolderInsteadOfAFile) {
  TempDir dir;
  std::string folder = dir.file("sub");
  std::filesystem::create_directories(folder);
  std::string test = dir.write("test.csv", "task,y,a\nt,1,2\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(folder, test, {}); }, folder + ":0:0:", {"folder"}));
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(test, folder, {}); }, folder + ":0:0:", {"folder"}));
}

TEST(ReadTrainTest, TestTaskUnseenInTrainingSeparateFile) {
  TempDir dir;
  std::string train = dir.write("train.csv", "y,a,task\n1,2,t1\n1,2,t2\n");
  std::string test = dir.write("test.csv", "y,a,task\n1,2,t1\n\n1,2,t3\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, test, {}); }, test + ":4:3:",
                              {"'t3'", "no training rows", "column 'task'"}));
}

TEST(ReadTrainTest, NoSplitColumnAndNoTestFile) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a\nt,1,2\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, "", {}); }, train + ":1:4:", {"'split'", "--test"}));
}

TEST(ReadTrainTest, SplitColumnWithNoTestRows) {
  TempDir dir;
  std::string path = dir.write("all.csv", "task,split,y,a\nt,train,1,2\nt,train,1,3\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(path, "", {}); }, path + ":1:2:", {"'test'", "column 'split'"}));
}

TEST(ReadTrainTest, SplitColumnWithNoTrainRows) {
  TempDir dir;
  std::string path = dir.write("all.csv", "task,split,y,a\nt,test,1,2\n");
  // The test row's task then has no training rows: refused at that row.
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(path, "", {}); }, path + ":2:1:", {"no training rows"}));
}

TEST(ReadTrainTest, SplitColumnTogetherWithSeparateTestFile) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a,split\nt,1,2,train\nt,1,2,test\n");
  std::string test = dir.write("test.csv", "task,y,a,split\nt,1,2,train\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, test, {}); }, train + ":1:4:", {"'split'"}));
}

TEST(ReadTrainTest, TestFileWithDifferentFeatureColumns) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a,b\nt,1,2,3\n");
  std::string renamed = dir.write("renamed.csv", "task,y,a,c\nt,1,2,3\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, renamed, {}); }, renamed + ":1:4:", {"'c'", "'b'"}));
  std::string fewer = dir.write("fewer.csv", "task,y,a\nt,1,2\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, fewer, {}); }, fewer + ":1:4:", {"missing", "'b'"}));
  std::string more = dir.write("more.csv", "task,y,a,b,d\nt,1,2,3,4\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, more, {}); }, more + ":1:5:", {"'d'"}));
  std::string swapped = dir.write("swapped.csv", "task,y,b,a\nt,1,2,3\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, swapped, {}); }, swapped + ":1:3:", {"'b'", "'a'"}));
  // The same columns in another place are fine: only the feature order counts.
  std::string moved = dir.write("moved.csv", "a,b,y,task\n2,3,1,t\n");
  TrainTest tt = read_train_test(train, moved, {});
  EXPECT_EQ(tt.test.X(0, 0), 2);
  EXPECT_EQ(tt.test.X(0, 1), 3);
}

TEST(ReadTrainTest, ErrorsInTheTestFileNameTheTestFile) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a\nt,1,2\n");
  std::string test = dir.write("test.csv", "task,y,a\nt,1,2\nt,1,oops\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_train_test(train, test, {}); }, test + ":3:3:", {"'oops'", "column 'a'"}));
}

TEST(ReadTrainTest, FeaturesOptionAppliesToBothFiles) {
  TempDir dir;
  CsvOptions o;
  o.features = {"b"};
  std::string train = dir.write("train.csv", "task,y,a,b\nt,1,2,3\n");
  std::string test = dir.write("test.csv", "task,y,b\nt,1,4\n");  // 'a' is not needed
  TrainTest tt = read_train_test(train, test, o);
  EXPECT_EQ(tt.train.feature_names, (std::vector<std::string>{"b"}));
  EXPECT_EQ(tt.test.X(0, 0), 4);
}

TEST(ReadWithTasksOf, MapsOntoTrainingTaskIds) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a\nt1,1,1\nt2,2,2\nt3,3,3\n");
  std::string test = dir.write("test.csv", "task,y,a\nt1,1,1\n");
  std::string valid = dir.write("valid.csv", "task,y,a\nt3,30,3\nt2,20,2\nt3,31,3\n");
  TrainTest tt = read_train_test(train, test, {});
  Dataset v = read_with_tasks_of(valid, tt.train, {});
  EXPECT_EQ(v.task_names, tt.train.task_names);
  EXPECT_EQ(v.task_begin, (std::vector<Index>{0, 0, 1, 3}));
  EXPECT_EQ(v.file_row, (std::vector<Index>{1, 0, 2}));
  EXPECT_EQ(v.y(0), 20);
  EXPECT_EQ(v.y(1), 30);
  EXPECT_EQ(v.y(2), 31);
  EXPECT_EQ(v.source, valid);
}

TEST(ReadWithTasksOf, RefusesUnseenTasksAndOtherFeatures) {
  TempDir dir;
  std::string train = dir.write("train.csv", "task,y,a\nt1,1,1\n");
  std::string test = dir.write("test.csv", "task,y,a\nt1,1,1\n");
  TrainTest tt = read_train_test(train, test, {});
  std::string unseen = dir.write("unseen.csv", "y,task,a\n1,t1,1\n2,zz,2\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_with_tasks_of(unseen, tt.train, {}); }, unseen + ":3:2:",
                              {"'zz'", "column 'task'"}));
  std::string other = dir.write("other.csv", "task,y,b\nt1,1,1\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_with_tasks_of(other, tt.train, {}); }, other + ":1:3:", {"'b'", "'a'"}));
  std::string bad = dir.write("bad.csv", "task,y,a\nt1,1,nan\n");
  EXPECT_TRUE(ThrowsDataError([&] { read_with_tasks_of(bad, tt.train, {}); }, bad + ":2:3:", {"column 'a'"}));
}

}  // namespace
}  // namespace mtif
