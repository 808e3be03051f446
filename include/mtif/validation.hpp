// Ground truth by real retraining (mtif-math.md 4 and 6), the Newton
// leave-one-task-out estimator, and the correlations that compare them with
// predicted scores.
#pragma once

#include <cstdint>
#include <functional>
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
// Newton step from the fit on the objective without task l (its rows and
// theta_l), through the Schur complement N_{-l} = shared penalty + sum over
// j != l of (C_j - B_j^T A_j^-1 B_j), formed from the other tasks (not as N
// minus task l's part, which cancels) and with the gradient of the remaining
// objective. The target loss is evaluated at the stepped parameters; exact for
// the squared loss.
Relatedness relatedness_by_newton(const LinearModel& full, const Dataset& train, const Dataset& test,
                                  const Targets& targets);
// Newton removal of whole subsets of tasks (mtif-math.md 4, extended from one
// task to a set S): N_{-S} = shared penalty + sum over the kept tasks j of
// (C_j - B_j^T A_j^-1 B_j), summed (not N minus the removed parts, which
// cancels at feature scale 1e6), one p x p LDLT per subset, with the gradient
// of the remaining objective; removed tasks' theta become 0. Exact retraining
// for the squared loss. remove[s][l] true removes task l in subset s. Result:
// subsets x T target test losses. Throws when some N_{-S} is singular.
MatrixXd subset_removal_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                               const Targets& targets, const std::vector<std::vector<bool>>& remove);
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

// Linear datamodeling score (mtif-math.md 6). Each of `subsets` random
// subsets removes round((1 - keep_fraction) n_k) rows from every task k
// (stratified, so no task empties), the model is refitted with those rows at
// weight 0, and the actual change of each target loss is compared with the
// predicted change, the sum of the removed rows' scores (loss_change_if_removed
// adds up to first order). LDS per target = Spearman over the subsets;
// positive and near 1 when the scores predict group removals well.
using RefitLosses = std::function<VectorXd(const VectorXd& weight)>;  // stored-order weights -> target losses
struct LdsResult {
  MatrixXd predicted, actual;  // subsets x T
  VectorXd per_target;         // Spearman per target
  double mean = 0;
};
LdsResult linear_datamodeling_score(const ScoreMatrix& scores, const Dataset& train, const VectorXd& full_losses,
                                    const RefitLosses& refit, double keep_fraction, int subsets,
                                    std::uint64_t seed);

}  // namespace mtif
