// The linear multitask model of mtif-math.md 1.1 (Evgeniou-Pontil):
// f_k(x) = x^T (gamma + theta_k), penalties lambda_task/2 ||theta_k||^2 and
// lambda_shared/2 ||gamma||^2, per-task averaged loss.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mtif/dataset.hpp"
#include "mtif/loss.hpp"
#include "mtif/row_sum.hpp"

namespace mtif {

struct LinearConfig {
  LossKind loss = LossKind::Squared;
  double lambda_task = 1.0;
  double lambda_shared = 1.0;
  bool intercept = false;             // applied by the reader as a constant feature
  double gradient_tolerance = 1e-11;  // Newton (logistic) stops when max |grad| is below this
  int max_newton_iterations = 100;
};

// Why Newton stopped; the text of each is in describe(const FitReport&).
enum class FitStop {
  GradientTolerance,  // max |grad| <= gradient_tolerance
  NewtonDecrement,    // no step helped, but g^T H^-1 g / 2 is below the objective's rounding: at the optimum
  NoDescent,          // no step lowered the objective or, within rounding, the gradient
  IterationLimit,     // max_newton_iterations taken
};

struct FitReport {
  int iterations = 0;
  double objective = 0;
  double gradient_max_abs = 0;
  double newton_decrement = 0;  // g^T H^-1 g at the last Newton step (0 if none was needed)
  FitStop stop = FitStop::GradientTolerance;
  bool converged = true;
};
// "converged (...)" or "did not converge: ..." with the reason, max |grad| and iterations.
std::string describe(const FitReport& report);
// The one rule for every linear fit (in memory, streaming, refits): the
// gradient is at its tolerance (rounding may leave it a little above: 1e-8),
// or Newton's own measure of the distance to the optimum is at rounding level.
bool fit_converged(const FitReport& report, double gradient_tolerance);

struct LinearModel {
  LinearConfig config;
  std::vector<std::string> feature_names;
  std::vector<std::string> task_names;
  std::vector<VectorXd> theta;  // task-specific deviations
  VectorXd gamma;               // shared centre
  FitReport report;

  int num_tasks() const { return static_cast<int>(theta.size()); }
  VectorXd task_weights(int k) const { return gamma + theta[k]; }
  // Prediction f for every stored row of `data` (its task decides the weights).
  VectorXd predict(const Dataset& data) const;
};

// All weights zero: the start of a cold fit and of the TAG / gradcos trajectories.
LinearModel zero_linear_model(const Dataset& train, const LinearConfig& config);

// Sample weights sigma (mtif-math.md 1): one per stored row; nullptr = all ones.
// The per-task normalisation 1/n_k always uses the full row count of the task,
// so a weight of 0 removes a row from exactly the objective the influence
// scores describe. `rows` (nullptr: one process) combines the sums over rows
// held by other processes; every process then takes the same Newton steps.
LinearModel fit_linear(const Dataset& train, const LinearConfig& config, const VectorXd* sample_weight = nullptr,
                       const LinearModel* warm_start = nullptr, const RowSum* rows = nullptr);

// Objective value L(theta, gamma; sigma).
double linear_objective(const LinearModel& model, const Dataset& train, const VectorXd* sample_weight = nullptr,
                        const RowSum* rows = nullptr);

// Mean loss V_k of each task on `data` (NaN for a task without rows).
VectorXd task_mean_loss(const LinearModel& model, const Dataset& data);

nlohmann::json to_json(const LinearModel& model);
// `source` (the file name) starts every error message.
LinearModel linear_model_from_json(const nlohmann::json& j, const std::string& source = "model file");

}  // namespace mtif
