#include "options.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <unistd.h>

#include "config.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/progress.hpp"
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
  cmd->add_option("--model", o.model,
                  "model family: linear (exact, block Hessian), mlp (shared-bottom network), torchscript (your own "
                  "PyTorch network, --module), vmtl (variational MTL with Gumbel-softmax priors) or feedback "
                  "(output-level feedback MTL); vmtl and feedback are classifiers over class ids 0..C-1 and ignore "
                  "--loss (vmtl --regression: real targets)")
      ->check(CLI::IsMember({"linear", "mlp", "torchscript", "vmtl", "feedback"}))
      ->capture_default_str();
  cmd->add_option("--loss", o.loss, "squared (regression), logistic (0/1 targets) or softmax (classes 0..C-1, mlp)")
      ->check(CLI::IsMember({"squared", "logistic", "softmax"}))
      ->capture_default_str();
  cmd->add_option("--lambda-task", o.lambda_task, "penalty on each task's own weights theta_k")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--lambda-shared", o.lambda_shared, "penalty on the shared weights gamma")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--model-file", o.model_file, "use a model saved by 'mtif fit --save' instead of fitting")
      ->check(CLI::ExistingFile);
  add_network_options(cmd, o.net);
  add_mtl_options(cmd, o.mtl);
}

void add_mtl_options(CLI::App* cmd, MtlOptions& m) {
  const std::string g = "VMTL and feedback MTL (--model vmtl|feedback; also --hidden, --epochs, --lr, --batch-size, --seed)";
  cmd->add_option("--mc-samples", m.mc_samples, "vmtl: Monte Carlo samples of (z, w) per training step")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_flag("--regression", m.regression,
               "vmtl: real targets, a Bayesian linear regressor per task with squared error (default: classes)")
      ->group(g);
  cmd->add_option("--test-samples", m.test_samples, "vmtl: samples averaged at prediction")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--kl-weight", m.kl_weight, "vmtl: classifier KL weight after warm-up (times 1/n_t)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
  cmd->add_option("--kl-z-weight", m.kl_z_weight, "vmtl: representation KL weight")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
  cmd->add_option("--warmup", m.warmup, "vmtl: share of training over which the classifier KL weight rises to its value")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str()->group(g);
  cmd->add_option("--init-sigma", m.init_sigma, "vmtl: initial posterior standard deviation of the weights")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--tau-start", m.tau_start, "Gumbel-softmax temperature at the start (annealed linearly)")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--tau-end", m.tau_end, "Gumbel-softmax temperature at the end")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--iterations", m.iterations, "feedback: iterations of the output loop (the first has no feedback)")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--head-layers", m.head_layers, "feedback: hidden layers per task head (where the gate may inject)")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--head-width", m.head_width, "feedback: width of the head layers")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--convergence-weight", m.convergence_weight,
                  "feedback: weight of the loss on the change of the outputs between the last two iterations")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
}

