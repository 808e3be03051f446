#include "network.hpp"

#include <fmt/format.h>

#include <functional>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "mtif/block_schur_solver.hpp"
#include "mtif/iterative_solvers.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_ekfac.hpp"
#include "mtif/mlp_task_affinity.hpp"
#include "mtif/mlp_validation.hpp"
#include "mtif/mpi_world.hpp"
#include "mtif/network_fit.hpp"
#include "mtif/network_solver.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/selection.hpp"

namespace mtif::cli {

namespace {

// Data read, network trained (or loaded) and polished to a stationary point.
struct NetworkRun {
  TrainTest data;
  MlpModel model;
  MlpTargets targets;
  nlohmann::json timings, warnings = nlohmann::json::array();
  nlohmann::json solves = nlohmann::json::array();  // iterative solvers: one report per target
};

MlpConfig network_config(const ModelOptions& m, const Dataset& train) {
  const NetworkOptions& n = m.net;
  MlpConfig c;
  c.hidden = n.hidden;
  c.activation = n.activation;
  c.head = parse_head_kind(m.loss);
  if (c.head == HeadKind::Softmax) c.classes = int(train.y.maxCoeff()) + 1;
  c.weight_decay = n.weight_decay;
  c.optimizer = n.optimizer;
  c.learning_rate = n.learning_rate;
  c.epochs = n.epochs;
  c.batch_size = n.batch_size;
  c.seed = n.seed;
  c.sharing = n.sharing;
  c.coupling = n.coupling;
  return c;
}

MlpRetrainProtocol protocol_of(const NetworkOptions& n) {
  MlpRetrainProtocol p;
  p.optimizer = n.retrain_optimizer;
  p.steps = n.retrain_steps;
  return p;
}

// How the refits under `protocol` ended (why each stopped): one line on stdout.
void print_refit_stops(const MlpRetrainProtocol& protocol, bool quiet) {
  if (!quiet && protocol.stops->count() > 0) std::cout << protocol.stops->summary() << "\n";
}

NetworkRun read_network_data(const DataOptions& data, const ModelOptions& m, bool quiet) {
  if (mpi_world() && mpi_world()->size() > 1)
    throw std::runtime_error("--model " + m.model + " runs in one process: run it without mpirun");
  if (m.model == "torchscript" && m.net.module.empty())
    throw std::invalid_argument("--model torchscript needs --module FILE.pt (torch.jit.save of your network)");
  if (m.model == "torchscript" && !m.model_file.empty())
    throw std::invalid_argument("--model torchscript reads its weights from --module: drop --model-file");
  NetworkRun run;
  Stopwatch clock;
  run.data = read_checked_data(data, m, quiet);
  run.timings["read_s"] = clock.lap();
  return run;
}

TorchScriptSpec torchscript_spec(const NetworkOptions& n) {
  TorchScriptSpec spec;
  spec.path = n.module;
  spec.method = n.module_method;
  spec.shared = n.shared;
  spec.task = n.task_params;
  spec.frozen = n.frozen;
  return spec;
}

NetworkSpec network_spec(const ModelOptions& m, const Dataset& train) {
  NetworkSpec spec;
  spec.model = m.model;
  spec.config = network_config(m, train);
  spec.module = torchscript_spec(m.net);
  spec.module_weights = m.net.module_weights;
  spec.polish_steps = m.net.polish_steps;
  return spec;
}

// --model-file: a saved built-in MLP, attributed at its weights.
FittedNetwork load_saved_mlp(const ModelOptions& m, const Dataset& train) {
  FittedNetwork fitted;  // (read_network_data refused --model-file with --model torchscript)
  LoadedMlp loaded = mlp_from_json(read_json_file(m.model_file));
  if (loaded.task_names != train.task_names || loaded.feature_names != train.feature_names)
    throw std::runtime_error(m.model_file + ": the model's tasks or features do not match the training data");
  fitted.model = std::move(loaded.model);
  check_stationary(fitted, train, "train it longer or polish it before saving");
  return fitted;
}

// Trains (or loads) and polishes the network; `before_step` watches the
// optimiser's run (tag/gradcos) without changing it.
void fit_network(NetworkRun& run, const ModelOptions& m, bool quiet,
                 std::function<void(long, const MlpModel&)> before_step = {}) {
  const Dataset& train = run.data.train;
  FittedNetwork fitted = m.model_file.empty() ? mtif::fit_network(network_spec(m, train), train, std::move(before_step))
                                              : load_saved_mlp(m, train);
  run.model = std::move(fitted.model);
  for (const auto& [name, seconds] : fitted.timings) run.timings[name] = seconds;
  run.timings["max_abs_gradient"] = fitted.max_abs_gradient;
  for (const auto& w : fitted.warnings) run.warnings.push_back(w);
  run.targets = mlp_task_targets(run.model, run.data.test);
  info(quiet, fmt::format("network: {}; max |gradient| {:.2e}", run.model.describe(), fitted.max_abs_gradient));
}

NetworkRun read_and_fit_network(const DataOptions& data, const ModelOptions& m, bool quiet) {
  NetworkRun run = read_network_data(data, m, quiet);
  fit_network(run, m, quiet);
  return run;
}

NetworkSolverOptions solver_options(const NetworkOptions& n) {
  NetworkSolverOptions o;
  o.solver = n.solver;
  o.curvature = n.curvature;
  o.damping = n.damping;
  o.cg_iterations = n.cg_iterations;
  o.cg_tolerance = n.cg_tolerance;
  o.lissa_scale = n.lissa_scale;
  o.lissa_depth = n.lissa_depth;
  return o;
}

InfluenceScores network_scores(NetworkRun& run, const NetworkOptions& n, bool with_parts) {
  Stopwatch clock;
  NetworkSolver b = make_network_solver(run.model, run.data.train, solver_options(n));
  run.timings["curvature_s"] = clock.lap();
  MlpRowGradients rows(run.model, run.data.train);
  InfluenceScores s = mlp_influence(run.model, run.data.train, rows, *b.solver, run.targets, with_parts);
  run.timings["score_s"] = clock.lap();
  for (const auto& w : b.solver->warnings()) run.warnings.push_back(w);
  if (const auto* iterative = dynamic_cast<const IterativeSchurSolver*>(b.solver.get()))
    for (const SolveReport& r : iterative->reports())
      run.solves.push_back({{"solver", n.solver}, {"target", r.target}, {"iterations", r.iterations},
                            {"relative_residual", r.relative_residual}, {"converged", r.converged},
                            {"diverged", r.diverged}});
  return s;
}

// The linear writers' view of the network's targets (one per task).
Targets as_targets(const MlpTargets& t) {
  Targets out;
  out.task = t.task;
  out.test_row = t.test_row;
  return out;
}

void print_warnings(const NetworkRun& run) {
  for (const auto& w : run.warnings) std::cerr << "warning: " << w.get<std::string>() << '\n';
}

nlohmann::json base_summary(const std::string& command, const DataOptions& data, const ModelOptions& m,
                            const NetworkRun& run) {
  nlohmann::json j = {{"command", command}, {"settings", settings_json(data, m)}, {"timings", run.timings},
                      {"warnings", run.warnings}};
  if (!run.solves.empty()) j["solves"] = run.solves;
  return j;
}
}  // namespace

void network_fit(const DataOptions& data, const ModelOptions& m, const OutputOptions& out, const std::string& save) {
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
  VectorXd loss = run.model.task_mean_loss(run.data.test);
  if (!out.quiet) {
    std::cout << "task, mean test loss\n";
    for (int k = 0; k < run.data.test.num_tasks(); ++k)
      std::cout << fmt::format("{}, {:.6g}\n", run.data.test.task_names[k], loss(k));
  }
  print_warnings(run);
  if (!save.empty() && m.model == "torchscript") save_torchscript_model(run.model, save);  // the module, new weights
  else if (!save.empty()) write_json_file(save, mlp_to_json(run.model, run.data.train.task_names, run.data.train.feature_names));
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("fit", data, m, run);
    j["test_loss"] = std::vector<double>(loss.data(), loss.data() + loss.size());
    write_summary(out, j);
  }
}

