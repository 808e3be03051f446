#include "network.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "mtif/block_schur_solver.hpp"
#include "mtif/iterative_solvers.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_ekfac.hpp"
#include "mtif/mlp_validation.hpp"
#include "mtif/mpi_world.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"

namespace mtif::cli {

namespace {

// Data read, network trained (or loaded) and polished to a stationary point.
struct NetworkRun {
  TrainTest data;
  MlpModel model;
  MlpTargets targets;
  nlohmann::json timings, warnings = nlohmann::json::array();
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
  return c;
}

MlpRetrainProtocol protocol_of(const NetworkOptions& n) {
  MlpRetrainProtocol p;
  p.optimizer = n.retrain_optimizer;
  p.steps = n.retrain_steps;
  return p;
}

NetworkRun read_and_fit_network(const DataOptions& data, const ModelOptions& m, bool quiet) {
  if (mpi_world() && mpi_world()->size() > 1)
    throw std::runtime_error("--model mlp runs in one process: run it without mpirun");
  NetworkRun run;
  Stopwatch clock;
  run.data = read_checked_data(data, m, quiet);
  const Dataset& train = run.data.train;
  run.timings["read_s"] = clock.lap();
  if (!m.model_file.empty()) {
    LoadedMlp loaded = mlp_from_json(read_json_file(m.model_file));
    if (loaded.task_names != train.task_names || loaded.feature_names != train.feature_names)
      throw std::runtime_error(m.model_file + ": the model's tasks or features do not match the training data");
    run.model = std::move(loaded.model);
  } else {
    run.model = train_mlp(train, network_config(m, train));
    run.timings["train_s"] = clock.lap();
    if (m.net.polish_steps > 0) {
      MlpRetrainProtocol polish;
      polish.steps = m.net.polish_steps;
      run.model = mlp_retrain(run.model, train, VectorXd::Ones(train.num_rows()), polish);
      run.timings["polish_s"] = clock.lap();
    }
  }
  BlockVector g = run.model.objective_gradient(train);
  double worst = g.gamma.size() ? g.gamma.cwiseAbs().maxCoeff() : 0.0;
  for (const auto& t : g.theta) worst = std::max(worst, t.cwiseAbs().maxCoeff());
  run.timings["max_abs_gradient"] = worst;
  if (worst > 1e-4)
    run.warnings.push_back(fmt::format(
        "the network is not at a stationary point (max |gradient| {:.2e}): influence assumes one; raise "
        "--polish-steps",
        worst));
  run.targets = mlp_task_targets(run.model, run.data.test);
  info(quiet, fmt::format("network: trunk {} -> {} shared parameters, {} heads; max |gradient| {:.2e}",
                          fmt::join(m.net.hidden, "x"), run.model.shared_size(), run.model.num_tasks(), worst));
  return run;
}

// The curvature operator (when the solver needs one) and the solver.
struct SolverBundle {
  std::unique_ptr<MlpCurvature> curvature;
  std::unique_ptr<BlockInverse> solver;
};

SolverBundle make_solver(const NetworkRun& run, const NetworkOptions& n) {
  SolverBundle b;
  if (n.solver == "ekfac") {
    b.solver = std::make_unique<MlpEkfacSolver>(run.model, run.data.train, n.damping);
    return b;
  }
  b.curvature = std::make_unique<MlpCurvature>(run.model, run.data.train, parse_curvature(n.curvature), n.damping);
  if (n.solver == "exact") {
    if (run.model.shared_size() > 20000)
      throw std::invalid_argument(fmt::format("--solver exact forms the {0} x {0} trunk block: use cg or ekfac",
                                              run.model.shared_size()));
    b.solver = std::make_unique<BlockSchurSolver>(exact_block_hessian(*b.curvature));
  } else if (n.solver == "cg") {
    b.solver = std::make_unique<CgSolver>(*b.curvature, CgOptions{n.cg_iterations, n.cg_tolerance});
  } else {
    LissaOptions o;
    o.scale = n.lissa_scale;
    o.depth = n.lissa_depth;
    b.solver = std::make_unique<LissaSolver>(*b.curvature, o);
  }
  return b;
}

InfluenceScores network_scores(NetworkRun& run, const NetworkOptions& n, bool with_parts) {
  Stopwatch clock;
  SolverBundle b = make_solver(run, n);
  run.timings["curvature_s"] = clock.lap();
  MlpRowGradients rows(run.model, run.data.train);
  InfluenceScores s = mlp_influence(run.model, run.data.train, rows, *b.solver, run.targets, with_parts);
  run.timings["score_s"] = clock.lap();
  for (const auto& w : b.solver->warnings()) run.warnings.push_back(w);
  return s;
}

// The linear writers' view of the network's targets (one per task).
Targets as_targets(const MlpTargets& t) {
  Targets out;
  out.task = t.task;
  return out;
}

void print_warnings(const NetworkRun& run) {
  for (const auto& w : run.warnings) std::cerr << "warning: " << w.get<std::string>() << '\n';
}

void require_task_targets(const std::string& targets) {
  if (targets != "tasks") throw std::invalid_argument("--model mlp scores against tasks only (--targets tasks)");
}

nlohmann::json base_summary(const std::string& command, const DataOptions& data, const ModelOptions& m,
                            const NetworkRun& run) {
  return {{"command", command}, {"settings", settings_json(data, m)}, {"timings", run.timings},
          {"warnings", run.warnings}};
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
  if (!save.empty()) write_json_file(save, mlp_to_json(run.model, run.data.train.task_names, run.data.train.feature_names));
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("fit", data, m, run);
    j["test_loss"] = std::vector<double>(loss.data(), loss.data() + loss.size());
    write_summary(out, j);
  }
}

void network_influence(const DataOptions& data, const ModelOptions& m, const OutputOptions& out,
                       const std::string& scores_path, const std::string& targets, const std::string& mode) {
  require_task_targets(targets);
  if (mode != "first-order") throw std::invalid_argument("--model mlp has first-order scores only (--mode first-order)");
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
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
  require_task_targets(targets);
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
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
    j["first_order"] = agreement_to_json(a);
    j["output"] = loo_path;
    write_summary(out, j);
  }
}

