#include "mtif/task_affinity.hpp"

#include <chrono>
#include <cmath>
#include <functional>
#include <stdexcept>

#include "mtif/linear_curvature.hpp"

namespace mtif {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What a step of the trajectory shows the baselines: the model, its
// predictions on the training rows, each task's mean training loss and each
// task's gradient of that loss with respect to gamma (d x K, one column per task).
struct StepView {
  const LinearModel& model;
  const VectorXd& f;
  const VectorXd& task_loss;
  const MatrixXd& shared_gradient;
};

// The default step: power iteration approaches lambda_max from below, so a 5%
// margin keeps eta well under the stability limit 2 / lambda_max.
double default_step(const LinearConfig& config, const Dataset& train) {
  return 1.0 / (1.05 * block_hessian_max_eigenvalue(linear_block_hessian(zero_linear_model(train, config), train)));
}

// Full-batch gradient descent with a fixed step; calls `visit` before every step.
TrajectoryInfo run_trajectory(const LinearConfig& config, const Dataset& train, const TrajectoryConfig& trajectory,
                              const std::function<void(const StepView&)>& visit) {
  const int K = train.num_tasks();
  LinearModel model = zero_linear_model(train, config);
  TrajectoryInfo info;
  info.steps = trajectory.steps;
  info.learning_rate = trajectory.learning_rate > 0 ? trajectory.learning_rate : default_step(config, train);
  MatrixXd data_gradient(train.num_features(), K);  // (1/n_k) X_k^T l'(f_k)
  VectorXd task_loss(K);
  for (int t = 0; t <= trajectory.steps; ++t) {
    const VectorXd f = model.predict(train);
    for (int k = 0; k < K; ++k) {
      const Index b = train.task_begin[k], n = train.task_rows(k);
      VectorXd r(n);
      double sum = 0;
      for (Index i = 0; i < n; ++i) {
        r(i) = loss_derivative(config.loss, f(b + i), train.y(b + i));
        sum += loss_value(config.loss, f(b + i), train.y(b + i));
      }
      if (n > 0)
        data_gradient.col(k) = train.task_X(k).transpose() * r / double(n);
      else
        data_gradient.col(k).setZero();
      task_loss(k) = n > 0 ? sum / double(n) : 0.0;
    }
    if (t == trajectory.steps) {  // the end point: record, no more steps
      double objective = 0.5 * config.lambda_shared * model.gamma.squaredNorm() + task_loss.sum();
      double gmax = (data_gradient.rowwise().sum() + config.lambda_shared * model.gamma).cwiseAbs().maxCoeff();
      for (int k = 0; k < K; ++k) {
        objective += 0.5 * config.lambda_task * model.theta[k].squaredNorm();
        gmax = std::max(gmax, (data_gradient.col(k) + config.lambda_task * model.theta[k]).cwiseAbs().maxCoeff());
      }
      info.final_objective = objective;
      info.final_gradient_max_abs = gmax;
      break;
    }
    visit(StepView{model, f, task_loss, data_gradient});
    const double eta = info.learning_rate;
    model.gamma -= eta * (data_gradient.rowwise().sum() + config.lambda_shared * model.gamma);
    for (int k = 0; k < K; ++k) model.theta[k] -= eta * (data_gradient.col(k) + config.lambda_task * model.theta[k]);
  }
  return info;
}

// Keeps the columns of a K x K matrix that `targets` names.
MatrixXd target_columns(const MatrixXd& m, const Targets& targets) {
  MatrixXd out(m.rows(), targets.size());
  for (int t = 0; t < targets.size(); ++t) out.col(t) = m.col(targets.task[t]);
  return out;
}

void check_task_targets(const Targets& targets) {
  if (targets.rows()) throw std::invalid_argument("tag and gradcos relate tasks: use task targets");
}

}  // namespace