void add_network_options(CLI::App* cmd, NetworkOptions& n) {
  const std::string g = "Network (--model mlp)";
  cmd->add_option("--hidden", n.hidden, "trunk widths, e.g. 128,64")->delimiter(',')->capture_default_str()->group(g);
  cmd->add_option("--activation", n.activation, "trunk activation")
      ->check(CLI::IsMember({"tanh", "relu", "gelu"}))->capture_default_str()->group(g);
  cmd->add_option("--optimizer", n.optimizer, "training optimiser")
      ->check(CLI::IsMember({"adam", "sgd"}))->capture_default_str()->group(g);
  cmd->add_option("--epochs", n.epochs, "training epochs")->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
  cmd->add_option("--lr", n.learning_rate, "learning rate")->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--batch-size", n.batch_size, "minibatch size")->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--weight-decay", n.weight_decay, "Omega = wd/2 |w|^2 on every weight")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
  cmd->add_option("--seed", n.seed, "initialisation and batch-order seed")->capture_default_str()->group(g);
  cmd->add_option("--sharing", n.sharing,
                  "hard: one trunk shared by every task; soft: one network per task, each trunk pulled to a shared "
                  "centre by --coupling/2 |trunk_k - centre|^2 (the regulariser is the only route between tasks)")
      ->check(CLI::IsMember({"hard", "soft"}))->capture_default_str()->group(g);
  cmd->add_option("--coupling", n.coupling, "soft sharing: strength of the pull to the centre")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  cmd->add_option("--polish-steps", n.polish_steps, "full-batch L-BFGS iterations after training (0: none)")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
  cmd->add_option("--solver", n.solver, "inverse-curvature solver: exact (dense, small nets), cg, lissa, ekfac")
      ->check(CLI::IsMember({"exact", "cg", "lissa", "ekfac"}))->capture_default_str()->group(g);
  cmd->add_option("--curvature", n.curvature, "Hessian or Gauss-Newton (ekfac is always Gauss-Newton)")
      ->check(CLI::IsMember({"hessian", "ggn"}))->capture_default_str()->group(g);
  cmd->add_option("--damping", n.damping, "added to the curvature's diagonal")
      ->check(CLI::NonNegativeNumber)->capture_default_str()->group(g);
  cmd->add_option("--cg-iterations", n.cg_iterations, "CG iteration limit per solve")->capture_default_str()->group(g);
  cmd->add_option("--cg-tolerance", n.cg_tolerance, "CG relative residual target")->capture_default_str()->group(g);
  cmd->add_option("--lissa-scale", n.lissa_scale, "LiSSA scale (0: 1.1 x power-iteration estimate of lambda_max)")
      ->capture_default_str()->group(g);
  cmd->add_option("--lissa-depth", n.lissa_depth, "LiSSA series terms")->capture_default_str()->group(g);
  cmd->add_option("--retrain-optimizer", n.retrain_optimizer, "refits for loo/relatedness retrain/lds")
      ->check(CLI::IsMember({"lbfgs", "adam", "sgd"}))->capture_default_str()->group(g);
  cmd->add_option("--retrain-steps", n.retrain_steps, "iterations or steps per refit, warm-started from the fit")
      ->check(CLI::PositiveNumber)->capture_default_str()->group(g);
  add_torchscript_options(cmd, n);
}

void add_torchscript_options(CLI::App* cmd, NetworkOptions& n) {
  const std::string g = "TorchScript model (--model torchscript; the network flags above train and attribute it)";
  cmd->add_option("--module", n.module,
                  "torch.jit.save file whose method (x: float64 rows x features, task: int64 rows) returns each "
                  "row's prediction by its own task's head, rows x 1 (rows x classes for softmax)")
      ->check(CLI::ExistingFile)->group(g);
  cmd->add_option("--module-method", n.module_method, "the module's method to call")->capture_default_str()->group(g);
  cmd->add_option("--shared", n.shared, "name patterns (fnmatch) of the shared parameters gamma")
      ->delimiter(',')->capture_default_str()->group(g);
  cmd->add_option("--task-params", n.task_params, "name pattern of task k's parameters theta_k, {k} = task index")
      ->capture_default_str()->group(g);
  cmd->add_option("--frozen", n.frozen, "name patterns of parameters held fixed (not attributed, not trained)")
      ->delimiter(',')->group(g);
  cmd->add_option("--module-weights", n.module_weights,
                  "as-is: attribute the weights in the file; polish: full-batch L-BFGS (--polish-steps) to a "
                  "stationary point first; train: train from the file's weights (--optimizer, --epochs...) then polish")
      ->check(CLI::IsMember({"as-is", "polish", "train"}))->capture_default_str()->group(g);
}

void check_output_folders(CLI::App& app) {
  const CLI::Validator folder_exists(
      [](std::string& path) -> std::string {
        const std::filesystem::path folder = std::filesystem::path(path).parent_path();
        if (folder.empty() || std::filesystem::is_directory(folder)) return {};
        return fmt::format("{}: folder {} does not exist", path, folder.string());
      },
      "", "OUTPUT_FOLDER_EXISTS");
  for (CLI::App* sub : app.get_subcommands({}))
    for (CLI::Option* option : sub->get_options())
      for (const char* flag : {"--out", "--json", "--save", "--rows-out"})
        if (option->check_lname(flag + 2)) option->check(folder_exists);
}

void add_output_options(CLI::App* cmd, OutputOptions& o) {
  cmd->add_option("--json", o.json,
                  "write a machine-readable summary of the run here (its \"config\" reproduces the run: "
                  "mtif run --config SUMMARY.json)");
  add_verbosity_options(cmd, o);
}

