#include "options.hpp"

#include <fmt/format.h>

#include <iostream>
#include <sstream>

#include "mtif/linear_curvature.hpp"
#include "mtif/npy.hpp"
#include "mtif/output.hpp"

namespace mtif::cli {

void add_data_options(CLI::App* cmd, DataOptions& o) {
  auto* train = cmd->add_option("--train", o.train, "training CSV (with a 'split' column it may hold the test rows too)")
                    ->check(CLI::ExistingFile);
  auto* test = cmd->add_option("--test", o.test, "test CSV (same columns); omit when --train has a split column")
                   ->check(CLI::ExistingFile);
  auto* train_npy = cmd->add_option("--train-npy", o.train_npy,
                                    "instead of --train: folder with X.npy (n x d float32/float64), y.npy, task.npy "
                                    "(integer ids 0..K-1) and optionally tasks.txt (one label per line)")
                        ->check(CLI::ExistingDirectory)
                        ->excludes(train)
                        ->excludes(test);
  cmd->add_option("--test-npy", o.test_npy, "test folder in the same form (required with --train-npy)")
      ->check(CLI::ExistingDirectory)
      ->needs(train_npy)
      ->excludes(train)
      ->excludes(test);
  cmd->add_option("--target", o.target, "target column")->capture_default_str();
  cmd->add_option("--task-column", o.task_column, "task column")->capture_default_str();
  cmd->add_option("--features", o.features, "comma-separated feature columns (default: every other column)");
  cmd->add_flag("--intercept", o.intercept, "add a constant-1 feature (penalised like the others)");
}

void add_model_options(CLI::App* cmd, ModelOptions& o) {
  cmd->add_option("--model", o.model, "model family")->check(CLI::IsMember({"linear"}))->capture_default_str();
  cmd->add_option("--loss", o.loss, "squared (regression) or logistic (0/1 targets)")
      ->check(CLI::IsMember({"squared", "logistic"}))
      ->capture_default_str();
  cmd->add_option("--lambda-task", o.lambda_task, "penalty on each task's own weights theta_k")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lambda-shared", o.lambda_shared, "penalty on the shared weights gamma")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--model-file", o.model_file, "use a model saved by 'mtif fit --save' instead of fitting")
      ->check(CLI::ExistingFile);
}

void add_output_options(CLI::App* cmd, OutputOptions& o) {
  cmd->add_option("--json", o.json, "write a machine-readable summary of the run here");
  cmd->add_flag("-q,--quiet", o.quiet, "print nothing but errors");
}

void add_targets_option(CLI::App* cmd, std::string& targets) {
  cmd->add_option("--targets", targets, "score against each task's mean test loss, or each test row's loss")
      ->check(CLI::IsMember({"tasks", "rows"}))
      ->capture_default_str();
}

void info(bool quiet, const std::string& message) {
  if (!quiet) std::cerr << message << '\n';
}

namespace {
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

// One of the two forms is required (CLI11 cannot say "one of"): checked here.
TrainTest read_data(const DataOptions& data) {
  if (data.train.empty() == data.train_npy.empty())
    throw CLI::RequiredError("--train (CSV) or --train-npy (folder)");
  if (!data.train_npy.empty()) {
    if (data.test_npy.empty()) throw CLI::RequiredError("--test-npy (with --train-npy)");
    return read_npy_train_test(data.train_npy, data.test_npy);
  }
  CsvOptions csv;
  csv.target_column = data.target;
  csv.task_column = data.task_column;
  csv.features = split_list(data.features);
  return read_train_test(data.train, data.test, csv);
}

void check_model_matches(const LinearModel& m, const Dataset& train, const std::string& file) {
  if (m.feature_names != train.feature_names || m.task_names != train.task_names)
    throw std::runtime_error(file + ": the model's tasks or features do not match the training data");
}
}  // namespace

namespace {
LinearConfig linear_config(const DataOptions& data, const ModelOptions& model) {
  LinearConfig config;
  config.loss = parse_loss(model.loss);
  config.lambda_task = model.lambda_task;
  config.lambda_shared = model.lambda_shared;
  config.intercept = data.intercept;
  return config;
}

void check_logistic_targets(const Dataset& train, const std::string& file) {
  for (Index i = 0; i < train.num_rows(); ++i)
    if (train.y(i) != 0.0 && train.y(i) != 1.0)
      throw DataError(fmt::format("{}: the logistic loss needs 0/1 targets, train row {} has {}", file,
                                  train.file_row[i], train.y(i)));
}
}  // namespace

FittedRun read_and_fit(const DataOptions& data, const ModelOptions& model, bool quiet, const MpiWorld* world) {
  if (!world && mpi_world() && mpi_world()->size() > 1)
    throw std::runtime_error("only 'mtif influence' splits its rows across MPI ranks: run this subcommand without mpirun");
  FittedRun run;
  Stopwatch clock;
  const LinearConfig config = linear_config(data, model);
  run_on_every_rank(world, [&] {
    run.data = read_data(data);
    if (data.intercept) {
      add_intercept(run.data.train);
      add_intercept(run.data.test);
    }
    if (config.loss == LossKind::Logistic)
      check_logistic_targets(run.data.train, data.train.empty() ? data.train_npy : data.train);
    run.train_rows = run.data.train.num_rows();
    info(quiet, fmt::format("read {} training rows and {} test rows: {} tasks, {} features", run.train_rows,
                            run.data.test.num_rows(), run.data.train.num_tasks(), run.data.train.num_features()));
    if (world) {  // keep this rank's rows only
      const auto [begin, end] = world->row_range(run.train_rows);
      run.first_train_row = begin;
      run.data.train = slice_file_rows(run.data.train, begin, end);
    }
  });
  const Dataset& train = run.data.train;
  run.timings["read_s"] = clock.lap();
  run_on_every_rank(world, [&] {
    if (!model.model_file.empty()) {
      run.model = linear_model_from_json(read_json_file(model.model_file));
      check_model_matches(run.model, train, model.model_file);
    } else {
      run.model = fit_linear(train, config, nullptr, nullptr, world);
      if (!run.model.report.converged)
        run.warnings.push_back(fmt::format("the fit did not converge (max |gradient| {:.3g})",
                                           run.model.report.gradient_max_abs));
    }
    run.timings["fit_s"] = clock.lap();
    run.solver =
        std::make_unique<BlockSchurSolver>(linear_block_hessian(run.model, train, nullptr, world), train.task_names);
    for (const auto& w : run.solver->warnings()) run.warnings.push_back(w);
    run.timings["factor_s"] = clock.lap();
  });
  if (world) run.timings["reduce_s"] = world->communication_seconds();  // inside fit_s and factor_s
  if (!world || world->rank() == 0)  // warnings print even when quiet, once
    for (const auto& w : run.warnings) std::cerr << "warning: " << w.get<std::string>() << '\n';
  return run;
}

Targets make_targets(const FittedRun& run, const std::string& kind) {
  return kind == "rows" ? row_targets(run.model, run.data.test) : task_targets(run.model, run.data.test);
}

nlohmann::json settings_json(const DataOptions& data, const ModelOptions& model) {
  return {{"train", data.train},         {"test", data.test},
          {"train_npy", data.train_npy}, {"test_npy", data.test_npy},
          {"target", data.target},       {"task_column", data.task_column},
          {"features", data.features},   {"intercept", data.intercept},
          {"model", model.model},        {"loss", model.loss},
          {"lambda_task", model.lambda_task}, {"lambda_shared", model.lambda_shared},
          {"model_file", model.model_file}};
}

}  // namespace mtif::cli
