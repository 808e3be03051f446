// Options shared by the subcommands, and the read -> fit -> factor steps they
// all start with.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "mtif/block_schur_solver.hpp"
#include "mtif/csv_reader.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/mpi_world.hpp"

namespace mtif::cli {

struct DataOptions {
  std::string train, test, target = "y", task_column = "task", features;
  std::string train_npy, test_npy;  // folders of X.npy, y.npy, task.npy instead of CSV
  bool intercept = false;
};

// Flags of the shared-bottom network (--model mlp); ignored by the linear model.
struct NetworkOptions {
  std::vector<int> hidden{32};
  std::string activation = "tanh";
  std::string optimizer = "adam";
  int epochs = 30;
  double learning_rate = 1e-2;
  int batch_size = 64;
  double weight_decay = 1e-2;
  std::uint64_t seed = 0;
  long polish_steps = 500;  // full-batch L-BFGS after the optimiser (stops early once converged): a stationary point
  std::string solver = "cg";
  std::string curvature = "ggn";
  double damping = 1e-3;
  int cg_iterations = 500;
  double cg_tolerance = 1e-8;
  double lissa_scale = 0;
  int lissa_depth = 1000;
  std::string sharing = "hard";  // hard: one shared trunk; soft: a network per task tied to a centre
  double coupling = 1.0;         // soft sharing: coupling/2 |trunk_k - gamma|^2
  std::string retrain_optimizer = "lbfgs";
  long retrain_steps = 300;
  // --model torchscript: the user's module and how its parameters split.
  std::string module;
  std::string module_method = "forward";
  std::vector<std::string> shared{"trunk.*"};
  std::string task_params = "heads.{k}.*";
  std::vector<std::string> frozen;
  std::string module_weights = "as-is";  // as-is | polish | train
};

// Flags of the two relatedness-learning models (--model vmtl|feedback); the
// encoder widths, epochs, lr, batch size, weight decay and seed come from
// NetworkOptions.
struct MtlOptions {
  bool regression = false;      // VMTL: a Bayesian regressor per task, squared error (default: classifier)
  int mc_samples = 3;           // VMTL: Monte Carlo samples per training step
  int test_samples = 20;        // VMTL: samples averaged at prediction
  double kl_weight = 1.0;       // VMTL: classifier KL weight after warm-up (times 1/n_t)
  double kl_z_weight = 1e-3;    // VMTL: representation KL weight (1e-2 diverged on Rotated MNIST)
  double warmup = 0.3;          // VMTL: share of training over which the classifier KL weight rises
  double init_sigma = 0.05;     // VMTL: initial posterior standard deviation
  double tau_start = 1.0, tau_end = 0.5;  // Gumbel-softmax temperature, both models
  int iterations = 3;           // feedback: iterations of the output loop
  int head_layers = 2;          // feedback: hidden layers per head (gate positions)
  int head_width = 32;          // feedback: head width
  double convergence_weight = 0.1;  // feedback: weight of the convergence loss
};

struct ModelOptions {
  std::string model = "linear";
  std::string loss = "squared";
  double lambda_task = 1.0;
  double lambda_shared = 1.0;
  std::string model_file;  // load a fitted model instead of fitting
  NetworkOptions net;
  MtlOptions mtl;
};

// The models whose attribution runs through the network engine (network.cpp).
inline bool is_network_model(const ModelOptions& m) { return m.model == "mlp" || m.model == "torchscript"; }

struct OutputOptions {
  std::string json;
  bool quiet = false;
  bool verbose = false;
  const CLI::App* command = nullptr;  // the subcommand, for its resolved flags (config.hpp)
};

void add_data_options(CLI::App* cmd, DataOptions& o);
void add_model_options(CLI::App* cmd, ModelOptions& o);
void add_torchscript_options(CLI::App* cmd, NetworkOptions& n);
void add_network_options(CLI::App* cmd, NetworkOptions& n);
void add_mtl_options(CLI::App* cmd, MtlOptions& m);
void add_output_options(CLI::App* cmd, OutputOptions& o);   // --json, --quiet, --verbose
// Every subcommand's output-file flags (--out, --json, --save, --rows-out)
// refuse, at parse time, a path whose folder does not exist: a run must not
// do its work and then fail to write.
void check_output_folders(CLI::App& app);
void add_verbosity_options(CLI::App* cmd, OutputOptions& o);  // --quiet, --verbose only

// Silences std::cout while it lives, when asked (--quiet of subcommands whose
// output is their printout: demo, report).
class QuietStdout {
 public:
  explicit QuietStdout(bool quiet);
  ~QuietStdout();
  QuietStdout(const QuietStdout&) = delete;
  QuietStdout& operator=(const QuietStdout&) = delete;

 private:
  bool quiet_;
};
void add_targets_option(CLI::App* cmd, std::string& targets);

class Stopwatch {
 public:
  double lap() {  // seconds since the last lap (or construction)
    auto now = std::chrono::steady_clock::now();
    double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Data read, model fitted (or loaded) and the block Hessian factored.
// Under MPI, data.train holds this rank's rows only: file rows
// [first_train_row, first_train_row + data.train.num_rows()) of train_rows.
struct FittedRun {
  TrainTest data;
  Index first_train_row = 0;
  Index train_rows = 0;  // training rows in the file (all ranks)
  LinearModel model;
  std::unique_ptr<BlockSchurSolver> solver;
  nlohmann::json timings;
  nlohmann::json warnings = nlohmann::json::array();
};

// --regression is VMTL's switch; every other model takes --loss (refused otherwise).
void check_regression_flag(const ModelOptions& model);
// Read, intercept and target checks alone (the network path; no MPI split).
TrainTest read_checked_data(const DataOptions& data, const ModelOptions& model, bool quiet);
// Read and fit the linear model. `world` (nullptr: one process) splits the
// training rows across MPI ranks; every rank gets the same model and factorisation.
FittedRun read_and_fit(const DataOptions& data, const ModelOptions& model, bool quiet,
                       const MpiWorld* world = nullptr);
Targets make_targets(const FittedRun& run, const std::string& kind);
// The CSV reading options the data flags describe (for extra files such as --valid).
CsvOptions csv_options(const DataOptions& data);

// The exact settings of a run, so it can be reproduced from its summary.
nlohmann::json settings_json(const DataOptions& data, const ModelOptions& model);
nlohmann::json network_settings_json(const ModelOptions& model);  // null for the linear model

void info(bool quiet, const std::string& message);

// First line of every subcommand's callback: progress bars on stderr only when
// it is a terminal and --quiet is off; --verbose prints the resolved settings.
void begin_command(const OutputOptions& out);
// Writes the --json summary with the run's resolved flags ("config") so that
// `mtif run --config SUMMARY.json` reproduces it; --verbose also prints timings.
void write_summary(const OutputOptions& out, nlohmann::json summary);

}  // namespace mtif::cli
