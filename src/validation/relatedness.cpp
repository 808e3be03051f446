#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "mtif/progress.hpp"
#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/validation.hpp"

namespace mtif {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Row weights that remove every row of task l.
VectorXd without_task(const Dataset& train, int l) {
  VectorXd weight = VectorXd::Ones(train.num_rows());
  weight.segment(train.task_begin[l], train.task_rows(l)).setZero();
  return weight;
}

}  // namespace

Relatedness relatedness_by_retraining(const LinearModel& full, const Dataset& train, const Dataset& test,
                                      const Targets& targets) {
  auto start = std::chrono::steady_clock::now();
  const int K = train.num_tasks();
  const VectorXd base = target_losses(full, test, targets);
  Relatedness out{"retrain", MatrixXd(K, targets.size()), 0};
  std::string error;
  Progress progress("leave-one-task-out refits", K);
#pragma omp parallel for schedule(dynamic)
  for (int l = 0; l < K; ++l) {
    VectorXd weight = without_task(train, l);
    // With no data left, theta_l's only term is its penalty, so the refit sets
    // it to 0: the same as removing theta_l (mtif-math.md 4).
    try {  // an exception must not leave the OpenMP region (std::terminate)
      LinearModel refit = fit_linear(train, full.config, &weight, &full);
      if (!refit.report.converged) {
#pragma omp critical
        error = "the refit without task " + train.task_names[l] + " " + describe(refit.report);
      }
      out.matrix.row(l) = (target_losses(refit, test, targets) - base).transpose();
    } catch (const std::exception& e) {
#pragma omp critical
      error = "the refit without task " + train.task_names[l] + ": " + e.what();
    }
    progress.add();
  }
  if (!error.empty()) throw std::runtime_error(error);
  out.seconds = seconds_since(start);
  return out;
}

namespace {

// What a Newton step from the fit on the objective without a set of tasks
// needs, per task j, once: A_j^-1 B_j, the gradient in theta_j of the
// objective at the fit and its A_j^-1 solve, and the task's part of the Schur
// system: its contribution C_j - B_j^T A_j^-1 B_j to N and data gradient minus
// B_j^T A_j^-1 (theta_j gradient) to the right-hand side.
struct TaskNewtonParts {
  std::vector<MatrixXd> A_inv_B, schur;
  std::vector<VectorXd> A_inv_g, rhs;
  MatrixXd shared_schur;  // the shared penalty's part of N
  VectorXd shared_rhs;    // and of the right-hand side

  TaskNewtonParts(const LinearModel& full, const Dataset& train) {
    const int K = train.num_tasks();
    const Index d = train.num_features();
    BlockSchurSolver solver(linear_block_hessian(full, train));
    const BlockHessian& h = solver.hessian();
    const VectorXd r = row_loss_derivatives(full, train);
    A_inv_B.resize(K), schur.resize(K), A_inv_g.resize(K), rhs.resize(K);
    for (int j = 0; j < K; ++j) {
      const Index n_j = train.task_rows(j);
      VectorXd data = VectorXd::Zero(d);  // d/dgamma = d/dtheta_j of task j's data term
      if (n_j > 0) data = train.task_X(j).transpose() * r.segment(train.task_begin[j], n_j) / double(train.task_n(j));
      A_inv_B[j] = solver.solve_task(j, h.B[j]);
      const VectorXd theta_gradient = data + full.config.lambda_task * full.theta[j];
      A_inv_g[j] = solver.solve_task(j, theta_gradient);
      schur[j] = solver.task_schur_part(j);
      rhs[j] = solver.partial_out(j, theta_gradient, data);
    }
    shared_schur = full.config.lambda_shared * MatrixXd::Identity(d, d);
    shared_rhs = full.config.lambda_shared * full.gamma;
  }

  // The Newton step on the objective without the tasks marked in `removed`,
  // given its Schur complement and right-hand side: N_-S dgamma = -rhs,
  // dtheta_j = -A_j^-1 (g_theta_j + B_j dgamma); removed tasks' parameters
  // leave with them. Throws when N_-S is singular (nothing fixes some shared
  // weight once S is gone), as retraining does.
  LinearModel step(const LinearModel& full, const MatrixXd& schur_without, const VectorXd& rhs_without,
                   const std::vector<bool>& removed) const {
    const Eigen::LDLT<MatrixXd> factor(schur_without);
    if (!is_positive_definite(factor))
      throw std::runtime_error(
          "its Schur complement is not positive definite: the objective without it has no strict minimum (raise "
          "--lambda-shared)");
    const VectorXd delta_gamma = -factor.solve(rhs_without);
    LinearModel stepped = full;
    stepped.gamma += delta_gamma;
    for (std::size_t j = 0; j < removed.size(); ++j) {
      if (removed[j]) stepped.theta[j].setZero();
      else stepped.theta[j] -= A_inv_g[j] + A_inv_B[j] * delta_gamma;
    }
    return stepped;
  }
};

}  // namespace

