#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/task_affinity.hpp"
#include "mtif/validation.hpp"
#include "mtl_models.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {
Relatedness run_method(const std::string& method, const FittedRun& run, const Targets& targets,
                       const TrajectoryConfig& trajectory, nlohmann::json& details) {
  const auto& [train, test] = run.data;
  if (method == "mtif") return relatedness_by_mtif(run.model, train, test, targets);
  if (method == "newton") return relatedness_by_newton(run.model, train, test, targets);
  if (method == "tag" || method == "gradcos") {
    // Baselines on the same model: their own gradient-descent trajectory, on the training rows only.
    TrajectoryInfo info;
    Relatedness r = method == "tag" ? relatedness_by_tag(run.model.config, train, targets, trajectory, &info)
                                    : relatedness_by_gradcos(run.model.config, train, targets, trajectory, &info);
    details = {{"optimizer", "full-batch gradient descent from 0, fixed step"},
               {"steps", info.steps},
               {"learning_rate", info.learning_rate},
               {"final_objective", info.final_objective},
               {"fitted_objective", run.model.report.objective},
               {"final_gradient_max_abs", info.final_gradient_max_abs},
               {"averaged_over", "every step of the trajectory"}};
    return r;
  }
  return relatedness_by_retraining(run.model, train, test, targets);
}

// Spearman over the source tasks other than the target itself: the between-task
// ranking, which the large diagonal entries (a task helps itself most) cannot inflate.
double spearman_between(const VectorXd& a, const VectorXd& b, int target_task) {
  VectorXd x(a.size() - 1), y(b.size() - 1);
  for (Index l = 0, i = 0; l < a.size(); ++l)
    if (l != target_task) x(i) = a(l), y(i) = b(l), ++i;
  return spearman(x, y);
}
}  // namespace

nlohmann::json compare_with_truth(const Relatedness& r, const Relatedness& truth, const Targets& targets,
                                  const std::vector<std::string>& names) {
  nlohmann::json per_target = nlohmann::json::object(), between = nlohmann::json::object();
  double sum = 0, sum_between = 0;
  int count_between = 0;
  for (int t = 0; t < targets.size(); ++t) {
    double s = spearman(r.matrix.col(t), truth.matrix.col(t));
    per_target[names[targets.task[t]]] = std::isfinite(s) ? nlohmann::json(s) : nlohmann::json(nullptr);
    sum += s;
    if (r.matrix.rows() > 2) {
      double b = spearman_between(r.matrix.col(t), truth.matrix.col(t), targets.task[t]);
      between[names[targets.task[t]]] = std::isfinite(b) ? nlohmann::json(b) : nlohmann::json(nullptr);
      if (std::isfinite(b)) sum_between += b, ++count_between;
    }
  }
  double scale = truth.matrix.cwiseAbs().maxCoeff();
  return {{"spearman_per_target", per_target},
          {"mean_spearman", sum / targets.size()},
          {"spearman_between_tasks_per_target", between},
          {"mean_spearman_between_tasks", count_between ? nlohmann::json(sum_between / count_between) : nlohmann::json(nullptr)},
          {"method_seconds", r.seconds},
          {"pearson_all", pearson(Eigen::Map<const VectorXd>(r.matrix.data(), r.matrix.size()),
                                  Eigen::Map<const VectorXd>(truth.matrix.data(), truth.matrix.size()))},
          {"max_rel_error", (r.matrix - truth.matrix).cwiseAbs().maxCoeff() / (scale > 0 ? scale : 1.0)},
          {"retrain_seconds", truth.seconds},
          {"speedup_vs_retrain", truth.seconds / std::max(r.seconds, 1e-9)}};
}

void print_relatedness(const MatrixXd& m, const std::vector<std::string>& names) {
  std::cout << fmt::format("{:>14}", "removed \\ on");
  for (const auto& n : names) std::cout << fmt::format(" {:>11.11}", n);
  std::cout << '\n';
  for (Index l = 0; l < m.rows(); ++l) {
    std::cout << fmt::format("{:>14.14}", names[l]);
    for (Index t = 0; t < m.cols(); ++t) std::cout << fmt::format(" {:>+11.3e}", m(l, t));
    std::cout << '\n';
  }
}

