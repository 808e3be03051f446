#include "mtif/surrogate.hpp"

#include <chrono>
#include <cmath>
#include <stdexcept>

namespace mtif {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

MatrixXd indicators(const TaskSubsets& keep, int K) {
  MatrixXd x(keep.size(), K);
  for (std::size_t s = 0; s < keep.size(); ++s) {
    if (static_cast<int>(keep[s].size()) != K) throw std::invalid_argument("a subset mask's length differs from the task count");
    for (int l = 0; l < K; ++l) x(s, l) = keep[s][l] ? 1.0 : 0.0;
  }
  return x;
}

TaskSubsets complement(const TaskSubsets& keep) {
  TaskSubsets remove = keep;
  for (auto& mask : remove) mask.flip();
  return remove;
}

MatrixXd retrained_subset_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                                 const Targets& targets, const TaskSubsets& keep) {
  MatrixXd out(keep.size(), targets.size());
  std::string error;
#pragma omp parallel for schedule(dynamic)
  for (Index s = 0; s < Index(keep.size()); ++s) {
    VectorXd weight = VectorXd::Ones(train.num_rows());
    for (int l = 0; l < train.num_tasks(); ++l)
      if (!keep[s][l]) weight.segment(train.task_begin[l], train.task_rows(l)).setZero();
    LinearModel refit = fit_linear(train, full.config, &weight, &full);
    if (!refit.report.converged) {
#pragma omp critical
      error = "the refit on subset " + std::to_string(s) + " " + describe(refit.report);
    }
    out.row(s) = target_losses(refit, test, targets).transpose();
  }
  if (!error.empty()) throw std::runtime_error(error);
  return out;
}

// The gradient estimate (header): parameters theta* + P^T w, P = [P_gamma, P_theta_1, ...].
class ProjectedRefit {
 public:
  ProjectedRefit(const LinearModel& full, const Dataset& train, const GradientEstimateConfig& config)
      : full_(full), train_(train), config_(config) {
    const int K = train.num_tasks();
    const Index d = train.num_features(), m = config.projection_dim;
    std::mt19937_64 rng(config.seed);
    std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(double(m)));
    auto draw = [&] {
      MatrixXd p(m, d);
      for (Index i = 0; i < p.size(); ++i) p.data()[i] = normal(rng);
      return p;
    };
    p_gamma_ = draw();
    p_theta_.resize(K);
    for (auto& p : p_theta_) p = draw();
    // Penalty in w: P Lambda P^T and P Lambda theta* (all tasks' theta keep their penalty).
    penalty_ = full.config.lambda_shared * p_gamma_ * p_gamma_.transpose();
    penalty_at_fit_ = full.config.lambda_shared * p_gamma_ * full.gamma;
    for (int k = 0; k < K; ++k) {
      penalty_ += full.config.lambda_task * p_theta_[k] * p_theta_[k].transpose();
      penalty_at_fit_ += full.config.lambda_task * p_theta_[k] * full.theta[k];
    }
    // Each task's data term at w = 0: its gradient and Gauss-Newton block in w.
    grad_at_fit_.resize(K);
    hess_at_fit_.resize(K);
    for (int k = 0; k < K; ++k) task_derivatives(k, full, grad_at_fit_[k], hess_at_fit_[k]);
  }

  LinearModel refit(const std::vector<bool>& keep) const {
    const Index m = config_.projection_dim;
    VectorXd w = VectorXd::Zero(m);
    VectorXd grad = penalty_at_fit_;
    MatrixXd hess = penalty_;
    for (int k = 0; k < train_.num_tasks(); ++k)
      if (keep[k]) grad += grad_at_fit_[k], hess += hess_at_fit_[k];
    const bool quadratic = full_.config.loss == LossKind::Squared;
    for (int it = 0; it < config_.max_iterations; ++it) {
      w -= Eigen::LDLT<MatrixXd>(hess).solve(grad);
      if (quadratic) break;  // one Newton step solves a quadratic exactly
      LinearModel at = model_at(w);
      grad = penalty_at_fit_ + penalty_ * w;
      hess = penalty_;
      for (int k = 0; k < train_.num_tasks(); ++k)
        if (keep[k]) {
          VectorXd g;
          MatrixXd h;
          task_derivatives(k, at, g, h);
          grad += g, hess += h;
        }
      if (grad.cwiseAbs().maxCoeff() <= full_.config.gradient_tolerance) break;
    }
    return model_at(w);
  }

 private:
  LinearModel model_at(const VectorXd& w) const {
    LinearModel out = full_;
    out.gamma += p_gamma_.transpose() * w;
    for (int k = 0; k < out.num_tasks(); ++k) out.theta[k] += p_theta_[k].transpose() * w;
    return out;
  }

  // (1/n_k) sum_i l'(f_i) g_i and (1/n_k) sum_i l''(f_i) g_i g_i^T, g_i = (P_gamma + P_theta_k) x_i.
  void task_derivatives(int k, const LinearModel& at, VectorXd& grad, MatrixXd& hess) const {
    const Index m = config_.projection_dim, n = train_.task_rows(k);
    grad = VectorXd::Zero(m);
    hess = MatrixXd::Zero(m, m);
    if (n == 0) return;
    const auto X = train_.task_X(k);
    const VectorXd f = X * at.task_weights(k);
    VectorXd first(n), second(n);
    for (Index i = 0; i < n; ++i) {
      const double y = train_.y(train_.task_begin[k] + i);
      first(i) = loss_derivative(full_.config.loss, f(i), y);
      second(i) = loss_curvature(full_.config.loss, f(i), y);
    }
    const MatrixXd M = p_gamma_ + p_theta_[k];  // m x d
    const double scale = 1.0 / double(train_.task_n(k));
    grad = scale * M * (X.transpose() * first);
    const MatrixXd xdx = X.transpose() * second.asDiagonal() * X;
    hess = scale * M * xdx * M.transpose();
  }

  const LinearModel& full_;
  const Dataset& train_;
  GradientEstimateConfig config_;
  MatrixXd p_gamma_;
  std::vector<MatrixXd> p_theta_;
  MatrixXd penalty_;
  VectorXd penalty_at_fit_;
  std::vector<VectorXd> grad_at_fit_;
  std::vector<MatrixXd> hess_at_fit_;
};

