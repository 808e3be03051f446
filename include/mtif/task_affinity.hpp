// Task-level relatedness baselines that do not use the Hessian, computed on
// the same linear multitask model (mtif-math.md 1.1) so they can be compared
// with MTIF and leave-one-task-out on equal terms.
//
// Both follow one real training trajectory: full-batch gradient descent on the
// whole objective (data terms + penalties) from theta = gamma = 0 with a fixed
// step eta = 1 / lambda_max(H at the zero model) (for the logistic loss the
// curvature is largest at f = 0, so this step is safe along the whole path).
//
//  * TAG lookahead affinity (Fifty et al. 2021): at every step t, for each
//    source task i, a lookahead step on the shared parameters only,
//    gamma' = gamma - eta g_i with g_i = grad_gamma of task i's mean training
//    loss; then Z_t[i][j] = 1 - L_j(theta_j, gamma') / L_j(theta_j, gamma)
//    with L_j task j's mean TRAINING loss. The matrix is the mean of Z_t over
//    the steps. Z > 0: a step for task i lowers task j's loss (i helps j).
//  * gradient cosine: cos(g_i, g_j) of the same per-task shared gradients,
//    averaged over the same steps (not at the fit, where the gradients of a
//    converged model are dominated by the penalty balance sum_k g_k = -lambda gamma).
//
// Entry [i][j] is "source i on target j", like Relatedness::matrix, so the
// same Spearman-per-target comparison with LOTO applies. The units differ from
// loss changes: only rankings are comparable.
#pragma once

#include "mtif/validation.hpp"

namespace mtif {

struct TrajectoryConfig {
  int steps = 200;
  double learning_rate = 0;  // 0: 1 / lambda_max of the Hessian at the zero model
};

struct TrajectoryInfo {
  int steps = 0;
  double learning_rate = 0;
  double final_objective = 0;
  double final_gradient_max_abs = 0;
};

// `targets` chooses the columns (target tasks), as for the other estimators.
Relatedness relatedness_by_tag(const LinearConfig& config, const Dataset& train, const Targets& targets,
                               const TrajectoryConfig& trajectory, TrajectoryInfo* info = nullptr);
Relatedness relatedness_by_gradcos(const LinearConfig& config, const Dataset& train, const Targets& targets,
                                   const TrajectoryConfig& trajectory, TrajectoryInfo* info = nullptr);

// Largest eigenvalue of a block Hessian (power iteration on the blocks).
double block_hessian_max_eigenvalue(const BlockHessian& h, int iterations = 100);

}  // namespace mtif
