// Task grouping (include/mtif/task_grouping.hpp): branch and bound against
// enumeration of every partition, the greedy method against both, and the
// refusals of bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mtif/task_grouping.hpp"

namespace mtif {
namespace {

MatrixXd random_affinity(int K, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  MatrixXd a(K, K);
  for (int k = 0; k < K; ++k)
    for (int l = 0; l < K; ++l) a(k, l) = normal(rng);
  return a;
}

// Tasks in `blocks` planted clusters (task k in cluster k % blocks): high
// affinity inside a cluster, negative across, plus noise.
MatrixXd block_affinity(int K, int blocks, double noise, std::uint64_t seed) {
  MatrixXd a = noise * random_affinity(K, seed);
  for (int k = 0; k < K; ++k)
    for (int l = 0; l < K; ++l) a(k, l) += k % blocks == l % blocks ? 1.0 : -0.5;
  return a;
}

void expect_partition(const TaskGroups& groups, int K, int g) {
  ASSERT_EQ(int(groups.size()), g);
  std::vector<int> seen(K, 0);
  for (const auto& group : groups) {
    EXPECT_FALSE(group.empty());
    for (int k : group) ++seen.at(k);
  }
  for (int k = 0; k < K; ++k) EXPECT_EQ(seen[k], 1) << "task " << k;
}

TEST(TaskGrouping, ObjectiveIsTheMeanAffinityFromTheOtherMembersSummedOverTasks) {
  MatrixXd a(3, 3);
  a << 9, 1, 2,   // task 0 gains 1 from task 1, 2 from task 2
      3, 9, 4,    //
      5, 6, 9;    // the diagonal is never used
  EXPECT_DOUBLE_EQ(grouping_objective(a, {{0, 1, 2}}), (1 + 2) / 2.0 + (3 + 4) / 2.0 + (5 + 6) / 2.0);
  EXPECT_DOUBLE_EQ(grouping_objective(a, {{0, 2}, {1}}), 2 + 5 + 0.0);  // alone: 0
}

TEST(TaskGrouping, BranchAndBoundEqualsEnumerationOfEveryPartition) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const int K = 4 + int(seed % 6);  // 4..9 tasks
    MatrixXd a = random_affinity(K, seed);
    if (seed % 3 == 0) a = a.cwiseAbs();  // all-helpful matrices too (groups then want to be large)
    for (int g : {1, 2, 3, K - 1, K}) {
      GroupingResult exact = group_tasks(a, g, GroupingMethod::Exact);
      GroupingResult cold = branch_and_bound_grouping(a, g);  // the bound alone, no greedy incumbent
      GroupingResult brute = group_tasks(a, g, GroupingMethod::BruteForce);
      SCOPED_TRACE(testing::Message() << "seed " << seed << " K " << K << " g " << g);
      expect_partition(exact.groups, K, g);
      expect_partition(cold.groups, K, g);
      EXPECT_NEAR(exact.objective, brute.objective, 1e-9);
      EXPECT_NEAR(cold.objective, brute.objective, 1e-9);
      EXPECT_NEAR(grouping_objective(a, cold.groups), cold.objective, 1e-9);
      EXPECT_NEAR(grouping_objective(a, exact.groups), exact.objective, 1e-9);
      EXPECT_NEAR(grouping_objective(a, brute.groups), brute.objective, 1e-9);
    }
  }
}

TEST(TaskGrouping, BranchAndBoundPrunesAndHandlesTwelveTasks) {
  MatrixXd a = random_affinity(12, 99);
  GroupingResult cold = branch_and_bound_grouping(a, 4);
  expect_partition(cold.groups, 12, 4);
  EXPECT_NEAR(cold.objective, group_tasks(a, 4, GroupingMethod::BruteForce).objective, 1e-9);
  EXPECT_LT(cold.evaluated, 611501 / 10);  // S(12, 4) partitions: the bound must cut most
  EXPECT_EQ(group_tasks(a, 4).method, "exact");  // auto picks exact up to 12 tasks
  EXPECT_EQ(group_tasks(random_affinity(13, 1), 4).method, "greedy");
}

