#include "mtif/linear_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"

namespace mtif {
namespace {


void add_scaled(LinearModel& m, const BlockVector& step, double scale) {
  m.gamma += scale * step.gamma;
  for (size_t k = 0; k < m.theta.size(); ++k) m.theta[k] += scale * step.theta[k];
}

}  // namespace

VectorXd LinearModel::predict(const Dataset& data) const {
  VectorXd f(data.num_rows());
  for (int k = 0; k < data.num_tasks(); ++k) {
    if (data.task_rows(k) == 0) continue;
    f.segment(data.task_begin[k], data.task_rows(k)).noalias() = data.task_X(k) * task_weights(k);
  }
  return f;
}

double linear_objective(const LinearModel& model, const Dataset& train, const VectorXd* sample_weight,
                        const RowSum* rows) {
  VectorXd f = model.predict(train);
  std::vector<VectorXd> task_loss(1, VectorXd::Zero(train.num_tasks()));  // (1/n_k) sum_i sigma_i l_i, rows held here
  for (int k = 0; k < train.num_tasks(); ++k) {
    if (train.task_rows(k) == 0) continue;
    double sum = 0;
    for (Index i = train.task_begin[k]; i < train.task_begin[k + 1]; ++i) {
      double w = sample_weight ? (*sample_weight)(i) : 1.0;
      if (w != 0) sum += w * loss_value(model.config.loss, f(i), train.y(i));
    }
    task_loss[0](k) = sum / double(train.task_n(k));
  }
  sum_over_rows(rows, task_loss);
  double total = 0.5 * model.config.lambda_shared * model.gamma.squaredNorm();
  for (int k = 0; k < train.num_tasks(); ++k) {
    total += task_loss[0](k);
    total += 0.5 * model.config.lambda_task * model.theta[k].squaredNorm();
  }
  return total;
}

namespace {
// Objective values closer than this cannot be told apart: the sum of n terms
// of size |f| carries about this much rounding.
double objective_rounding(double objective) { return 1e-13 * std::max(1.0, std::abs(objective)); }
}  // namespace

bool fit_converged(const FitReport& report, double gradient_tolerance) {
  if (report.gradient_max_abs <= std::max(gradient_tolerance, 1e-8)) return true;
  // Ill-conditioned but finished: Newton predicts an objective gain below rounding.
  return report.stop == FitStop::NewtonDecrement;
}

std::string describe(const FitReport& r) {
  const char* reason = "";
  switch (r.stop) {
    case FitStop::GradientTolerance: reason = "gradient below its tolerance"; break;
    case FitStop::NewtonDecrement: reason = "Newton decrement below the rounding of the objective"; break;
    case FitStop::NoDescent: reason = "no step lowered the objective or the gradient"; break;
    case FitStop::IterationLimit: reason = "Newton iteration limit reached"; break;
  }
  return fmt::format("{}: {}, max |gradient| {:.3g}, Newton decrement {:.3g}, {} iterations",
                     r.converged ? "converged" : "did not converge", reason, r.gradient_max_abs,
                     r.newton_decrement, r.iterations);
}

// Damped Newton on the block system: one step is exact for the squared loss;
// more are taken only while the gradient is above tolerance (logistic loss,
// or rounding after the first step). Near the optimum the objective changes by
// less than its own rounding, so an Armijo test alone cannot see progress
// there: a step whose objective change is within rounding is taken when it
// lowers the gradient. When no step helps, the fit counts as converged if
// Newton's decrement says the optimum is reached to rounding.
LinearModel fit_linear(const Dataset& train, const LinearConfig& config, const VectorXd* sample_weight,
                       const LinearModel* warm_start, const RowSum* rows) {
  LinearModel model = warm_start ? *warm_start : zero_linear_model(train, config);
  model.config = config;
  model.report = FitReport{};
  model.report.stop = FitStop::IterationLimit;
  double objective = linear_objective(model, train, sample_weight, rows);
  BlockVector grad = linear_gradient(model, train, sample_weight, rows);
  for (int it = 0; it < config.max_newton_iterations; ++it) {
    model.report.gradient_max_abs = grad.max_abs();
    if (model.report.gradient_max_abs <= config.gradient_tolerance) {
      model.report.stop = FitStop::GradientTolerance;
      break;
    }
    BlockSchurSolver solver(linear_block_hessian(model, train, sample_weight, rows));
    BlockVector step = solver.apply(grad);
    double decrement = grad.gamma.dot(step.gamma);
    for (size_t k = 0; k < grad.theta.size(); ++k) decrement += grad.theta[k].dot(step.theta[k]);
    model.report.newton_decrement = decrement;
    // Backtracking (Armijo) line search along -step.
    double scale = 1.0;
    LinearModel trial = model;
    bool improved = false;
    BlockVector trial_grad;
    for (int ls = 0; ls < 40; ++ls) {
      trial = model;
      add_scaled(trial, step, -scale);
      double value = linear_objective(trial, train, sample_weight, rows);
      const bool armijo = value <= objective - 1e-4 * scale * decrement;
      if (armijo || value <= objective + objective_rounding(objective)) {
        trial_grad = linear_gradient(trial, train, sample_weight, rows);
        improved = armijo || trial_grad.max_abs() < model.report.gradient_max_abs;
      }
      if (improved) {
        objective = value;
        break;
      }
      scale *= 0.5;
    }
    model.report.iterations = it + 1;
    if (!improved) {  // at the limit of floating point: finished if Newton says the optimum is reached
      model.report.stop = 0.5 * decrement <= objective_rounding(objective) ? FitStop::NewtonDecrement
                                                                          : FitStop::NoDescent;
      break;
    }
    model.theta = std::move(trial.theta);
    model.gamma = std::move(trial.gamma);
    grad = std::move(trial_grad);
    // A step predicted to gain less than the objective's rounding leaves the
    // fit at the optimum to rounding; the Armijo test cannot tell later steps
    // from noise, so they would run to the iteration limit (features at 1e6:
    // gradient 7e-6 from rounding alone, decrement 8e-23, 100 iterations).
    if (grad.max_abs() > config.gradient_tolerance && 0.5 * decrement <= objective_rounding(objective)) {
      model.report.stop = FitStop::NewtonDecrement;
      break;
    }
  }
  model.report.gradient_max_abs = grad.max_abs();
  if (model.report.stop == FitStop::IterationLimit && model.report.gradient_max_abs <= config.gradient_tolerance)
    model.report.stop = FitStop::GradientTolerance;
  model.report.objective = objective;
  model.report.converged = fit_converged(model.report, config.gradient_tolerance);
  return model;
}

VectorXd task_mean_loss(const LinearModel& model, const Dataset& data) {
  VectorXd f = model.predict(data);
  VectorXd out(data.num_tasks());
  for (int k = 0; k < data.num_tasks(); ++k) {
    const Index n_k = data.task_rows(k);
    double sum = 0;
    for (Index i = data.task_begin[k]; i < data.task_begin[k + 1]; ++i)
      sum += loss_value(model.config.loss, f(i), data.y(i));
    out(k) = n_k > 0 ? sum / double(n_k) : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

namespace {
std::vector<double> to_vector(const VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); }
VectorXd from_vector(const std::vector<double>& v) { return Eigen::Map<const VectorXd>(v.data(), v.size()); }
}  // namespace

nlohmann::json to_json(const LinearModel& model) {
  nlohmann::json j;
  j["format"] = "mtif-linear-model";
  j["version"] = 1;
  j["loss"] = loss_name(model.config.loss);
  j["lambda_task"] = model.config.lambda_task;
  j["lambda_shared"] = model.config.lambda_shared;
  j["intercept"] = model.config.intercept;
  j["features"] = model.feature_names;
  j["tasks"] = model.task_names;
  j["gamma"] = to_vector(model.gamma);
  j["theta"] = nlohmann::json::array();
  for (const auto& t : model.theta) j["theta"].push_back(to_vector(t));
  j["fit"] = {{"iterations", model.report.iterations},
              {"objective", model.report.objective},
              {"gradient_max_abs", model.report.gradient_max_abs},
              {"converged", model.report.converged},
              {"newton_decrement", model.report.newton_decrement},
              {"stopped", describe(model.report)}};
  return j;
}

namespace {
// j[name] as T, or an error that names the file and the field (nlohmann's own
// messages name neither).
template <typename T>
T model_field(const nlohmann::json& j, const char* name, const std::string& source) {
  if (!j.contains(name)) throw std::runtime_error(fmt::format("{}: missing field \"{}\"", source, name));
  try {
    return j.at(name).get<T>();
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();
    if (const auto cut = why.find("] "); cut != std::string::npos) why = why.substr(cut + 2);
    throw std::runtime_error(fmt::format("{}: field \"{}\": {}", source, name, why));
  }
}
}  // namespace

LinearModel linear_model_from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object() || j.value("format", "") != "mtif-linear-model")
    throw std::runtime_error(source + ": not an mtif linear model file (missing \"format\": \"mtif-linear-model\")");
  LinearModel m;
  m.config.loss = parse_loss(model_field<std::string>(j, "loss", source));
  m.config.lambda_task = model_field<double>(j, "lambda_task", source);
  m.config.lambda_shared = model_field<double>(j, "lambda_shared", source);
  m.config.intercept = model_field<bool>(j, "intercept", source);
  m.feature_names = model_field<std::vector<std::string>>(j, "features", source);
  m.task_names = model_field<std::vector<std::string>>(j, "tasks", source);
  m.gamma = from_vector(model_field<std::vector<double>>(j, "gamma", source));
  for (const auto& t : model_field<std::vector<std::vector<double>>>(j, "theta", source)) m.theta.push_back(from_vector(t));
  if (m.theta.size() != m.task_names.size() || m.gamma.size() != Index(m.feature_names.size()))
    throw std::runtime_error(source + ": parameter sizes do not match the task and feature lists");
  for (const auto& t : m.theta)
    if (t.size() != m.gamma.size()) throw std::runtime_error(source + ": theta and gamma sizes differ");
  if (j.contains("fit") && j["fit"].is_object()) {
    try {
      m.report.iterations = j["fit"].value("iterations", 0);
      m.report.objective = j["fit"].value("objective", 0.0);
      m.report.gradient_max_abs = j["fit"].value("gradient_max_abs", 0.0);
      m.report.converged = j["fit"].value("converged", true);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(source + ": field \"fit\" holds a value of the wrong type");
    }
  }
  return m;
}

LinearModel zero_linear_model(const Dataset& train, const LinearConfig& config) {
  LinearModel m;
  m.config = config;
  m.feature_names = train.feature_names;
  m.task_names = train.task_names;
  m.theta.assign(train.num_tasks(), VectorXd::Zero(train.num_features()));
  m.gamma = VectorXd::Zero(train.num_features());
  return m;
}

}  // namespace mtif