void register_relatedness(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string method = "mtif", matrix_path;
    bool validate = false;
    TrajectoryConfig trajectory;
    NetworkTrajectory network_trajectory;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("relatedness", "the K x K task matrix: what removing task l does to task k");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  cmd->add_option("--method", o->method,
                  "mtif = sum of first-order row scores; newton = one Newton step without the task (exact for "
                  "squared loss); retrain = brute-force leave-one-task-out; tag = lookahead affinity (Fifty et al. "
                  "2021) and gradcos = cosine of per-task shared gradients, both averaged over a training "
                  "trajectory (linear: gradient descent from 0; mlp: the fit's own optimiser run); vmtl = the learned "
                  "classifier-prior weights alpha of VMTL; feedback = loss rise when output feedback is cut (both "
                  "train that model, whatever --model says)")
      ->check(CLI::IsMember({"mtif", "newton", "retrain", "tag", "gradcos", "vmtl", "feedback"}))
      ->capture_default_str();
  cmd->add_option("--out", o->matrix_path,
                  "source_task,target_task,loss_change_if_removed; the value is the test-loss change for mtif, "
                  "newton, retrain and feedback, an affinity for tag/gradcos, and alpha (a prior weight, not a "
                  "loss) for vmtl")
      ->required();
  cmd->add_option("--trajectory-steps", o->trajectory.steps, "tag/gradcos, linear model: full-batch gradient-descent steps")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--trajectory-lr", o->trajectory.learning_rate,
                  "tag/gradcos: step size; linear: of the gradient-descent trajectory and the lookahead (0: 1/lambda_max "
                  "of the Hessian at the zero model); mlp: of the lookahead only (0: the fit's --lr)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--trajectory-every", o->network_trajectory.every,
                  "tag/gradcos, --model mlp: measure before every s-th optimiser step of the fit's own training run "
                  "(steps 0, s, 2s, ...)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--validate", o->validate, "also retrain without each task and report the agreement in --json");
  cmd->footer(
      "R[l][k] > 0: task l helps task k (removing it raises k's test loss); < 0: task l hurts task k.\n"
      "--method vmtl: R[j][t] = alpha_tj, the weight of task j's classifier posterior in task t's prior (for each "
      "target t the values over the sources j != t sum to 1; the beta matrix of the representation prior is in "
      "--json).\n"
      "--method feedback: R[j][t] = rise of task t's mean test loss when the feedback from task j's output into "
      "task t's head is cut at test time (> 0: j's feedback helps t); the gate distributions are in --json.\n"
      "Example:\n  mtif relatedness --train train.csv --test test.csv --method newton --validate --json r.json --out R.csv");
  cmd->callback([o] {
    begin_command(o->out);
    if (is_mtl_model(o->method)) return mtl_relatedness(o->data, o->model, o->out, o->method, o->matrix_path);
    if (is_mtl_model(o->model.model))
      throw std::invalid_argument("--model " + o->model.model + " gives its own matrix: use --method " + o->model.model);
    // Each model's trajectory flag is refused for the other when set to anything but its default (a
    // --json summary replayed by `mtif run` carries both flags at their defaults).
    if (is_network_model(o->model)) {
      if (o->trajectory.steps != TrajectoryConfig{}.steps)
        throw std::invalid_argument("--trajectory-steps is for the linear model: --model mlp observes the fit's own "
                                    "training run (--epochs, --trajectory-every)");
      o->network_trajectory.lookahead_rate = o->trajectory.learning_rate;
      return network_relatedness(o->data, o->model, o->out, o->method, o->matrix_path, o->validate,
                                 o->network_trajectory);
    }
    if (o->network_trajectory.every != NetworkTrajectory{}.every)
      throw std::invalid_argument("--trajectory-every is for --model mlp: the linear trajectory is --trajectory-steps");
    FittedRun run = read_and_fit(o->data, o->model, o->out.quiet);
    Targets targets = task_targets(run.model, run.data.test);
    if ((o->method == "tag" || o->method == "gradcos") && !o->model.model_file.empty())
      throw std::invalid_argument("--method tag/gradcos trains its own trajectory: drop --model-file");
    nlohmann::json details = nullptr;
    Relatedness r = run_method(o->method, run, targets, o->trajectory, details);
    write_relatedness(o->matrix_path, r, targets, run.data.train.task_names);
    if (!o->out.quiet && targets.size() == run.data.train.num_tasks()) {
      std::cout << fmt::format("task relatedness by {} ({:.3f} s); row = task removed, column = task affected:\n",
                               o->method, r.seconds);
      print_relatedness(r.matrix, run.data.train.task_names);
    }
    if (!o->out.json.empty()) {
      nlohmann::json settings = settings_json(o->data, o->model);
      settings["method"] = o->method;
      if (!details.is_null()) settings["trajectory"] = details;
      nlohmann::json j = {{"command", "relatedness"}, {"settings", settings},     {"matrix", matrix_to_json(r.matrix)},
                          {"output", o->matrix_path},  {"seconds", r.seconds},     {"timings", run.timings},  {"warnings", run.warnings},
                          {"sources", run.data.train.task_names}};
      std::vector<std::string> target_names;
      for (int t = 0; t < targets.size(); ++t) target_names.push_back(run.data.train.task_names[targets.task[t]]);
      j["targets"] = target_names;
      if (o->validate) {
        Relatedness truth = relatedness_by_retraining(run.model, run.data.train, run.data.test, targets);
        j["versus_retrain"] = compare_with_truth(r, truth, targets, run.data.train.task_names);
      }
      write_summary(o->out, j);
    }
  });
}

}  // namespace mtif::cli