TEST(TaskGrouping, GreedyNeverBeatsExactAndIsOftenClose) {
  int reached = 0, runs = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const int K = 8 + int(seed % 3);
    MatrixXd a = random_affinity(K, 100 + seed);
    for (int g : {2, 3, 4}) {
      GroupingResult exact = group_tasks(a, g, GroupingMethod::Exact);
      GroupingResult greedy = group_tasks(a, g, GroupingMethod::Greedy);
      expect_partition(greedy.groups, K, g);
      EXPECT_LE(greedy.objective, exact.objective + 1e-9);
      EXPECT_NEAR(grouping_objective(a, greedy.groups), greedy.objective, 1e-9);
      reached += greedy.objective > exact.objective - 1e-9;
      ++runs;
    }
  }
  EXPECT_GE(reached, runs / 2) << "greedy reached the optimum in " << reached << " of " << runs;
}

TEST(TaskGrouping, GreedyFindsPlantedBlocks) {
  for (int blocks : {2, 3, 5}) {
    MatrixXd a = block_affinity(12, blocks, 0.2, 7 + blocks);
    GroupingResult exact = group_tasks(a, blocks, GroupingMethod::Exact);
    GroupingResult greedy = group_tasks(a, blocks, GroupingMethod::Greedy);
    EXPECT_NEAR(greedy.objective, exact.objective, 1e-9) << blocks << " blocks";
    for (const auto& group : greedy.groups)
      for (int k : group) EXPECT_EQ(k % blocks, group.front() % blocks) << blocks << " blocks";
  }
  // Large K (the greedy method's use): 131 tasks in 5 planted clusters.
  MatrixXd big = block_affinity(131, 5, 0.3, 3);
  GroupingResult greedy = group_tasks(big, 5);
  EXPECT_EQ(greedy.method, "greedy");
  expect_partition(greedy.groups, 131, 5);
  for (const auto& group : greedy.groups)
    for (int k : group) EXPECT_EQ(k % 5, group.front() % 5);
}

TEST(TaskGrouping, AffinityIsTheTransposeOfTheRelatednessMatrix) {
  MatrixXd r(2, 2);
  r << 0, 1,   // R[0][1]: source 0 on target 1
      2, 0;
  MatrixXd a = affinity_from_relatedness(r);
  EXPECT_EQ(a(1, 0), 1);  // benefit to target 1 from source 0
  EXPECT_EQ(a(0, 1), 2);
  EXPECT_THROW(affinity_from_relatedness(MatrixXd::Zero(3, 2)), std::invalid_argument);
}

TEST(TaskGrouping, BadInputIsRefusedWithAClearMessage) {
  auto message = [](const MatrixXd& a, int g) {
    try {
      group_tasks(a, g);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(message(MatrixXd::Zero(3, 4), 2).find("square"), std::string::npos);
  EXPECT_NE(message(MatrixXd::Zero(3, 3), 4).find("between 1 and the 3 tasks"), std::string::npos);
  EXPECT_NE(message(MatrixXd::Zero(3, 3), 0).find("between 1 and the 3 tasks"), std::string::npos);
  MatrixXd nan = MatrixXd::Zero(3, 3);
  nan(2, 0) = std::nan("");
  EXPECT_NE(message(nan, 2).find("affinity of task 2 from task 0 is not a finite number"), std::string::npos);
  nan(2, 0) = 0;
  nan(1, 1) = std::nan("");  // the diagonal is not used: no reason to refuse it
  EXPECT_EQ(message(nan, 2), "(accepted)");
  EXPECT_NE(message(MatrixXd::Zero(13, 13), 2).find("(accepted)"), std::string::npos);
  EXPECT_THROW(group_tasks(MatrixXd::Zero(13, 13), 2, GroupingMethod::Exact), std::invalid_argument);
  EXPECT_THROW(parse_grouping_method("spectral"), std::invalid_argument);
}

}  // namespace
}  // namespace mtif
