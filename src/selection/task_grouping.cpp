// Task grouping (include/mtif/task_grouping.hpp has the objective and the sign).
#include "mtif/task_grouping.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mtif {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The score of one group whose members' sums of affinities from the other
// members are `own`: sum of own_i / (|G| - 1); a task alone scores 0.
double group_score(double own_sum, std::size_t size) { return size > 1 ? own_sum / double(size - 1) : 0.0; }

TaskGroups canonical(TaskGroups groups) {
  for (auto& g : groups) std::sort(g.begin(), g.end());
  groups.erase(std::remove_if(groups.begin(), groups.end(), [](const auto& g) { return g.empty(); }), groups.end());
  std::sort(groups.begin(), groups.end());
  return groups;
}

TaskGroups groups_from_labels(const std::vector<int>& label, int count) {
  TaskGroups groups(count);
  for (int k = 0; k < int(label.size()); ++k) groups[label[k]].push_back(k);
  return canonical(groups);
}

// Every partition of the K tasks into exactly g groups, as restricted growth
// strings (task k joins one of the groups opened so far or opens the next).
class BruteForce {
 public:
  BruteForce(const MatrixXd& a, int g) : a_(a), g_(g), label_(a.rows()) {}
  GroupingResult run() {
    visit(0, 0);
    return {groups_from_labels(best_label_, g_), best_, "brute-force", evaluated_};
  }

 private:
  void visit(int k, int used) {
    const int K = int(a_.rows());
    if (K - k < g_ - used) return;  // too few tasks left to open the missing groups
    if (k == K) {
      ++evaluated_;
      double score = grouping_objective(a_, groups_from_labels(label_, g_));
      if (score > best_) best_ = score, best_label_ = label_;
      return;
    }
    for (int c = 0; c < used; ++c) label_[k] = c, visit(k + 1, used);
    if (used < g_) label_[k] = used, visit(k + 1, used + 1);
  }
  const MatrixXd& a_;
  int g_;
  std::vector<int> label_, best_label_;
  double best_ = kNegInf;
  long evaluated_ = 0;
};

// Branch and bound over the same restricted growth strings. A partial
// assignment of tasks 0..k-1 is bounded above by: for an assigned task i whose
// group holds the members C (others) so far, its final score is the mean over
// C and some later tasks F, at most max(mean C, max over later tasks of
// affinity(i, j)) (or max(0, ...) when C is empty: alone it scores 0); a task
// not yet assigned scores at most max(0, its largest affinity from any task).
class BranchAndBound {
 public:
  BranchAndBound(const MatrixXd& a, int g, double start) : a_(a), g_(g), best_(start) {
    const int K = int(a.rows());
    label_.assign(K, -1);
    own_.assign(K, 0.0);
    members_.resize(g);
    later_max_ = MatrixXd::Constant(K, K + 1, kNegInf);  // later_max_(i, k) = max_{j >= k, j != i} a(i, j)
    for (int i = 0; i < K; ++i)
      for (int k = K - 1; k >= 0; --k)
        later_max_(i, k) = std::max(later_max_(i, k + 1), k == i ? kNegInf : a(i, k));
    unassigned_bound_.assign(K + 1, 0.0);  // sum over tasks j >= k of max(0, largest affinity to j)
    for (int k = K - 1; k >= 0; --k) unassigned_bound_[k] = unassigned_bound_[k + 1] + std::max(0.0, later_max_(k, 0));
    tolerance_ = 1e-12 * (1.0 + a.cwiseAbs().sum());
  }
  // The best partition, or `start` (the incumbent's partition) when none beat it.
  GroupingResult run(const TaskGroups& start) {
    visit(0, 0);
    return {best_label_.empty() ? start : groups_from_labels(best_label_, g_), best_, "exact", evaluated_};
  }

 private:
  double bound(int k) const {
    double total = unassigned_bound_[k];
    for (int i = 0; i < k; ++i) {
      const std::size_t others = members_[label_[i]].size() - 1;
      const double now = others ? own_[i] / double(others) : 0.0;
      total += std::max(now, later_max_(i, k));
    }
    return total;
  }
  double score() const {
    double total = 0;
    for (int c = 0; c < g_; ++c) {
      double sum = 0;
      for (int i : members_[c]) sum += own_[i];
      total += group_score(sum, members_[c].size());
    }
    return total;
  }
  void join(int k, int c) {
    own_[k] = 0;
    for (int i : members_[c]) own_[i] += a_(i, k), own_[k] += a_(k, i);
    members_[c].push_back(k);
    label_[k] = c;
  }
  void leave(int k, int c) {
    members_[c].pop_back();
    for (int i : members_[c]) own_[i] -= a_(i, k);
    label_[k] = -1;
  }
  void visit(int k, int used) {
    const int K = int(a_.rows());
    if (K - k < g_ - used) return;
    if (k == K) {
      ++evaluated_;
      double s = score();
      if (s > best_) best_ = s, best_label_ = label_;
      return;
    }
    if (bound(k) < best_ - tolerance_) return;
    for (int c = 0; c < used; ++c) join(k, c), visit(k + 1, used), leave(k, c);
    if (used < g_) join(k, used), visit(k + 1, used + 1), leave(k, used);
  }
  const MatrixXd& a_;
  int g_;
  double best_, tolerance_ = 0;
  std::vector<int> label_, best_label_;
  std::vector<double> own_, unassigned_bound_;
  std::vector<std::vector<int>> members_;
  MatrixXd later_max_;
  long evaluated_ = 0;
};

