// Task grouping (issue 14 item 4): given a task-affinity matrix and a budget
// of g models, split the K tasks into g groups, one model per group.
//
// Input convention: affinity(k, l) = benefit to target k of training together
// with source l; HIGHER = l HELPS k. Every relatedness output of mtif is
// R[l][k] = "source l on target k" with R > 0 when l helps k (mtif-math.md 4:
// loss change when l is removed, for mtif/newton/retrain/surrogate/
// gradient-estimate; TAG's lookahead affinity and the gradient cosine are > 0
// when l's step lowers k's loss / points the same way; VMTL's alpha is a
// weight, larger = closer). So affinity = R^T for every method, no sign flip
// (affinity_from_relatedness). The diagonal is never used.
//
// Objective (as TAG, Fifty et al. 2021): each task is in EXACTLY one group (a
// partition: unlike TAG, which lets a task sit in several groups and serve it
// from the best one, because one model per task is what is trained and
// reported here), there are exactly g non-empty groups, and the score is
//     sum over tasks k of  mean_{l in group(k), l != k} affinity(k, l),
// a task alone in its group scoring 0. Maximised exactly (branch and bound)
// for small K, and by greedy merging plus single-task moves for large K.
#pragma once

#include <string>
#include <vector>

#include "mtif/dataset.hpp"

namespace mtif {

using TaskGroups = std::vector<std::vector<int>>;  // each group: task indices, ascending; groups by first task

enum class GroupingMethod {
  Auto,        // exact when K <= kExactGroupingMaxTasks, greedy otherwise
  Exact,       // branch and bound over the partitions into g groups
  BruteForce,  // every partition into g groups (the tests' reference; K <= 12)
  Greedy,      // agglomerative merging, then moves of single tasks while the score rises
};
constexpr int kExactGroupingMaxTasks = 12;
GroupingMethod parse_grouping_method(const std::string& name);  // auto|exact|brute-force|greedy
std::string grouping_method_name(GroupingMethod method);

struct GroupingResult {
  TaskGroups groups;
  double objective = 0;
  std::string method;  // the method actually used ("exact", "greedy", ...)
  long evaluated = 0;  // partitions scored (exact / brute force) or moves tried (greedy)
};

// affinity(k, l) from a relatedness matrix R (sources x targets, R[l][k]):
// the transpose; throws unless R is square.
MatrixXd affinity_from_relatedness(const MatrixXd& relatedness);

// Throws std::invalid_argument (one line) unless affinity is a square matrix
// of finite off-diagonal numbers and 1 <= groups <= K.
void check_grouping_input(const MatrixXd& affinity, int groups);

// The objective above for a partition of all K tasks.
double grouping_objective(const MatrixXd& affinity, const TaskGroups& groups);

GroupingResult group_tasks(const MatrixXd& affinity, int groups, GroupingMethod method = GroupingMethod::Auto);

// Branch and bound from no incumbent (group_tasks' exact search starts from the
// greedy partition, which is often optimal already; this checks the bound alone).
GroupingResult branch_and_bound_grouping(const MatrixXd& affinity, int groups);

// group_of[k]: index of task k's group in `groups`.
std::vector<int> group_of_task(const TaskGroups& groups, int K);

}  // namespace mtif
