#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <iterator>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/surrogate.hpp"
#include "mtif/task_affinity.hpp"
#include "mtif/validation.hpp"
#include "mtl_models.hpp"
#include "network.hpp"
#include "options.hpp"
#include "relatedness_methods.hpp"

namespace mtif::cli {

namespace {
bool is_surrogate_method(const std::string& method) { return method == "surrogate" || method == "gradient-estimate"; }

// subset,role,kept,target_task,loss: kept is one 0/1 character per task in task order.
void write_subsets(const std::string& path, const SurrogateResult& r, const Targets& targets,
                   const std::vector<std::string>& names) {
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "subset,role,kept,target_task,loss\n");
  auto rows = [&](const TaskSubsets& subsets, const MatrixXd& losses, const char* role, std::size_t first) {
    for (std::size_t s = 0; s < subsets.size(); ++s) {
      std::string kept;
      for (bool in : subsets[s]) kept += in ? '1' : '0';
      for (int t = 0; t < targets.size(); ++t)
        fmt::format_to(std::back_inserter(buf), "{},{},{},{},{}\n", first + s, role, kept,
                       csv_quote(names[targets.task[t]]), losses(s, t));
    }
  };
  rows(r.subsets, r.losses, "fit", 0);
  rows(r.held_out, r.held_out_losses, "held-out", r.subsets.size());
  file.write(buf);
  file.commit();
}

nlohmann::json per_target_json(const VectorXd& v, const Targets& targets, const std::vector<std::string>& names) {
  nlohmann::json out = nlohmann::json::object();
  for (int t = 0; t < targets.size(); ++t)
    out[names[targets.task[t]]] = std::isfinite(v(t)) ? nlohmann::json(v(t)) : nlohmann::json(nullptr);
  return out;
}

double finite_mean(const VectorXd& v) {
  double sum = 0;
  int count = 0;
  for (Index i = 0; i < v.size(); ++i)
    if (std::isfinite(v(i))) sum += v(i), ++count;
  return count ? sum / count : std::nan("");
}

Relatedness run_surrogate(const std::string& method, const LinearModel& model, const Dataset& train,
                          const Dataset& test, const Targets& targets, const SubsetOptions& o, nlohmann::json& details,
                          bool quiet) {
  const SubsetLossMethod losses = parse_subset_loss_method(o.losses);
  GradientEstimateConfig gradient;
  gradient.projection_dim = o.projection_dim;
  gradient.seed = o.seed;
  SubsetLossFunction loss_of = [&](const TaskSubsets& keep) {
    return linear_subset_losses(model, train, test, targets, keep, losses, gradient);
  };
  SurrogateConfig config{o.subsets, o.keep_fraction, o.ridge, o.validate, o.seed};
  SurrogateResult r = relatedness_by_surrogate(train.num_tasks(), loss_of, config, method);
  const Index parameters = train.num_features() * (train.num_tasks() + 1);
  details = {{"subsets", o.subsets},
             {"subset_size", o.keep_fraction},
             {"subset_losses", o.losses},
             {"ridge", o.ridge},
             {"subset_seed", o.seed},
             {"subset_loss_seconds", r.loss_seconds},
             {"mean_fitted_r2", finite_mean(r.fitted_r2)},
             {"sign", "R[l][t] = -(coefficient of task l in target t's surrogate): > 0, task l lowers t's loss"}};
  if (losses == SubsetLossMethod::Gradient)
    details["projection"] = {{"dim", o.projection_dim},
                             {"parameters", parameters},
                             {"used", o.projection_dim < parameters}};
  if (o.validate > 0) {
    details["held_out_subsets"] = o.validate;
    details["held_out_r2_per_target"] = per_target_json(r.held_out_r2, targets, train.task_names);
    details["mean_held_out_r2"] = finite_mean(r.held_out_r2);
    if (!quiet)
      std::cerr << fmt::format("{}: held-out R^2 of the surrogate on {} subsets: mean {:.4f}, min {:.4f}\n", method,
                               o.validate, finite_mean(r.held_out_r2), r.held_out_r2.minCoeff());
  }
  if (!o.out.empty()) write_subsets(o.out, r, targets, train.task_names);
  return r.relatedness;
}

// Spearman over N fresh retrained subsets of the matrix's predicted subset losses.
nlohmann::json compare_on_subsets(const Relatedness& r, const FittedRun& run, const Targets& targets,
                                  const SubsetOptions& o) {
  const auto& [train, test] = run.data;
  auto start = std::chrono::steady_clock::now();
  // A stream of its own: never the surrogate's fitting or held-out subsets.
  std::seed_seq seq{o.seed, std::uint64_t(0xC0)};
  std::mt19937_64 rng(seq);
  TaskSubsets keep = random_task_subsets(train.num_tasks(), o.compare, o.keep_fraction, rng);
  MatrixXd actual = linear_subset_losses(run.model, train, test, targets, keep, SubsetLossMethod::Retrain);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  VectorXd rho = subset_spearman(r.matrix, target_losses(run.model, test, targets), keep, actual);
  return {{"subsets", o.compare},
          {"subset_size", o.keep_fraction},
          {"subset_seed", o.seed},
          {"prediction", "loss_t(S) = loss_t(all) + sum of R[l][t] over the tasks l not in S"},
          {"spearman_per_target", per_target_json(rho, targets, train.task_names)},
          {"mean_spearman", finite_mean(rho)},
          {"retrain_seconds", seconds}};
}

Relatedness run_method(const std::string& method, const LinearModel& model, const Dataset& train, const Dataset& test,
                       const Targets& targets, const TrajectoryConfig& trajectory, nlohmann::json& details) {
  if (method == "mtif") return relatedness_by_mtif(model, train, test, targets);
  if (method == "newton") return relatedness_by_newton(model, train, test, targets);
  if (method == "tag" || method == "gradcos") {
    // Baselines on the same model: their own gradient-descent trajectory, on the training rows only.
    TrajectoryInfo info;
    Relatedness r = method == "tag" ? relatedness_by_tag(model.config, train, targets, trajectory, &info)
                                    : relatedness_by_gradcos(model.config, train, targets, trajectory, &info);
    details = {{"optimizer", "full-batch gradient descent from 0, fixed step"},
               {"steps", info.steps},
               {"learning_rate", info.learning_rate},
               {"final_objective", info.final_objective},
               {"fitted_objective", model.report.objective},
               {"final_gradient_max_abs", info.final_gradient_max_abs},
               {"averaged_over", "every step of the trajectory"}};
    return r;
  }
  return relatedness_by_retraining(model, train, test, targets);
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

void add_linear_relatedness_options(CLI::App* cmd, TrajectoryConfig& trajectory, SubsetOptions& subsets) {
  cmd->add_option("--trajectory-steps", trajectory.steps, "tag/gradcos, linear model: full-batch gradient-descent steps")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--trajectory-lr", trajectory.learning_rate,
                  "tag/gradcos: step size; linear: of the gradient-descent trajectory and the lookahead (0: 1/lambda_max "
                  "of the Hessian at the zero model); mlp: of the lookahead only (0: the fit's --lr)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--subsets", subsets.subsets, "surrogate/gradient-estimate: random task subsets the surrogate is fitted on")
      ->check(CLI::Range(2, 1000000))->capture_default_str();
  cmd->add_option("--subset-size", subsets.keep_fraction,
                  "surrogate/gradient-estimate/--compare-subsets: probability that a task is kept in a random subset "
                  "(each task independently; an empty subset is drawn again)")
      ->check(CLI::Range(1e-9, 1.0))->capture_default_str();
  cmd->add_option("--subset-losses", subsets.losses,
                  "surrogate: how a target's loss after training on a subset is had: retrain = refit on the subset; "
                  "newton = Newton removal of the other tasks through the Schur complement (exact for the squared "
                  "loss); gradient = first-order expansion around the fit on projected gradients (gradient-estimate "
                  "always uses it)")
      ->check(CLI::IsMember({"retrain", "newton", "gradient"}))->capture_default_str();
  cmd->add_option("--projection-dim", subsets.projection_dim,
                  "gradient losses: random projection of the per-row parameter gradients (none when not below the "
                  "parameter count d (K + 1): the expansion is then the refit itself)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--surrogate-ridge", subsets.ridge, "surrogate: ridge penalty (times the subset count) on the coefficients")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--subset-seed", subsets.seed, "seed of the random subsets and of the projection")->capture_default_str();
  cmd->add_option("--subsets-out", subsets.out, "surrogate: write subset,role,kept,target_task,loss (kept: one 0/1 per task)");
  cmd->add_option("--validate-subsets", subsets.validate,
                  "surrogate: also draw N held-out subsets (never fitted on) and report the surrogate's R^2 on them")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
}

void resolve_subset_losses(const std::string& method, const CLI::App* cmd, SubsetOptions& subsets) {
  if (method != "gradient-estimate") return;
  if (cmd->get_option("--subset-losses")->count() && subsets.losses != "gradient")
    throw std::invalid_argument("--method gradient-estimate uses --subset-losses gradient (for other losses: --method surrogate)");
  subsets.losses = "gradient";
}

// --score: the matrix of a relatedness file, restricted to the target tasks'
// columns. Measures such as vmtl write no diagonal (a task is not its own source):
// it counts as 0, so the ranks over the other tasks are the file's own.
static Relatedness scored_relatedness(const std::string& path, const std::vector<std::string>& tasks,
                                      const Targets& targets) {
  const MatrixXd all = read_relatedness_file(path, tasks);
  Relatedness r;
  r.method = "score";
  r.matrix.resize(all.rows(), targets.size());
  for (int t = 0; t < targets.size(); ++t) r.matrix.col(t) = all.col(targets.task[t]);
  for (int k = 0; k < r.matrix.rows(); ++k)
    for (int t = 0; t < targets.size(); ++t)
      if (std::isnan(r.matrix(k, t))) r.matrix(k, t) = 0;
  return r;
}

Relatedness linear_relatedness(const std::string& method, const LinearModel& model, const Dataset& train,
                               const Dataset& test, const Targets& targets, const TrajectoryConfig& trajectory,
                               const SubsetOptions& subsets, nlohmann::json& details, bool quiet) {
  details = nullptr;
  return is_surrogate_method(method) ? run_surrogate(method, model, train, test, targets, subsets, details, quiet)
                                     : run_method(method, model, train, test, targets, trajectory, details);
}

void register_relatedness(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string method = "mtif", matrix_path, scored_path;
    bool validate = false;
    TrajectoryConfig trajectory;
    NetworkTrajectory network_trajectory;
    SubsetOptions subsets;
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
                  "train that model, whatever --model says); surrogate = coefficients of a linear surrogate of each target's "
                  "loss on random task subsets (Li, Zhang et al. 2023; --subset-losses); gradient-estimate = the same "
                  "surrogate on subset losses from a gradient expansion around the fit (Li et al. 2024)")
      ->check(CLI::IsMember({"mtif", "newton", "retrain", "tag", "gradcos", "vmtl", "feedback", "surrogate",
                              "gradient-estimate"}))
      ->capture_default_str();
  cmd->add_option("--out", o->matrix_path,
                  "source_task,target_task,loss_change_if_removed; the value is the test-loss change for mtif, "
                  "newton, retrain, feedback, surrogate and gradient-estimate, an affinity for tag/gradcos, and alpha (a prior weight, not a "
                  "loss) for vmtl")
      ->required();
  cmd->add_option("--trajectory-every", o->network_trajectory.every,
                  "tag/gradcos, --model mlp: measure before every s-th optimiser step of the fit's own training run "
                  "(steps 0, s, 2s, ...)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--score", o->scored_path,
                  "linear model: read R from this file (an --out of any method, e.g. vmtl or feedback, which model "
                  "other networks) instead of computing it, and score it against this model's truth (--validate, "
                  "--compare-subsets); a missing diagonal counts as 0");
  cmd->add_flag("--validate", o->validate, "also retrain without each task and report the agreement in --json");
  add_linear_relatedness_options(cmd, o->trajectory, o->subsets);
  cmd->add_option("--compare-subsets", o->subsets.compare,
                  "retrain N fresh random subsets and report, per target, the Spearman of the matrix's predicted "
                  "subset losses (sums of single removals) with them (linear model)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->footer(
      "R[l][k] > 0: task l helps task k (removing it raises k's test loss); < 0: task l hurts task k.\n"
      "--method vmtl: R[j][t] = alpha_tj, the weight of task j's classifier posterior in task t's prior (for each "
      "target t the values over the sources j != t sum to 1; the beta matrix of the representation prior is in "
      "--json).\n"
      "--method feedback: R[j][t] = rise of task t's mean test loss when the feedback from task j's output into "
      "task t's head is cut at test time (> 0: j's feedback helps t); the gate distributions are in --json.\n"
      "Example:\n  mtif relatedness --train train.csv --test test.csv --method newton --validate --json r.json --out R.csv");
  cmd->callback([o, cmd] {
    begin_command(o->out);
    resolve_subset_losses(o->method, cmd, o->subsets);
    const bool subset_work = is_surrogate_method(o->method) || o->subsets.compare > 0;
    if (subset_work && (is_mtl_model(o->method) || is_mtl_model(o->model.model) || is_network_model(o->model)))
      throw std::invalid_argument("--method surrogate/gradient-estimate and --compare-subsets are for the linear model");
    if (!o->scored_path.empty() && (is_surrogate_method(o->method) || o->method == "tag" || o->method == "gradcos" ||
                                    is_mtl_model(o->method) || is_network_model(o->model)))
      throw std::invalid_argument("--score reads its matrix from the file: give no --method, and the linear model");
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
    nlohmann::json details;
    Relatedness r = o->scored_path.empty()
                        ? linear_relatedness(o->method, run.model, run.data.train, run.data.test, targets,
                                             o->trajectory, o->subsets, details, o->out.quiet)
                        : scored_relatedness(o->scored_path, run.data.train.task_names, targets);
    write_relatedness(o->matrix_path, r, targets, run.data.train.task_names);
    if (!o->out.quiet && targets.size() == run.data.train.num_tasks()) {
      std::cout << fmt::format("task relatedness by {} ({:.3f} s); row = task removed, column = task affected:\n",
                               o->method, r.seconds);
      print_relatedness(r.matrix, run.data.train.task_names);
    }
    if (!o->out.json.empty()) {
      nlohmann::json settings = settings_json(o->data, o->model);
      settings["method"] = o->scored_path.empty() ? nlohmann::json(o->method) : nlohmann::json("score");
      if (!o->scored_path.empty()) settings["scored_file"] = o->scored_path;
      if (!details.is_null()) settings[is_surrogate_method(o->method) ? "surrogate" : "trajectory"] = details;
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
      if (o->subsets.compare > 0) j["versus_retrained_subsets"] = compare_on_subsets(r, run, targets, o->subsets);
      if (is_surrogate_method(o->method) && o->subsets.validate > 0) {
        j["held_out_r2_per_target"] = details["held_out_r2_per_target"];
        j["mean_held_out_r2"] = details["mean_held_out_r2"];
      }
      write_summary(o->out, j);
    }
  });
}

}  // namespace mtif::cli