void network_influence(const DataOptions& data, const ModelOptions& m, const OutputOptions& out,
                       const std::string& scores_path, const std::string& targets, const std::string& mode) {
  if (targets != "tasks" && targets != "rows") throw std::invalid_argument("--targets: expected tasks or rows");
  if (mode != "first-order") throw std::invalid_argument("--model mlp has first-order scores only (--mode first-order)");
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
  if (targets == "rows") run.targets = mlp_row_targets(run.model, run.data.test);
  const bool npy = scores_path.size() > 4 && scores_path.substr(scores_path.size() - 4) == ".npy";
  InfluenceScores scores = network_scores(run, m.net, !npy);
  print_warnings(run);
  nlohmann::json settings = settings_json(data, m);
  settings["targets"] = targets;
  settings["mode"] = mode;
  Stopwatch clock;
  write_influence(scores_path, scores, as_targets(run.targets), run.data.train.task_names, {{"settings", settings}});
  run.timings["write_s"] = clock.lap();
  info(out.quiet, fmt::format("wrote {} scores ({} train rows x {} tasks, solver {}) to {}", scores.total.size(),
                              scores.total.rows(), scores.total.cols(), m.net.solver, scores_path));
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("influence", data, m, run);
    j["scores"] = scores_path;
    write_summary(out, j);
  }
}

