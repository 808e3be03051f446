// The influence CSV writer (src/io/score_files.cpp): chunks formatted on all
// threads come out in row order, and every value reads back as the same double.
#include "mtif/score_files.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "io/io_test_util.hpp"

namespace mtif {
namespace {

TEST(InfluenceCsv, ManyChunksComeOutInOrderAndValuesRoundTripExactly) {
  test::TempDir dir;
  const Index rows = 150;
  const int tasks = 3, num_targets = 1200;  // ~27 rows per chunk: several chunks per thread
  InfluenceScores s;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-300, 300);
  auto draw = [&] { return std::ldexp(mantissa(rng), exponent(rng)); };
  s.total.resize(rows, num_targets);
  s.task_part.resize(rows, num_targets);
  s.shared_part.resize(rows, num_targets);
  for (Index r = 0; r < rows; ++r)
    for (int t = 0; t < num_targets; ++t) {
      s.total(r, t) = draw();
      s.task_part(r, t) = draw();
      s.shared_part(r, t) = draw();
    }
  s.total(0, 0) = std::numeric_limits<double>::denorm_min();
  s.total(1, 1) = -0.0;
  s.total(2, 2) = 0.1;
  for (Index r = 0; r < rows; ++r) s.train_task.push_back(static_cast<int>(r % tasks));
  Targets targets;
  for (int t = 0; t < num_targets; ++t) targets.task.push_back(t % tasks);
  const std::vector<std::string> names = {"a", "b,c", "d"};
  const std::string path = dir.file("scores.csv");
  write_influence(path, s, targets, names, {});

  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "train_row,train_task,target_task,loss_change_if_removed,task_part,shared_part");
  for (Index r = 0; r < rows; ++r)
    for (int t = 0; t < num_targets; ++t) {
      ASSERT_TRUE(std::getline(in, line)) << "missing line for row " << r << " target " << t;
      const std::string task = names[r % tasks] == "b,c" ? "\"b,c\"" : names[r % tasks];
      const std::string target = names[t % tasks] == "b,c" ? "\"b,c\"" : names[t % tasks];
      const std::string prefix = std::to_string(r) + "," + task + "," + target + ",";
      ASSERT_EQ(line.rfind(prefix, 0), 0u) << line;
      std::istringstream values(line.substr(prefix.size()));
      std::string total, task_part, shared_part;
      std::getline(values, total, ',');
      std::getline(values, task_part, ',');
      std::getline(values, shared_part, ',');
      ASSERT_EQ(std::strtod(total.c_str(), nullptr), s.total(r, t)) << line;
      ASSERT_EQ(std::signbit(std::strtod(total.c_str(), nullptr)), std::signbit(s.total(r, t))) << line;
      ASSERT_EQ(std::strtod(task_part.c_str(), nullptr), s.task_part(r, t)) << line;
      ASSERT_EQ(std::strtod(shared_part.c_str(), nullptr), s.shared_part(r, t)) << line;
    }
  EXPECT_FALSE(std::getline(in, line)) << "extra line: " << line;
}

}  // namespace
}  // namespace mtif
