// Surrogate-model task affinity (Li, Zhang et al. 2023, "Identification of
// negative transfers in multitask learning using surrogate models") and the
// gradient-based estimate of subset losses (Li et al., KDD 2024, "Scalable
// multitask learning using gradient-based estimation of task affinity").
//
// Random subsets S of the tasks are drawn; for each, the loss of every target
// t after training on S alone is obtained (by retraining, by Newton removal of
// the other tasks, or by a first-order expansion around the multitask fit).
// For each target a ridge regression fits
//     loss_t(S) ~ b_t + sum_l beta[l][t] 1[l in S],
// and beta[l][t] is what adding task l does to target t's loss. The
// relatedness entry keeps the project's sign (mtif-math.md 4: R > 0 = removing
// l raises t's loss, l helps t), so R[l][t] = -beta[l][t], in loss units.
//
// Differences from the paper, and why: every subset is used for every target,
// also those without the target task (the linear model still predicts a task
// whose own parameters are removed: they are 0, the shared part remains), so
// the diagonal is estimated too; each task is kept independently with
// probability keep_fraction instead of a fixed subset size, because with a
// fixed size sum_l 1[l in S] is constant and the intercept would absorb any
// common shift of the coefficients, leaving their sign undetermined.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "mtif/validation.hpp"

namespace mtif {

// keep[s][l]: task l is in (trained on) subset s.
using TaskSubsets = std::vector<std::vector<bool>>;
// The losses of the T targets after training on each subset: subsets x T.
using SubsetLossFunction = std::function<MatrixXd(const TaskSubsets& keep)>;

// `count` subsets of K tasks, each task kept with probability keep_fraction;
// a subset with no task is drawn again.
TaskSubsets random_task_subsets(int K, int count, double keep_fraction, std::mt19937_64& rng);

// The per-target linear models of loss on the subset indicators.
struct LinearSurrogate {
  MatrixXd coefficients;  // K x T: beta[l][t], the change of t's loss when l joins
  VectorXd intercept;     // T
  MatrixXd predict(const TaskSubsets& keep) const;  // subsets x T
};
// Ridge on the centred indicators: (Xc^T Xc + ridge * n I) beta = Xc^T yc per
// target (n = subsets; the intercept is not penalised).
LinearSurrogate fit_linear_surrogate(const TaskSubsets& keep, const MatrixXd& losses, double ridge);

// 1 - SS_res / SS_tot of each column (NaN for a constant column).
VectorXd r_squared(const MatrixXd& actual, const MatrixXd& predicted);

struct SurrogateConfig {
  int subsets = 200;
  double keep_fraction = 0.5;
  double ridge = 1e-3;
  int validate_subsets = 0;  // extra subsets, never fitted on, for the held-out R^2
  std::uint64_t seed = 1;
};

struct SurrogateResult {
  Relatedness relatedness;  // matrix K x T = -surrogate.coefficients
  LinearSurrogate surrogate;
  TaskSubsets subsets, held_out;
  MatrixXd losses, held_out_losses;
  VectorXd held_out_r2;   // per target; empty without held-out subsets
  VectorXd fitted_r2;     // per target, on the fitting subsets (optimistic)
  double loss_seconds = 0;  // obtaining the subset losses, fitted and held-out
};

// `method` names the result ("surrogate", "gradient-estimate").
SurrogateResult relatedness_by_surrogate(int K, const SubsetLossFunction& losses, const SurrogateConfig& config,
                                         const std::string& method = "surrogate");

// How the linear model's subset losses are had.
enum class SubsetLossMethod {
  Retrain,   // fit_linear on the kept tasks' rows (the others at weight 0), warm-started
  Newton,    // subset_removal_losses: exact for the squared loss
  Gradient,  // first-order expansion around the fit on projected gradients (KDD 2024)
};
SubsetLossMethod parse_subset_loss_method(const std::string& name);  // retrain|newton|gradient

// The gradient estimate: the prediction of row i is linearised around the
// multitask fit, f_i(w) = f_i* + g_i^T w with g_i = P phi_i, phi_i the gradient
// of f_i in all parameters (x_i in the gamma block and in theta_k(i)'s) and P
// a Gaussian projection to projection_dim dimensions (the identity when that
// is not smaller than the parameter count). For each subset w minimises the
// kept tasks' data terms plus the model's penalties at theta* + P^T w (Newton
// iterations; one for the squared loss), and the targets' test losses are
// evaluated at the linearised predictions.
struct GradientEstimateConfig {
  int projection_dim = 100;
  std::uint64_t seed = 1;
  int max_iterations = 50;
};

// The gradient estimate's model for one subset, always through the projection
// (linear_subset_losses skips it when it could not be smaller).
LinearModel projected_subset_fit(const LinearModel& full, const Dataset& train, const std::vector<bool>& keep,
                                 const GradientEstimateConfig& config);

MatrixXd linear_subset_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                              const Targets& targets, const TaskSubsets& keep, SubsetLossMethod method,
                              const GradientEstimateConfig& gradient = {});

// How well a relatedness matrix predicts subset losses: it predicts
// loss_t(S) = base_t + sum_{l not in S} R[l][t] (single removals add up), and
// per target the Spearman correlation over the subsets with `actual` is taken.
MatrixXd predicted_subset_losses(const MatrixXd& relatedness, const VectorXd& base, const TaskSubsets& keep);
VectorXd subset_spearman(const MatrixXd& relatedness, const VectorXd& base, const TaskSubsets& keep,
                         const MatrixXd& actual);

}  // namespace mtif
