// The inverse-curvature solver of a network (mtif-math.md 5), built by name:
// one place that both the command line and the Python module use, so that a
// solver means the same thing everywhere.
#pragma once

#include <memory>
#include <string>

#include "mtif/block_inverse.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

struct NetworkSolverOptions {
  std::string solver = "cg";       // exact | cg | lissa | ekfac
  std::string curvature = "ggn";   // hessian | ggn (ekfac is always Gauss-Newton)
  double damping = 1e-3;
  int cg_iterations = 500;
  double cg_tolerance = 1e-8;
  double lissa_scale = 0;          // 0: 1.1 x the power-iteration estimate of lambda_max
  int lissa_depth = 1000;
};

struct NetworkSolver {
  std::unique_ptr<MlpCurvature> curvature;  // the products the solver uses (none for ekfac)
  std::unique_ptr<BlockInverse> solver;
};

// Throws std::invalid_argument for an unknown solver, and for `exact` on a
// shared block too large to form (more than 20,000 parameters).
NetworkSolver make_network_solver(const MlpModel& model, const Dataset& train, const NetworkSolverOptions& options);

}  // namespace mtif
