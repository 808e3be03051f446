// A deliberately naive reference: the full (K d + d) x (K d + d) Hessian of
// the linear multitask model, formed and solved densely. Tests compare the
// block-structured engine against it. Parameter order: theta_0..theta_{K-1}, gamma.
#pragma once

#include "mtif/linear_model.hpp"

namespace mtif::test {

struct DenseProblem {
  MatrixXd H;                 // full Hessian at the fit
  MatrixXd row_gradients;     // P x n: gradient of each train row's loss (stored order)
  MatrixXd row_directions;    // P x n: u_r, the row's feature vector in its theta and gamma blocks
  VectorXd row_curvature;     // h_r
  std::vector<int> row_task;  // stored order
};

// Full objective Hessian and per-row quantities for `model` on `train`.
DenseProblem dense_problem(const LinearModel& model, const Dataset& train);

// Gradient (w.r.t. all parameters) of the mean test loss of task k.
VectorXd dense_task_target_gradient(const LinearModel& model, const Dataset& test, int k);

// Minimiser of the squared-loss objective with row weights, by one dense solve
// (independent of the engine's block solver). Returns the stacked parameters.
VectorXd dense_squared_fit(const Dataset& train, const LinearConfig& config, const VectorXd& weight);

// Model built from stacked parameters.
LinearModel unstack(const VectorXd& w, const LinearModel& like);

}  // namespace mtif::test