MatrixXd gradient_subset_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                                const Targets& targets, const TaskSubsets& keep, const GradientEstimateConfig& config) {
  const Index parameters = train.num_features() * (train.num_tasks() + 1);
  // Without a smaller projection the expansion is exact (f is linear in the
  // parameters): the estimate is then the refit itself.
  if (config.projection_dim >= parameters) return retrained_subset_losses(full, train, test, targets, keep);
  ProjectedRefit projected(full, train, config);
  MatrixXd out(keep.size(), targets.size());
#pragma omp parallel for schedule(dynamic)
  for (Index s = 0; s < Index(keep.size()); ++s)
    out.row(s) = target_losses(projected.refit(keep[s]), test, targets).transpose();
  return out;
}

}  // namespace

LinearModel projected_subset_fit(const LinearModel& full, const Dataset& train, const std::vector<bool>& keep,
                                 const GradientEstimateConfig& config) {
  if (static_cast<int>(keep.size()) != train.num_tasks()) throw std::invalid_argument("a subset mask's length differs from the task count");
  return ProjectedRefit(full, train, config).refit(keep);
}

TaskSubsets random_task_subsets(int K, int count, double keep_fraction, std::mt19937_64& rng) {
  if (!(keep_fraction > 0 && keep_fraction <= 1)) throw std::invalid_argument("the subset keep fraction must be in (0, 1]");
  std::bernoulli_distribution coin(keep_fraction);
  TaskSubsets out(count, std::vector<bool>(K));
  for (auto& mask : out) {
    bool any = false;
    while (!any)
      for (int l = 0; l < K; ++l) any |= (mask[l] = coin(rng));
  }
  return out;
}

MatrixXd LinearSurrogate::predict(const TaskSubsets& keep) const {
  MatrixXd x = indicators(keep, static_cast<int>(coefficients.rows()));
  return (x * coefficients).rowwise() + intercept.transpose();
}

LinearSurrogate fit_linear_surrogate(const TaskSubsets& keep, const MatrixXd& losses, double ridge) {
  if (keep.empty()) throw std::invalid_argument("the surrogate needs at least one subset");
  const int K = static_cast<int>(keep[0].size());
  const MatrixXd x = indicators(keep, K);
  const Eigen::RowVectorXd x_mean = x.colwise().mean(), y_mean = losses.colwise().mean();
  const MatrixXd xc = x.rowwise() - x_mean, yc = losses.rowwise() - y_mean;
  MatrixXd normal = xc.transpose() * xc;
  normal.diagonal().array() += ridge * double(keep.size());
  LinearSurrogate out;
  out.coefficients = Eigen::LDLT<MatrixXd>(normal).solve(xc.transpose() * yc);
  out.intercept = (y_mean - x_mean * out.coefficients).transpose();
  return out;
}