double block_hessian_max_eigenvalue(const BlockHessian& h, int iterations) {
  const int K = h.num_tasks();
  const Index p = h.C.rows();
  // Start from a unit vector with every entry equal (not orthogonal to the top eigenvector in practice).
  Index size = p;
  for (int k = 0; k < K; ++k) size += h.A[k].rows();
  const double entry = 1.0 / std::sqrt(double(size));
  BlockVector v{std::vector<VectorXd>(K), VectorXd::Constant(p, entry)};
  for (int k = 0; k < K; ++k) v.theta[k] = VectorXd::Constant(h.A[k].rows(), entry);
  double lambda = 0;
  for (int it = 0; it < iterations; ++it) {
    BlockVector w{std::vector<VectorXd>(K), h.C * v.gamma};
    for (int k = 0; k < K; ++k) {
      w.theta[k] = h.A[k] * v.theta[k] + h.B[k] * v.gamma;
      w.gamma += h.B[k].transpose() * v.theta[k];
    }
    double norm = w.gamma.squaredNorm();
    for (const auto& t : w.theta) norm += t.squaredNorm();
    norm = std::sqrt(norm);
    if (!(norm > 0)) break;
    lambda = norm;  // |H v| with |v| = 1 converges to lambda_max (H is PSD)
    v.gamma = w.gamma / norm;
    for (int k = 0; k < K; ++k) v.theta[k] = w.theta[k] / norm;
  }
  return lambda;
}

Relatedness relatedness_by_tag(const LinearConfig& config, const Dataset& train, const Targets& targets,
                               const TrajectoryConfig& trajectory, TrajectoryInfo* info) {
  check_task_targets(targets);
  auto start = std::chrono::steady_clock::now();
  const int K = train.num_tasks();
  MatrixXd affinity = MatrixXd::Zero(K, K);
  double eta = 0;
  auto visit = [&](const StepView& s) {
    // Lookahead predictions of task j after a shared step on task i's gradient:
    // f_j - eta X_j g_i, for all i at once (n_j x K).
#pragma omp parallel for schedule(dynamic)
    for (int j = 0; j < K; ++j) {
      const Index b = train.task_begin[j], n = train.task_rows(j);
      if (n == 0 || !(s.task_loss(j) > 0)) continue;
      const MatrixXd shift = train.task_X(j) * s.shared_gradient;
      for (int i = 0; i < K; ++i) {
        double sum = 0;
        for (Index r = 0; r < n; ++r) sum += loss_value(config.loss, s.f(b + r) - eta * shift(r, i), train.y(b + r));
        affinity(i, j) += 1.0 - (sum / double(n)) / s.task_loss(j);
      }
    }
  };
  TrajectoryConfig tc = trajectory;
  if (tc.learning_rate <= 0) tc.learning_rate = default_step(config, train);
  eta = tc.learning_rate;
  TrajectoryInfo ti = run_trajectory(config, train, tc, visit);
  if (info) *info = ti;
  Relatedness out{"tag", target_columns(affinity / std::max(1, tc.steps), targets), 0};
  out.seconds = seconds_since(start);
  return out;
}

Relatedness relatedness_by_gradcos(const LinearConfig& config, const Dataset& train, const Targets& targets,
                                   const TrajectoryConfig& trajectory, TrajectoryInfo* info) {
  check_task_targets(targets);
  auto start = std::chrono::steady_clock::now();
  const int K = train.num_tasks();
  MatrixXd cosine = MatrixXd::Zero(K, K);
  auto visit = [&](const StepView& s) {
    VectorXd norm = s.shared_gradient.colwise().norm().transpose();
    MatrixXd dots = s.shared_gradient.transpose() * s.shared_gradient;
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j)
        if (norm(i) > 0 && norm(j) > 0) cosine(i, j) += dots(i, j) / (norm(i) * norm(j));
  };
  TrajectoryInfo ti = run_trajectory(config, train, trajectory, visit);
  if (info) *info = ti;
  Relatedness out{"gradcos", target_columns(cosine / std::max(1, trajectory.steps), targets), 0};
  out.seconds = seconds_since(start);
  return out;
}

}  // namespace mtif