void network_relatedness(const DataOptions& data, const ModelOptions& m, const OutputOptions& out,
                         const std::string& method, const std::string& matrix_path, bool validate) {
  if (method == "newton") throw std::invalid_argument("--method newton is for the linear model; use mtif or retrain");
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
  const Dataset& train = run.data.train;
  MlpRetrainProtocol protocol = protocol_of(m.net);
  Relatedness r;
  Stopwatch clock;
  if (method == "mtif") {
    r.method = "mtif";
    r.matrix = sum_by_source_task(network_scores(run, m.net, false), train.num_tasks());
    r.seconds = clock.lap();
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
    j["matrix"] = matrix_to_json(r.matrix);
    j["seconds"] = r.seconds;
    j["sources"] = train.task_names;
    if (validate) {
      Relatedness truth = mlp_relatedness_by_retraining(run.model, train, run.data.test, run.targets, protocol);
      double sum = 0;
      for (Index t = 0; t < r.matrix.cols(); ++t) sum += spearman(r.matrix.col(t), truth.matrix.col(t));
      j["versus_retrain"] = {{"mean_spearman", sum / double(r.matrix.cols())},
                             {"protocol", protocol.describe()},
                             {"retrain_seconds", truth.seconds},
                             {"speedup_vs_retrain", truth.seconds / std::max(r.seconds, 1e-9)}};
    }
    write_summary(out, j);
  }
}

void network_lds(const DataOptions& data, const ModelOptions& m, const OutputOptions& out, int subsets, double keep,
                 std::uint64_t seed, const std::string& lds_path) {
  NetworkRun run = read_and_fit_network(data, m, out.quiet);
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
  if (!out.json.empty()) {
    nlohmann::json j = base_summary("lds", data, m, run);
    j["settings"]["lds"] = {{"subsets", subsets}, {"keep", keep}, {"seed", seed}};
    j["protocol"] = protocol.describe();
    j["lds"] = lds_to_json(lds, targets, run.data.train.task_names);
    j["output"] = lds_path;
    write_summary(out, j);
  }
}

}  // namespace mtif::cli