void network_loo(const DataOptions& data, const ModelOptions& m, const OutputOptions& out, const std::string& rows_spec,
                 const std::string& loo_path, const std::string& targets) {
  if (targets != "tasks" && targets != "rows") throw std::invalid_argument("--targets: expected tasks or rows");
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
  if (targets == "rows") run.targets = mlp_row_targets(run.model, run.data.test);
  const Dataset& train = run.data.train;
  std::vector<Index> rows = parse_row_spec(rows_spec, train.num_rows());
  InfluenceScores scores = network_scores(run, m.net, false);
  Stopwatch clock;
  MlpRetrainProtocol protocol = protocol_of(m.net);
  MatrixXd actual = mlp_leave_one_out(run.model, train, run.data.test, run.targets, rows, protocol);
  run.timings["refits_s"] = clock.lap();
  print_warnings(run);
  write_loo(loo_path, actual, rows, scores.train_task, as_targets(run.targets), train.task_names);
  MatrixXd predicted(rows.size(), actual.cols());
  std::vector<int> row_task;
  for (size_t i = 0; i < rows.size(); ++i) {
    predicted.row(i) = scores.total.row(rows[i]);
    row_task.push_back(scores.train_task[rows[i]]);
  }
  AgreementSplit a = compare_scores(predicted, actual, row_task, run.targets.task);
  if (!out.quiet) {
    print_refit_stops(protocol, out.quiet);
    std::cout << fmt::format("{} refits ({}); predicted ({}) vs actual:\n", rows.size(), protocol.describe(),
                             m.net.solver);
    for (auto [group, g] : {std::pair{"within-task", &a.within_task}, std::pair{"between-task", &a.between_task},
                            std::pair{"all", &a.all}})
      std::cout << fmt::format("  {:<13} pearson {:>8.5f}  spearman {:>8.5f}\n", group, g->pearson, g->spearman);
  }
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("loo", data, m, run);
    j["settings"]["rows"] = rows_spec;
    j["protocol"] = protocol.describe();
    j["refits"] = rows.size();
    j["refit_stops"] = protocol.stops->json();
    j["first_order"] = agreement_to_json(a);
    j["output"] = loo_path;
    write_summary(out, j);
  }
}

namespace {
// Optimiser steps of the fit's training run (train_mlp's default count).
long training_steps(const MlpConfig& c, Index rows) {
  const Index batch = std::min<Index>(c.batch_size, rows);
  return long(c.epochs) * long((rows + batch - 1) / batch);
}

// The columns of a K x K source x target matrix that the targets name.
MatrixXd target_columns(const MatrixXd& m, const MlpTargets& targets) {
  MatrixXd out(m.rows(), targets.task.size());
  for (size_t t = 0; t < targets.task.size(); ++t) out.col(Index(t)) = m.col(targets.task[t]);
  return out;
}

nlohmann::json trajectory_details(const MlpConfig& c, const MlpTaskAffinity& a, const NetworkTrajectory& t,
                                  Index rows) {
  return {{"optimizer", fmt::format("the fit's own {} run (minibatch {}, {} epochs, lr {}, seed {}), before the "
                                    "L-BFGS polish",
                                    c.optimizer, std::min<Index>(c.batch_size, rows), c.epochs, c.learning_rate, c.seed)},
          {"steps", training_steps(c, rows)},
          {"every", t.every},
          {"observed_steps", a.observed_steps()},
          {"learning_rate", a.lookahead_rate()},
          {"lookahead", "plain gradient step on the shared trunk with the source task's gradient, heads unchanged"},
          {"task_loss", "mean training loss of each task over all its rows, no weight decay"},
          {"averaged_over", t.every == 1 ? std::string("every optimiser step of the training run")
                                         : fmt::format("optimiser steps 0, {0}, {1}, ... of the training run", t.every,
                                                       2 * t.every)}};
}
}  // namespace

