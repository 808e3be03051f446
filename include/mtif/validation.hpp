// Ground truth by real retraining (mtif-math.md 4 and 6), the Newton
// leave-one-task-out estimator, and the correlations that compare them with
// predicted scores.
#pragma once

#include <string>
#include <vector>

#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"

namespace mtif {

// Parses "0-99,250,300-310" or "all" into sorted unique indices < n.
// Throws std::invalid_argument naming the bad piece.
std::vector<Index> parse_row_spec(const std::string& spec, Index n);

// Actual change of each target's loss when each listed train row (file order)
// is removed (weight 0) and the model refitted, warm-started from `full`.
// Result: rows.size() x T.
MatrixXd leave_one_out(const LinearModel& full, const Dataset& train, const Dataset& test, const Targets& targets,
                       const std::vector<Index>& rows);

// Relatedness matrices: entry (l, t) = change of target t's loss when source
// task l is removed; R > 0 means task l helps the target.
struct Relatedness {
  std::string method;
  MatrixXd matrix;  // K sources x T targets
  double seconds = 0;
};

Relatedness relatedness_by_retraining(const LinearModel& full, const Dataset& train, const Dataset& test,
                                      const Targets& targets);
// Newton step on the objective without task l (its rows and theta_l), through
// the Schur complement N_{-l} = N + B_l^T A_l^-1 B_l - C_l. The target loss is
// evaluated at the stepped parameters; exact for the squared loss.
Relatedness relatedness_by_newton(const LinearModel& full, const Dataset& train, const Dataset& test,
                                  const Targets& targets);
Relatedness relatedness_by_mtif(const LinearModel& full, const Dataset& train, const Dataset& test,
                                const Targets& targets);

// Statistics.
double pearson(const VectorXd& a, const VectorXd& b);
double spearman(const VectorXd& a, const VectorXd& b);
VectorXd average_ranks(const VectorXd& v);

// Predicted vs actual, split within-task (row's task = target's task) and between-task.
struct Agreement {
  Index count = 0;
  double pearson = 0, spearman = 0;
  double max_abs_error = 0, max_rel_error = 0;  // rel. to the largest |actual| of the group
};
struct AgreementSplit {
  Agreement all, within_task, between_task;
};
AgreementSplit compare_scores(const MatrixXd& predicted, const MatrixXd& actual, const std::vector<int>& row_task,
                              const std::vector<int>& target_task);

}  // namespace mtif