// Greedy and local search keep, for every task i and group c,
// to_group(i, c) = sum of a(i, j) over the members j != i of c.
class LocalSearch {
 public:
  LocalSearch(const MatrixXd& a, std::vector<int> label, int count) : a_(a), label_(std::move(label)) {
    const int K = int(a.rows());
    members_.assign(count, {});
    for (int k = 0; k < K; ++k) members_[label_[k]].push_back(k);
    to_group_ = MatrixXd::Zero(K, count);
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j)
        if (i != j) to_group_(i, label_[j]) += a(i, j);
  }

  // Merges the pair of groups that lowers the objective least until `g` remain.
  void merge_down_to(int g) {
    while (live_groups() > g) {
      double best = kNegInf;
      int best_a = -1, best_b = -1;
      for (int x = 0; x < int(members_.size()); ++x)
        for (int y = x + 1; y < int(members_.size()); ++y) {
          if (members_[x].empty() || members_[y].empty()) continue;
          double gain = merged_score(x, y) - score_of(x) - score_of(y);
          ++evaluated_;
          if (gain > best) best = gain, best_a = x, best_b = y;
        }
      for (int i : members_[best_b]) label_[i] = best_a;
      members_[best_a].insert(members_[best_a].end(), members_[best_b].begin(), members_[best_b].end());
      members_[best_b].clear();
      to_group_.col(best_a) += to_group_.col(best_b);
      to_group_.col(best_b).setZero();
    }
  }

  // Moves one task at a time to the group where the objective rises most
  // (never emptying a group) until no move raises it.
  void improve() {
    const int K = int(a_.rows());
    const double tolerance = 1e-12 * (1.0 + a_.cwiseAbs().sum());
    for (bool moved = true; moved;) {
      moved = false;
      for (int i = 0; i < K; ++i) {
        const int from = label_[i];
        if (members_[from].size() < 2) continue;
        double best = tolerance;
        int best_to = -1;
        for (int to = 0; to < int(members_.size()); ++to) {
          if (to == from || members_[to].empty()) continue;
          ++evaluated_;
          double gain = move_gain(i, from, to);
          if (gain > best) best = gain, best_to = to;
        }
        if (best_to >= 0) move(i, from, best_to), moved = true;
      }
    }
  }

  double objective() const {
    double total = 0;
    for (int c = 0; c < int(members_.size()); ++c) total += score_of(c);
    return total;
  }
  const std::vector<int>& labels() const { return label_; }
  int count() const { return int(members_.size()); }
  long evaluated() const { return evaluated_; }

 private:
  int live_groups() const {
    return int(std::count_if(members_.begin(), members_.end(), [](const auto& m) { return !m.empty(); }));
  }
  double score_of(int c) const {
    double sum = 0;
    for (int i : members_[c]) sum += to_group_(i, c);
    return group_score(sum, members_[c].size());
  }
  double merged_score(int x, int y) const {
    double sum = 0;
    for (int i : members_[x]) sum += to_group_(i, x) + to_group_(i, y);
    for (int i : members_[y]) sum += to_group_(i, y) + to_group_(i, x);
    return group_score(sum, members_[x].size() + members_[y].size());
  }
  double move_gain(int i, int from, int to) const {
    double without = 0, with = to_group_(i, to);
    for (int j : members_[from])
      if (j != i) without += to_group_(j, from) - a_(j, i);
    for (int j : members_[to]) with += to_group_(j, to) + a_(j, i);
    return group_score(without, members_[from].size() - 1) + group_score(with, members_[to].size() + 1) -
           score_of(from) - score_of(to);
  }
  void move(int i, int from, int to) {
    auto& f = members_[from];
    f.erase(std::find(f.begin(), f.end(), i));
    members_[to].push_back(i);
    label_[i] = to;
    for (int j = 0; j < int(a_.rows()); ++j)
      if (j != i) to_group_(j, from) -= a_(j, i), to_group_(j, to) += a_(j, i);
  }

  const MatrixXd& a_;
  std::vector<int> label_;
  std::vector<std::vector<int>> members_;
  MatrixXd to_group_;
  long evaluated_ = 0;
};

