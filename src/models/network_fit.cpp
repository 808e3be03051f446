#include "mtif/network_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "mtif/mlp_validation.hpp"

namespace mtif {

namespace {

class Lap {
 public:
  double operator()() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

void polish(FittedNetwork& fitted, const Dataset& train, int steps, Lap& lap) {
  if (steps <= 0) return;
  MlpRetrainProtocol protocol;
  protocol.steps = steps;
  fitted.model = mlp_retrain(fitted.model, train, VectorXd::Ones(train.num_rows()), protocol);
  fitted.timings.emplace_back("polish_s", lap());
}

void fit_torchscript(FittedNetwork& fitted, const NetworkSpec& spec, const Dataset& train,
                     std::function<void(long, const MlpModel&)> before_step, Lap& lap) {
  fitted.model = load_torchscript_model(spec.module, spec.config, train.num_tasks(), train);
  fitted.timings.emplace_back("load_s", lap());
  if (spec.module_weights == "train") {
    MlpTrainOptions options;
    options.before_step = std::move(before_step);
    options.warm_start = &fitted.model;
    fitted.model = train_mlp(train, spec.config, options);
    fitted.timings.emplace_back("train_s", lap());
  } else if (before_step) {
    throw std::invalid_argument("--method tag/gradcos observes a training run: add --module-weights train (weights=\"train\" in Python)");
  } else if (spec.module_weights != "as-is" && spec.module_weights != "polish") {
    throw std::invalid_argument("module weights: expected as-is, polish or train, got '" + spec.module_weights + "'");
  }
  if (spec.module_weights != "as-is") polish(fitted, train, spec.polish_steps, lap);
}

}  // namespace

void check_stationary(FittedNetwork& fitted, const Dataset& train, const std::string& advice) {
  const double worst = fitted.model.objective_gradient(train).max_abs();
  fitted.max_abs_gradient = worst;
  if (worst > kStationaryGradient)
    fitted.warnings.push_back(fmt::format(
        "the network is not at a stationary point (max |gradient| {:.2e}): influence then explains the model "
        "these weights would converge to, not these weights; {}",
        worst, advice));
}

FittedNetwork fit_network(const NetworkSpec& spec, const Dataset& train,
                          std::function<void(long, const MlpModel&)> before_step) {
  FittedNetwork fitted;
  Lap lap;
  if (spec.model == "torchscript") {
    fit_torchscript(fitted, spec, train, std::move(before_step), lap);
    check_stationary(fitted, train, "polish them first (--module-weights polish; weights=\"polish\" in Python)");
  } else if (spec.model == "mlp") {
    MlpTrainOptions options;
    options.before_step = std::move(before_step);
    fitted.model = train_mlp(train, spec.config, options);
    fitted.timings.emplace_back("train_s", lap());
    polish(fitted, train, spec.polish_steps, lap);
    check_stationary(fitted, train, "raise --polish-steps (polish_steps in Python)");
  } else {
    throw std::invalid_argument("network model: expected mlp or torchscript, got '" + spec.model + "'");
  }
  return fitted;
}

}  // namespace mtif