void network_relatedness(const DataOptions& data, const ModelOptions& m, const OutputOptions& out,
                         const std::string& method, const std::string& matrix_path, bool validate,
                         const NetworkTrajectory& trajectory) {
  if (method == "newton") throw std::invalid_argument("--method newton is for the linear model; use mtif or retrain");
  const bool affinity_method = method == "tag" || method == "gradcos";
  if (affinity_method && !m.model_file.empty())
    throw std::invalid_argument("--method tag/gradcos observes the network's training run: drop --model-file");
  NetworkRun run = read_network_data(data, m, out.quiet);
  const Dataset& train = run.data.train;
  const MlpConfig config = network_config(m, train);
  std::unique_ptr<MlpTaskAffinity> affinity;
  if (affinity_method)
    affinity = std::make_unique<MlpTaskAffinity>(
        train, config, MlpAffinityOptions{trajectory.every, trajectory.lookahead_rate, method == "tag"});
  fit_network(run, m, out.quiet, affinity ? [&](long step, const MlpModel& now) { affinity->observe(step, now); }
                                          : std::function<void(long, const MlpModel&)>{});
  MlpRetrainProtocol protocol = protocol_of(m.net);
  Relatedness r;
  Stopwatch clock;
  if (method == "mtif") {
    r.method = "mtif";
    r.matrix = sum_by_source_task(network_scores(run, m.net, false), train.num_tasks());
    r.seconds = clock.lap();
  } else if (affinity_method) {
    r.method = method;
    r.matrix = target_columns(method == "tag" ? affinity->tag() : affinity->gradcos(), run.targets);
    r.seconds = affinity->seconds();  // the observations only; the training run is the fit's own
    run.timings["affinity_s"] = r.seconds;
  } else {
    r = mlp_relatedness_by_retraining(run.model, train, run.data.test, run.targets, protocol);
  }
  print_warnings(run);
  Targets targets = as_targets(run.targets);
  write_relatedness(matrix_path, r, targets, train.task_names);
  if (!out.quiet && targets.size() == train.num_tasks()) {
    std::cout << fmt::format("task relatedness by {} ({:.3f} s); row = task removed, column = task affected:\n",
                             method, r.seconds);
    print_relatedness(r.matrix, train.task_names);
  }
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("relatedness", data, m, run);
    j["settings"]["method"] = method;
    if (affinity) j["settings"]["trajectory"] = trajectory_details(config, *affinity, trajectory, train.num_rows());
    j["matrix"] = matrix_to_json(r.matrix);
    j["output"] = matrix_path;
    j["seconds"] = r.seconds;
    j["sources"] = train.task_names;
    std::vector<std::string> target_names;
    for (int k : run.targets.task) target_names.push_back(train.task_names[k]);
    j["targets"] = target_names;
    if (validate) {
      Relatedness truth = mlp_relatedness_by_retraining(run.model, train, run.data.test, run.targets, protocol);
      j["versus_retrain"] = compare_with_truth(r, truth, targets, train.task_names);
      j["versus_retrain"]["protocol"] = protocol.describe();
    }
    if (protocol.stops->count() > 0) j["refit_stops"] = protocol.stops->json();
    print_refit_stops(protocol, out.quiet);
    write_summary(out, j);
  }
}

void network_lds(const DataOptions& data, const ModelOptions& m, const OutputOptions& out, int subsets, double keep,
                 std::uint64_t seed, const std::string& lds_path, const std::string& target_kind) {
  if (target_kind != "tasks" && target_kind != "rows") throw std::invalid_argument("--targets: expected tasks or rows");
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
  if (target_kind == "rows") run.targets = mlp_row_targets(run.model, run.data.test);
  InfluenceScores scores = network_scores(run, m.net, false);
  MlpRetrainProtocol protocol = protocol_of(m.net);
  Stopwatch clock;
  RefitLosses refit = mlp_refit_losses(run.model, run.data.train, run.data.test, run.targets, protocol);
  LdsResult lds = linear_datamodeling_score(scores.total, run.data.train, refit(VectorXd::Ones(run.data.train.num_rows())),
                                            refit, keep, subsets, seed);
  run.timings["refits_s"] = clock.lap();
  print_warnings(run);
  Targets targets = as_targets(run.targets);
  write_lds(lds_path, lds, targets, run.data.train.task_names);
  report_lds(lds, targets, run.data.train.task_names, protocol.describe(), out.quiet);
  print_refit_stops(protocol, out.quiet);
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("lds", data, m, run);
    j["settings"]["lds"] = {{"subsets", subsets}, {"keep", keep}, {"seed", seed}};
    j["settings"]["targets"] = target_kind;
    j["protocol"] = protocol.describe();
    j["refit_stops"] = protocol.stops->json();
    j["lds"] = lds_to_json(lds, targets, run.data.train.task_names);
    j["output"] = lds_path;
    write_summary(out, j);
  }
}