VectorXd r_squared(const MatrixXd& actual, const MatrixXd& predicted) {
  VectorXd out(actual.cols());
  for (Index t = 0; t < actual.cols(); ++t) {
    const double residual = (actual.col(t) - predicted.col(t)).squaredNorm();
    const double total = (actual.col(t).array() - actual.col(t).mean()).matrix().squaredNorm();
    out(t) = total > 0 ? 1.0 - residual / total : std::nan("");
  }
  return out;
}

SurrogateResult relatedness_by_surrogate(int K, const SubsetLossFunction& losses, const SurrogateConfig& config,
                                         const std::string& method) {
  if (config.subsets < 2) throw std::invalid_argument("the surrogate needs at least 2 subsets");
  if (config.validate_subsets < 0) throw std::invalid_argument("the held-out subset count must not be negative");
  auto start = std::chrono::steady_clock::now();
  SurrogateResult out;
  std::mt19937_64 rng(config.seed);
  out.subsets = random_task_subsets(K, config.subsets, config.keep_fraction, rng);
  out.held_out = random_task_subsets(K, config.validate_subsets, config.keep_fraction, rng);
  // One call for both sets, so the loss function can parallelise over all of them.
  TaskSubsets all = out.subsets;
  all.insert(all.end(), out.held_out.begin(), out.held_out.end());
  MatrixXd all_losses = losses(all);
  out.losses = all_losses.topRows(config.subsets);
  out.held_out_losses = all_losses.bottomRows(config.validate_subsets);
  out.loss_seconds = seconds_since(start);
  out.surrogate = fit_linear_surrogate(out.subsets, out.losses, config.ridge);
  out.fitted_r2 = r_squared(out.losses, out.surrogate.predict(out.subsets));
  if (config.validate_subsets > 0)
    out.held_out_r2 = r_squared(out.held_out_losses, out.surrogate.predict(out.held_out));
  out.relatedness = Relatedness{method, -out.surrogate.coefficients, seconds_since(start)};
  return out;
}

SubsetLossMethod parse_subset_loss_method(const std::string& name) {
  if (name == "retrain") return SubsetLossMethod::Retrain;
  if (name == "newton") return SubsetLossMethod::Newton;
  if (name == "gradient") return SubsetLossMethod::Gradient;
  throw std::invalid_argument("unknown subset-loss method '" + name + "' (expected retrain, newton or gradient)");
}

MatrixXd linear_subset_losses(const LinearModel& full, const Dataset& train, const Dataset& test,
                              const Targets& targets, const TaskSubsets& keep, SubsetLossMethod method,
                              const GradientEstimateConfig& gradient) {
  indicators(keep, train.num_tasks());  // checks every mask's length before any parallel work
  if (gradient.projection_dim < 1) throw std::invalid_argument("the projection dimension must be positive");
  switch (method) {
    case SubsetLossMethod::Retrain: return retrained_subset_losses(full, train, test, targets, keep);
    case SubsetLossMethod::Newton: return subset_removal_losses(full, train, test, targets, complement(keep));
    case SubsetLossMethod::Gradient: return gradient_subset_losses(full, train, test, targets, keep, gradient);
  }
  throw std::logic_error("unhandled subset-loss method");
}

MatrixXd predicted_subset_losses(const MatrixXd& relatedness, const VectorXd& base, const TaskSubsets& keep) {
  const MatrixXd removed = 1.0 - indicators(keep, static_cast<int>(relatedness.rows())).array();
  return (removed * relatedness).rowwise() + base.transpose();
}

VectorXd subset_spearman(const MatrixXd& relatedness, const VectorXd& base, const TaskSubsets& keep,
                         const MatrixXd& actual) {
  const MatrixXd predicted = predicted_subset_losses(relatedness, base, keep);
  VectorXd out(actual.cols());
  for (Index t = 0; t < actual.cols(); ++t) out(t) = spearman(predicted.col(t), actual.col(t));
  return out;
}

}  // namespace mtif
