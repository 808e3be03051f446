#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "../models/mlp_impl.hpp"
#include "mtif/mlp_validation.hpp"

namespace mtif {

std::string MlpRetrainProtocol::describe() const {
  if (optimizer == "lbfgs")
    return fmt::format("warm start from the full fit, {} full-batch L-BFGS iterations (strong Wolfe), "
                       "difference to the full data under the same protocol",
                       steps);
  return fmt::format("warm start from the full fit, {} {} steps with the fit's seed and batch order, "
                     "difference to the full data under the same protocol",
                     steps, optimizer);
}

void RefitStops::add(const std::string& reason, long iterations, double gradient_max_abs) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++by_reason_[reason];
  ++refits_;
  most_iterations_ = std::max(most_iterations_, iterations);
  largest_gradient_ = std::max(largest_gradient_, gradient_max_abs);
}

long RefitStops::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refits_;
}

std::string RefitStops::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> parts;
  for (const auto& [reason, n] : by_reason_) parts.push_back(fmt::format("{} {}", n, reason));
  return fmt::format("{} refits stopped: {}; at most {} iterations; largest final max |gradient| {:.3g}", refits_,
                     fmt::join(parts, ", "), most_iterations_, largest_gradient_);
}

nlohmann::json RefitStops::json() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"refits", refits_}, {"stopped_by", by_reason_}, {"most_iterations", most_iterations_},
          {"largest_final_max_abs_gradient", largest_gradient_}};
}

namespace {
constexpr double kLbfgsGradientTolerance = 1e-12;

// Why LibTorch's L-BFGS returned, from its iteration count and the final
// gradient (it records no reason itself): the iteration or evaluation limit,
// the gradient tolerance, or no progress (a step or loss change below 1e-15).
std::string lbfgs_stop_reason(long iterations, long evaluations, long steps, double gradient) {
  if (gradient <= kLbfgsGradientTolerance) return "gradient tolerance";
  if (iterations >= steps) return fmt::format("iteration limit ({})", steps);
  if (evaluations >= 2 * steps) return "evaluation limit";
  return "no progress (step or loss change below 1e-15)";
}

MlpModel lbfgs_refit(const MlpModel& start, const Dataset& train, const VectorXd& weight, long steps,
                     RefitStops& stops) {
  MlpModel model = start;
  NetworkImpl& net = model.impl();
  TorchData data = to_torch(train, &weight);
  auto params = net.all_parameters();
  torch::optim::LBFGS optimizer(params, torch::optim::LBFGSOptions(1.0)
                                            .max_iter(steps)
                                            .max_eval(steps * 2)
                                            .history_size(50)
                                            .tolerance_grad(kLbfgsGradientTolerance)
                                            .tolerance_change(1e-15)
                                            .line_search_fn("strong_wolfe"));
  optimizer.step([&] {
    optimizer.zero_grad();
    torch::Tensor loss = objective_tensor(net, data);
    loss.backward();
    return loss;
  });
  long iterations = 0, evaluations = 0;
  for (const auto& entry : optimizer.state()) {  // one entry: the state of the first parameter
    const auto& state = static_cast<const torch::optim::LBFGSParamState&>(*entry.second);
    iterations = state.n_iter();
    evaluations = state.func_evals();
  }
  const double gradient = model.objective_gradient(train, &weight).max_abs();
  stops.add(lbfgs_stop_reason(iterations, evaluations, steps, gradient), iterations, gradient);
  return model;
}
}  // namespace

MlpModel mlp_retrain(const MlpModel& start, const Dataset& train, const VectorXd& weight,
                     const MlpRetrainProtocol& protocol) {
  if (protocol.optimizer == "lbfgs") return lbfgs_refit(start, train, weight, protocol.steps, *protocol.stops);
  if (protocol.optimizer != "adam" && protocol.optimizer != "sgd")
    throw std::invalid_argument("unknown retraining optimizer '" + protocol.optimizer +
                                "' (expected lbfgs, adam or sgd)");
  MlpConfig config = start.config();
  config.optimizer = protocol.optimizer;
  MlpTrainOptions options;
  options.weight = &weight;
  options.warm_start = &start;
  options.steps = protocol.steps;
  MlpModel refit = train_mlp(train, config, options);
  const double gradient = refit.objective_gradient(train, &weight).max_abs();
  protocol.stops->add(fmt::format("fixed {} steps", protocol.optimizer), protocol.steps, gradient);
  return refit;
}

RefitLosses mlp_refit_losses(const MlpModel& start, const Dataset& train, const Dataset& test,
                             const MlpTargets& targets, const MlpRetrainProtocol& protocol) {
  return [&start, &train, &test, &targets, protocol](const VectorXd& weight) {
    return mlp_target_losses(mlp_retrain(start, train, weight, protocol), test, targets);
  };
}

MatrixXd mlp_leave_one_out(const MlpModel& start, const Dataset& train, const Dataset& test,
                           const MlpTargets& targets, const std::vector<Index>& rows,
                           const MlpRetrainProtocol& protocol) {
  RefitLosses refit = mlp_refit_losses(start, train, test, targets, protocol);
  const VectorXd base = refit(VectorXd::Ones(train.num_rows()));
  const std::vector<Index> stored = train.stored_row_of_file_row();
  MatrixXd out(rows.size(), targets.task.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    VectorXd weight = VectorXd::Ones(train.num_rows());
    weight(stored[rows[i]]) = 0.0;
    out.row(i) = (refit(weight) - base).transpose();
  }
  return out;
}

Relatedness mlp_relatedness_by_retraining(const MlpModel& start, const Dataset& train, const Dataset& test,
                                          const MlpTargets& targets, const MlpRetrainProtocol& protocol) {
  auto t0 = std::chrono::steady_clock::now();
  RefitLosses refit = mlp_refit_losses(start, train, test, targets, protocol);
  const VectorXd base = refit(VectorXd::Ones(train.num_rows()));
  Relatedness r;
  r.method = "retrain";
  r.matrix.resize(train.num_tasks(), targets.task.size());
  for (int l = 0; l < train.num_tasks(); ++l) {
    VectorXd weight = VectorXd::Ones(train.num_rows());
    weight.segment(train.task_begin[l], train.task_rows(l)).setZero();
    r.matrix.row(l) = (refit(weight) - base).transpose();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace mtif