Relatedness relatedness_by_newton(const LinearModel& full, const Dataset& train, const Dataset& test,
                                  const Targets& targets) {
  auto start = std::chrono::steady_clock::now();
  const int K = train.num_tasks();
  const VectorXd base = target_losses(full, test, targets);
  const TaskNewtonParts parts(full, train);
  // The objective without task l, summed from prefix and suffix sums over
  // the other tasks, never as the full one minus task l's part: when task
  // l's curvature dwarfs what remains (features scaled by 1e6 beside
  // lambda_shared 1e-4, sweep seed 58) such a difference keeps no correct
  // digit. Likewise the step is taken from the gradient of the remaining
  // objective, not from -(task l's gradient), which assumes the fit exact.
  std::vector<MatrixXd> schur_before(K + 1), schur_after(K + 1);
  std::vector<VectorXd> rhs_before(K + 1), rhs_after(K + 1);
  schur_before[0] = parts.shared_schur;
  rhs_before[0] = parts.shared_rhs;
  schur_after[K] = MatrixXd::Zero(parts.shared_schur.rows(), parts.shared_schur.cols());
  rhs_after[K] = VectorXd::Zero(parts.shared_rhs.size());
  for (int j = 0; j < K; ++j) {
    schur_before[j + 1] = schur_before[j] + parts.schur[j];
    rhs_before[j + 1] = rhs_before[j] + parts.rhs[j];
  }
  for (int j = K - 1; j >= 0; --j) {
    schur_after[j] = schur_after[j + 1] + parts.schur[j];
    rhs_after[j] = rhs_after[j + 1] + parts.rhs[j];
  }
  Relatedness out{"newton", MatrixXd(K, targets.size()), 0};
  std::string error;
#pragma omp parallel for schedule(dynamic)
  for (int l = 0; l < K; ++l) {
    std::vector<bool> removed(K, false);
    removed[l] = true;
    try {  // an exception must not leave the OpenMP region (std::terminate)
      const LinearModel stepped =
          parts.step(full, schur_before[l] + schur_after[l + 1], rhs_before[l] + rhs_after[l + 1], removed);
      out.matrix.row(l) = (target_losses(stepped, test, targets) - base).transpose();
    } catch (const std::exception& e) {
#pragma omp critical
      error = "the Newton step without task " + train.task_names[l] + ": " + e.what();
    }
  }
  if (!error.empty()) throw std::runtime_error(error);
  out.seconds = seconds_since(start);
  return out;
}

MatrixXd subset_removal_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                               const Targets& targets, const std::vector<std::vector<bool>>& remove) {
  const int K = train.num_tasks();
  for (const auto& mask : remove)  // checked before the parallel loop: no throw inside it
    if (static_cast<int>(mask.size()) != K) throw std::invalid_argument("a subset mask's length differs from the task count");
  const TaskNewtonParts parts(full, train);
  MatrixXd out(remove.size(), targets.size());
  std::string error;
#pragma omp parallel for schedule(dynamic)
  for (Index s = 0; s < Index(remove.size()); ++s) {
    // Summed over the kept tasks, not as N minus the removed tasks' parts:
    // that difference cancels when a removed task's curvature dwarfs the rest.
    MatrixXd schur_without = parts.shared_schur;
    VectorXd rhs_without = parts.shared_rhs;
    for (int j = 0; j < K; ++j)
      if (!remove[s][j]) {
        schur_without += parts.schur[j];
        rhs_without += parts.rhs[j];
      }
    try {
      out.row(s) = target_losses(parts.step(full, schur_without, rhs_without, remove[s]), test, targets).transpose();
    } catch (const std::exception& e) {
#pragma omp critical
      error = "the Newton step without task subset " + std::to_string(s) + ": " + e.what();
    }
  }
  if (!error.empty()) throw std::runtime_error(error);
  return out;
}

Relatedness relatedness_by_mtif(const LinearModel& full, const Dataset& train, const Dataset& test,
                                const Targets& targets) {
  (void)test;
  auto start = std::chrono::steady_clock::now();
  BlockSchurSolver solver(linear_block_hessian(full, train));
  InfluenceScores scores = linear_influence(full, train, solver, targets, ScoreMode::FirstOrder, false);
  Relatedness out{"mtif", sum_by_source_task(scores, train.num_tasks()), 0};
  out.seconds = seconds_since(start);
  return out;
}

}  // namespace mtif
