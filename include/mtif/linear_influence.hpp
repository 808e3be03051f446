// Instance-level MTIF scores for the linear multitask model (mtif-math.md 3).
//
// score(r, t) = loss_change_if_removed = (1/n_l) a_t^T H^-1 g_r, split into
// a task part (only when the target's task is the row's task) and a shared
// part q_t^T N^-1 p_r. Positive: removing row r would raise the target's loss,
// so the row HELPS; negative: the row HURTS.
//
// Cost: one Schur solve per target (all targets in one multi-RHS solve), then
// one dense product per train task for all its rows: O(n d T) for n rows and
// T targets. Exact mode adds the leverage correction (3.2) and the second-order
// change of the target loss: O(n d^2 T).
#pragma once

#include <string>
#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/linear_model.hpp"

namespace mtif {

enum class ScoreMode { FirstOrder, Exact };
ScoreMode parse_score_mode(const std::string& name);  // "first-order" | "exact"
std::string score_mode_name(ScoreMode mode);

// What a score measures the change of: the mean test loss of a task, or the
// loss of one test row.
struct Targets {
  std::vector<int> task;                   // task id of each target
  std::vector<Index> test_row;             // 0-based test row (file order), -1 for a task target
  MatrixXd gradient;                       // d x T: dV_t / dw_k (= a_theta = a_gamma here)
  std::vector<MatrixXd> curvature_factor;  // F_t with F_t^T F_t = d2V_t / dw_k^2
  int size() const { return static_cast<int>(task.size()); }
  bool rows() const { return !test_row.empty() && test_row[0] >= 0; }
};

// One target per task that has test rows, in task order.
Targets task_targets(const LinearModel& model, const Dataset& test);
// One target per test row, in file order.
Targets row_targets(const LinearModel& model, const Dataset& test);
// Current value V_t of each target's loss.
VectorXd target_losses(const LinearModel& model, const Dataset& test, const Targets& targets);

// Row-major, so one train row's scores are contiguous (and an .npy write is a copy).
using ScoreMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct InfluenceScores {
  // rows: train rows in file order; columns: targets.
  ScoreMatrix total;
  ScoreMatrix task_part;    // empty unless parts were asked for
  ScoreMatrix shared_part;  // empty unless parts were asked for
  std::vector<int> train_task;  // task of each train row, file order
  VectorXd leverage;            // exact mode: h_r u_r^T H^-1 u_r / n_l, file order
  ScoreMode mode = ScoreMode::FirstOrder;
};

// `with_parts` keeps the task and shared parts beside the total (two more n x T matrices).
InfluenceScores linear_influence(const LinearModel& model, const Dataset& train, const BlockInverse& solver,
                                 const Targets& targets, ScoreMode mode, bool with_parts = true);

// K x T sums of the scores of each source task's rows (first-order LOTO).
MatrixXd sum_by_source_task(const InfluenceScores& scores, int num_tasks);

}  // namespace mtif