void add_verbosity_options(CLI::App* cmd, OutputOptions& o) {
  auto* quiet = cmd->add_flag("-q,--quiet", o.quiet, "print nothing but errors and warnings (no progress bars)");
  cmd->add_flag("-v,--verbose", o.verbose, "also print the resolved settings (and, with --json, the timings)")->excludes(quiet);
  o.command = cmd;
}

QuietStdout::QuietStdout(bool quiet) : quiet_(quiet) {
  if (quiet_) std::cout.setstate(std::ios::failbit);  // a failed stream swallows what is written to it
}
QuietStdout::~QuietStdout() {
  if (quiet_) std::cout.clear();
}

void begin_command(const OutputOptions& out) {
  // A bar is only useful on a terminal: pipes, files and CI logs get none.
  set_progress_stream(!out.quiet && isatty(STDERR_FILENO) ? &std::cerr : nullptr);
  if (out.verbose && out.command)
    std::cerr << "settings (mtif run --config FILE reads this back):\n"
              << config_json(*out.command).dump(2) << '\n';
}

void write_summary(const OutputOptions& out, nlohmann::json summary) {
  if (out.command) {
    summary["config"] = config_json(*out.command);
    summary["reproduce"] = "mtif run --config " + out.json;
  }
  if (out.verbose && summary.contains("timings")) std::cerr << "timings (s): " << summary["timings"].dump() << '\n';
  write_json_file(out.json, summary);
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
  return read_train_test(data.train, data.test, csv_options(data));
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

// 0/1 for logistic, whole numbers >= 0 for softmax; one line naming the file and row.
void check_targets(const Dataset& d, const std::string& loss, const std::string& file) {
  for (Index i = 0; i < d.num_rows(); ++i) {
    const double y = d.y(i);
    const bool ok = loss == "logistic"  ? (y == 0.0 || y == 1.0)
                    : loss == "softmax" ? (y >= 0 && y == std::floor(y))
                                        : true;
    if (!ok)
      throw DataError(fmt::format("{}: the {} loss needs {} targets, row {} has {}", file, loss,
                                  loss == "logistic" ? "0/1" : "class-id (0, 1, 2, ...)", d.file_row[i], y));
  }
}

}  // namespace

void check_regression_flag(const ModelOptions& model) {
  if (model.mtl.regression && model.model != "vmtl")
    throw std::invalid_argument("--regression needs --model vmtl (the linear and mlp models regress with --loss squared)");
}

TrainTest read_checked_data(const DataOptions& data, const ModelOptions& model, bool quiet) {
  check_regression_flag(model);
  TrainTest out = read_data(data);
  if (data.intercept) {
    add_intercept(out.train);
    add_intercept(out.test);
  }
  const std::string train_file = data.train.empty() ? data.train_npy : data.train;
  const std::string test_file = !data.test_npy.empty() ? data.test_npy : data.test.empty() ? train_file : data.test;
  check_targets(out.train, model.loss, train_file);
  check_targets(out.test, model.loss, test_file);
  info(quiet, fmt::format("read {} training rows and {} test rows: {} tasks, {} features", out.train.num_rows(),
                          out.test.num_rows(), out.train.num_tasks(), out.train.num_features()));
  return out;
}