// Greedy merging from singletons, refined by moves; then a few seeded random
// partitions refined the same way (cheap, and they escape the merge order's
// early mistakes); the best is kept.
GroupingResult greedy(const MatrixXd& a, int g) {
  const int K = int(a.rows());
  std::vector<int> singletons(K);
  std::iota(singletons.begin(), singletons.end(), 0);
  LocalSearch search(a, singletons, K);
  search.merge_down_to(g);
  search.improve();
  GroupingResult best{groups_from_labels(search.labels(), search.count()), search.objective(), "greedy",
                      search.evaluated()};
  std::mt19937_64 rng(20210);  // fixed: the same matrix always gives the same groups
  constexpr int kRestarts = 8;
  for (int r = 0; r < kRestarts && g > 1 && g < K; ++r) {
    std::vector<int> label(K);
    std::iota(label.begin(), label.end(), 0);  // the first g tasks open the g groups (none empty)
    std::shuffle(label.begin(), label.end(), rng);
    for (int& l : label) l = l < g ? l : int(rng() % g);
    LocalSearch restart(a, label, g);
    restart.improve();
    best.evaluated += restart.evaluated();
    if (restart.objective() > best.objective + 1e-12 * (1.0 + std::abs(best.objective)))
      best.groups = groups_from_labels(restart.labels(), g), best.objective = restart.objective();
  }
  return best;
}

}  // namespace

GroupingMethod parse_grouping_method(const std::string& name) {
  if (name == "auto") return GroupingMethod::Auto;
  if (name == "exact") return GroupingMethod::Exact;
  if (name == "brute-force") return GroupingMethod::BruteForce;
  if (name == "greedy") return GroupingMethod::Greedy;
  throw std::invalid_argument("unknown grouping method '" + name + "' (expected auto, exact, brute-force or greedy)");
}

std::string grouping_method_name(GroupingMethod method) {
  switch (method) {
    case GroupingMethod::Auto: return "auto";
    case GroupingMethod::Exact: return "exact";
    case GroupingMethod::BruteForce: return "brute-force";
    case GroupingMethod::Greedy: return "greedy";
  }
  return "?";
}

MatrixXd affinity_from_relatedness(const MatrixXd& relatedness) {
  if (relatedness.rows() != relatedness.cols())
    throw std::invalid_argument(fmt::format("task grouping needs a square task matrix (every task a target), got {} x {}",
                                            relatedness.rows(), relatedness.cols()));
  return relatedness.transpose();
}

void check_grouping_input(const MatrixXd& affinity, int groups) {
  const Index K = affinity.rows();
  if (affinity.cols() != K)
    throw std::invalid_argument(fmt::format("the affinity matrix must be square, got {} x {}", K, affinity.cols()));
  if (K < 1) throw std::invalid_argument("the affinity matrix is empty");
  for (Index k = 0; k < K; ++k)
    for (Index l = 0; l < K; ++l)
      if (k != l && !std::isfinite(affinity(k, l)))
        throw std::invalid_argument(fmt::format("affinity of task {} from task {} is not a finite number", k, l));
  if (groups < 1 || groups > K)
    throw std::invalid_argument(fmt::format("the number of groups must be between 1 and the {} tasks, got {}", K, groups));
}

double grouping_objective(const MatrixXd& affinity, const TaskGroups& groups) {
  double total = 0;
  for (const auto& group : groups)
    for (int k : group) {
      double sum = 0;
      for (int l : group)
        if (l != k) sum += affinity(k, l);
      total += group_score(sum, group.size());
    }
  return total;
}

GroupingResult group_tasks(const MatrixXd& affinity, int groups, GroupingMethod method) {
  check_grouping_input(affinity, groups);
  const int K = int(affinity.rows());
  if (method == GroupingMethod::Auto) method = K <= kExactGroupingMaxTasks ? GroupingMethod::Exact : GroupingMethod::Greedy;
  if ((method == GroupingMethod::Exact || method == GroupingMethod::BruteForce) && K > kExactGroupingMaxTasks)
    throw std::invalid_argument(fmt::format("exact grouping is for at most {} tasks (got {}): use greedy",
                                            kExactGroupingMaxTasks, K));
  if (method == GroupingMethod::BruteForce) return BruteForce(affinity, groups).run();
  GroupingResult start = greedy(affinity, groups);
  if (method == GroupingMethod::Greedy) return start;
  // The greedy partition is the first incumbent: its score prunes from the start.
  return BranchAndBound(affinity, groups, start.objective).run(start.groups);
}

GroupingResult branch_and_bound_grouping(const MatrixXd& affinity, int groups) {
  check_grouping_input(affinity, groups);
  if (affinity.rows() > kExactGroupingMaxTasks)
    throw std::invalid_argument(fmt::format("exact grouping is for at most {} tasks (got {}): use greedy",
                                            kExactGroupingMaxTasks, affinity.rows()));
  return BranchAndBound(affinity, groups, kNegInf).run({});
}

std::vector<int> group_of_task(const TaskGroups& groups, int K) {
  std::vector<int> group_of(K, -1);
  for (int c = 0; c < int(groups.size()); ++c)
    for (int k : groups[c]) group_of[k] = c;
  return group_of;
}

}  // namespace mtif