namespace {
// Judged by its per-row losses and head outputs, like the linear model.
SplitEvaluation evaluate_network(const MlpModel& model, const Dataset& data) {
  return evaluate_outputs(model.row_losses(data), model.outputs(data), data,
                          model.config().head == HeadKind::Regression);
}

// The network behind mtif select / sources: scores by the fit's solver (one
// iHVP per validation target), removals by warm-started refits under the
// validation protocol (--retrain-steps L-BFGS iterations), the whole-task
// baseline by brute-force leave-one-task-out under the same protocol.
class NetworkSelection final : public SelectionBackend {
 public:
  NetworkSelection(const DataOptions& data, const ModelOptions& m, bool quiet)
      : net_(m.net), run_(read_and_fit_network(data, m, quiet)), protocol_(protocol_of(m.net)) {
    Stopwatch clock;
    solver_ = make_network_solver(run_.model, run_.data.train, solver_options(net_));
    rows_ = std::make_unique<MlpRowGradients>(run_.model, run_.data.train);
    run_.timings["curvature_s"] = clock.lap();
    timings = run_.timings;
    warnings = run_.warnings;
  }
  const TrainTest& data() const override { return run_.data; }
  bool squared() const override { return run_.model.config().head == HeadKind::Regression; }
  InfluenceScores scores(const Dataset& eval, std::vector<int>& tasks) override {
    MlpTargets targets = mlp_task_targets(run_.model, eval);
    tasks = targets.task;
    InfluenceScores s = mlp_influence(run_.model, run_.data.train, *rows_, *solver_.solver, targets, false);
    for (const auto& w : solver_.solver->warnings())
      if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(w);
    return s;
  }
  std::pair<SplitEvaluation, SplitEvaluation> judge(const std::string&, const std::vector<Index>& rows,
                                                    const Dataset& valid) override {
    const Dataset& train = run_.data.train;
    const std::vector<Index> stored = train.stored_row_of_file_row();
    VectorXd weight = VectorXd::Ones(train.num_rows());
    for (Index r : rows) weight(stored[r]) = 0;
    MlpModel refit = mlp_retrain(run_.model, train, weight, protocol_);
    return {evaluate_network(refit, valid), evaluate_network(refit, run_.data.test)};
  }
  VectorXd row_training_loss() const override {
    const Dataset& train = run_.data.train;
    const VectorXd stored_loss = run_.model.row_losses(train);
    VectorXd out(train.num_rows());
    for (Index i = 0; i < train.num_rows(); ++i) out(train.file_row[i]) = stored_loss(i);
    return out;
  }
  Relatedness task_matrix(const Dataset& valid) override {
    return mlp_relatedness_by_retraining(run_.model, run_.data.train, valid, mlp_task_targets(run_.model, valid),
                                         protocol_);
  }
  nlohmann::json refit_stops() const override { return protocol_.stops->json(); }
  std::string task_matrix_name() const override {
    return "brute-force leave-one-task-out on the validation split, " + protocol_.describe();
  }
  std::string removal() const override {
    return "weight 0 (1/n_k kept), " + protocol_.describe() + "; the full data is refitted the same way";
  }

 private:
  NetworkOptions net_;
  NetworkRun run_;
  MlpRetrainProtocol protocol_;
  NetworkSolver solver_;
  std::unique_ptr<MlpRowGradients> rows_;
};
}  // namespace

std::unique_ptr<SelectionBackend> network_selection_backend(const DataOptions& data, const ModelOptions& model,
                                                            bool quiet) {
  return std::make_unique<NetworkSelection>(data, model, quiet);
}

}  // namespace mtif::cli