FittedRun read_and_fit(const DataOptions& data, const ModelOptions& model, bool quiet, const MpiWorld* world) {
  if (model.model == "vmtl" || model.model == "feedback")
    throw std::invalid_argument("--model " + model.model + " works with 'mtif fit' and 'mtif relatedness' only");
  if (model.loss == "softmax") throw std::invalid_argument("--loss softmax needs --model mlp");
  check_regression_flag(model);
  if (!world && mpi_world() && mpi_world()->size() > 1)
    throw std::runtime_error("only 'mtif influence' splits its rows across MPI ranks: run this subcommand without mpirun");
  FittedRun run;
  Stopwatch clock;
  const LinearConfig config = linear_config(data, model);
  run_on_every_rank(world, [&] {
    // Under MPI with .npy input each rank reads only its own rows of X.npy and
    // y.npy (and every task id, for the n_k); CSV is read whole and sliced.
    const bool own_rows_only = world && !data.train_npy.empty() && !data.test_npy.empty();
    if (own_rows_only) {
      run.train_rows = npy_dataset_rows(data.train_npy);
      const auto [begin, end] = world->row_range(run.train_rows);
      run.first_train_row = begin;
      run.data = read_npy_train_test(data.train_npy, data.test_npy, begin, end);
    } else {
      run.data = read_data(data);
    }
    if (data.intercept) {
      add_intercept(run.data.train);
      add_intercept(run.data.test);
    }
    check_targets(run.data.train, model.loss, data.train.empty() ? data.train_npy : data.train);
    if (!own_rows_only) run.train_rows = run.data.train.num_rows();
    info(quiet, fmt::format("read {} training rows and {} test rows: {} tasks, {} features", run.train_rows,
                            run.data.test.num_rows(), run.data.train.num_tasks(), run.data.train.num_features()));
    if (world && !own_rows_only) {  // keep this rank's rows only
      const auto [begin, end] = world->row_range(run.train_rows);
      run.first_train_row = begin;
      run.data.train = slice_file_rows(run.data.train, begin, end);
    }
  });
  const Dataset& train = run.data.train;
  run.timings["read_s"] = clock.lap();
  run_on_every_rank(world, [&] {
    if (!model.model_file.empty()) {
      run.model = linear_model_from_json(read_json_file(model.model_file), model.model_file);
      check_model_matches(run.model, train, model.model_file);
    } else {
      run.model = fit_linear(train, config, nullptr, nullptr, world);
      if (!run.model.report.converged)
        run.warnings.push_back("the fit " + describe(run.model.report));
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

CsvOptions csv_options(const DataOptions& data) {
  CsvOptions csv;
  csv.target_column = data.target;
  csv.task_column = data.task_column;
  csv.features = split_list(data.features);
  return csv;
}

Targets make_targets(const FittedRun& run, const std::string& kind) {
  return kind == "rows" ? row_targets(run.model, run.data.test) : task_targets(run.model, run.data.test);
}

nlohmann::json network_settings_json(const ModelOptions& model) {
  if (model.model == "vmtl" || model.model == "feedback") {
    const NetworkOptions& n = model.net;
    const MtlOptions& m = model.mtl;
    return {{"hidden", n.hidden}, {"epochs", n.epochs}, {"lr", n.learning_rate}, {"batch_size", n.batch_size},
            {"weight_decay", n.weight_decay}, {"seed", n.seed}, {"mc_samples", m.mc_samples},
            {"test_samples", m.test_samples}, {"kl_weight", m.kl_weight}, {"kl_z_weight", m.kl_z_weight},
            {"warmup", m.warmup}, {"init_sigma", m.init_sigma}, {"tau_start", m.tau_start}, {"tau_end", m.tau_end},
            {"iterations", m.iterations}, {"head_layers", m.head_layers}, {"head_width", m.head_width},
            {"convergence_weight", m.convergence_weight}};
  }
  if (model.model != "mlp") return nullptr;
  const NetworkOptions& n = model.net;
  return {{"hidden", n.hidden},         {"activation", n.activation},     {"optimizer", n.optimizer},
          {"epochs", n.epochs},         {"lr", n.learning_rate},          {"batch_size", n.batch_size},
          {"weight_decay", n.weight_decay}, {"seed", n.seed},             {"polish_steps", n.polish_steps},
          {"solver", n.solver},         {"curvature", n.curvature},       {"damping", n.damping},
          {"cg_iterations", n.cg_iterations}, {"cg_tolerance", n.cg_tolerance},
          {"lissa_scale", n.lissa_scale}, {"lissa_depth", n.lissa_depth},
          {"retrain_optimizer", n.retrain_optimizer}, {"retrain_steps", n.retrain_steps}};
}

nlohmann::json settings_json(const DataOptions& data, const ModelOptions& model) {
  return {{"train", data.train},         {"test", data.test},
          {"train_npy", data.train_npy}, {"test_npy", data.test_npy},
          {"target", data.target},       {"task_column", data.task_column},
          {"features", data.features},   {"intercept", data.intercept},
          {"model", model.model},        {"loss", model.loss},
          {"lambda_task", model.lambda_task}, {"lambda_shared", model.lambda_shared},
          {"model_file", model.model_file}, {"network", network_settings_json(model)}};
}

}  // namespace mtif::cli
