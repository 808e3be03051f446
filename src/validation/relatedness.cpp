#include <chrono>
#include <stdexcept>

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

Relatedness relatedness_by_newton(const LinearModel& full, const Dataset& train, const Dataset& test,
                                  const Targets& targets) {
  auto start = std::chrono::steady_clock::now();
  const int K = train.num_tasks();
  const Index d = train.num_features();
  const double lambda_task = full.config.lambda_task, lambda_shared = full.config.lambda_shared;
  const VectorXd base = target_losses(full, test, targets);
  BlockSchurSolver solver(linear_block_hessian(full, train));
  const BlockHessian& h = solver.hessian();
  // Per task j, once: A_j^-1 B_j, the gradient in theta_j of the objective
  // at the fit and its A_j^-1 solve, and the task's part of the Schur system:
  // contribution C_j - B_j^T A_j^-1 B_j to N, and data gradient minus
  // B_j^T A_j^-1 (theta_j gradient) to the right-hand side.
  const VectorXd r = row_loss_derivatives(full, train);
  std::vector<MatrixXd> A_inv_B(K), schur_part(K);
  std::vector<VectorXd> A_inv_g(K), rhs_part(K);
  for (int j = 0; j < K; ++j) {
    const Index n_j = train.task_rows(j);
    VectorXd data = VectorXd::Zero(d);  // d/dgamma = d/dtheta_j of task j's data term
    if (n_j > 0) data = train.task_X(j).transpose() * r.segment(train.task_begin[j], n_j) / double(train.task_n(j));
    A_inv_B[j] = solver.solve_task(j, h.B[j]);
    const VectorXd theta_gradient = data + lambda_task * full.theta[j];
    A_inv_g[j] = solver.solve_task(j, theta_gradient);
    schur_part[j] = solver.task_schur_part(j);
    rhs_part[j] = solver.partial_out(j, theta_gradient, data);
  }
  // The objective without task l, summed from prefix and suffix sums over
  // the other tasks, never as the full one minus task l's part: when task
  // l's curvature dwarfs what remains (features scaled by 1e6 beside
  // lambda_shared 1e-4, sweep seed 58) such a difference keeps no correct
  // digit. Likewise the step is taken from the gradient of the remaining
  // objective, not from -(task l's gradient), which assumes the fit exact.
  std::vector<MatrixXd> schur_before(K + 1), schur_after(K + 1);
  std::vector<VectorXd> rhs_before(K + 1), rhs_after(K + 1);
  schur_before[0] = lambda_shared * MatrixXd::Identity(d, d);
  rhs_before[0] = lambda_shared * full.gamma;
  schur_after[K] = MatrixXd::Zero(d, d);
  rhs_after[K] = VectorXd::Zero(d);
  for (int j = 0; j < K; ++j) {
    schur_before[j + 1] = schur_before[j] + schur_part[j];
    rhs_before[j + 1] = rhs_before[j] + rhs_part[j];
  }
  for (int j = K - 1; j >= 0; --j) {
    schur_after[j] = schur_after[j + 1] + schur_part[j];
    rhs_after[j] = rhs_after[j + 1] + rhs_part[j];
  }
  Relatedness out{"newton", MatrixXd(K, targets.size()), 0};
#pragma omp parallel for schedule(dynamic)
  for (int l = 0; l < K; ++l) {
    // Newton on the objective without task l: N_-l dgamma = -(its Schur right-hand side),
    // dtheta_j = -A_j^-1 (g_theta_j + B_j dgamma).
    const MatrixXd schur_without = schur_before[l] + schur_after[l + 1];
    const VectorXd delta_gamma = -Eigen::LDLT<MatrixXd>(schur_without).solve(rhs_before[l] + rhs_after[l + 1]);
    LinearModel stepped = full;
    stepped.gamma += delta_gamma;
    for (int j = 0; j < K; ++j) stepped.theta[j] -= A_inv_g[j] + A_inv_B[j] * delta_gamma;
    stepped.theta[l].setZero();  // task l's own parameters leave with it
    out.matrix.row(l) = (target_losses(stepped, test, targets) - base).transpose();
  }
  out.seconds = seconds_since(start);
  return out;
}

MatrixXd subset_removal_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                               const Targets& targets, const std::vector<std::vector<bool>>& remove) {
  const int K = train.num_tasks();
  const Index d = train.num_features();
  BlockSchurSolver solver(linear_block_hessian(full, train));
  const BlockHessian& h = solver.hessian();
  const VectorXd r = row_loss_derivatives(full, train);
  // Per task, once: A_j^-1 B_j, its Schur change when removed, and the
  // gradient of its data term in gamma (the step's right-hand side).
  std::vector<MatrixXd> A_inv_B(K), schur_change(K);
  std::vector<VectorXd> gamma_grad(K);
  for (int j = 0; j < K; ++j) {
    A_inv_B[j] = solver.solve_task(j, h.B[j]);
    schur_change[j] = -solver.task_schur_part(j);
    const Index n_j = train.task_rows(j);
    gamma_grad[j] = VectorXd::Zero(d);
    if (n_j > 0) gamma_grad[j] = train.task_X(j).transpose() * r.segment(train.task_begin[j], n_j) / double(n_j);
  }
  for (const auto& mask : remove)  // checked before the parallel loop: no throw inside it
    if (static_cast<int>(mask.size()) != K) throw std::invalid_argument("a subset mask's length differs from the task count");
  MatrixXd out(remove.size(), targets.size());
#pragma omp parallel for schedule(dynamic)
  for (Index s = 0; s < Index(remove.size()); ++s) {
    MatrixXd schur_without = solver.schur();
    VectorXd b = VectorXd::Zero(d);
    for (int l = 0; l < K; ++l)
      if (remove[s][l]) {
        schur_without += schur_change[l];
        b += gamma_grad[l];
      }
    const VectorXd delta_gamma = Eigen::LDLT<MatrixXd>(schur_without).solve(b);
    LinearModel stepped = full;
    stepped.gamma += delta_gamma;
    for (int j = 0; j < K; ++j) {
      if (remove[s][j]) stepped.theta[j].setZero();  // its parameters leave with it
      else stepped.theta[j] -= A_inv_B[j] * delta_gamma;
    }
    out.row(s) = target_losses(stepped, test, targets).transpose();
  }
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
