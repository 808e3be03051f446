#include "mtl_models.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "mtif/feedback_mtl.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/vmtl.hpp"

namespace mtif::cli {

namespace {
VmtlConfig vmtl_config(const ModelOptions& o) {
  VmtlConfig c;
  c.hidden = o.net.hidden;
  c.epochs = o.net.epochs;
  c.batch_size = o.net.batch_size;
  c.learning_rate = o.net.learning_rate;
  c.seed = o.net.seed;
  c.regression = o.mtl.regression;
  c.train_samples = o.mtl.mc_samples;
  c.test_samples = o.mtl.test_samples;
  c.kl_w_weight = o.mtl.kl_weight;
  c.kl_z_weight = o.mtl.kl_z_weight;
  c.warmup_fraction = o.mtl.warmup;
  c.init_sigma = o.mtl.init_sigma;
  c.tau_start = o.mtl.tau_start;
  c.tau_end = o.mtl.tau_end;
  return c;
}

FeedbackConfig feedback_config(const ModelOptions& o) {
  FeedbackConfig c;
  c.encoder = o.net.hidden;
  c.head_width = o.mtl.head_width;
  c.head_layers = o.mtl.head_layers;
  c.iterations = o.mtl.iterations;
  c.convergence_weight = o.mtl.convergence_weight;
  c.weight_decay = o.net.weight_decay;
  c.epochs = o.net.epochs;
  c.batch_size = o.net.batch_size;
  c.learning_rate = o.net.learning_rate;
  c.tau_start = o.mtl.tau_start;
  c.tau_end = o.mtl.tau_end;
  c.seed = o.net.seed;
  return c;
}

std::vector<double> as_vector(const VectorXd& v) { return {v.data(), v.data() + v.size()}; }

// Trained model of either kind, with what fit and relatedness report.
struct MtlRun {
  TrainTest data;
  nlohmann::json summary;          // accuracy, losses, exported matrices
  Relatedness relatedness;         // K sources x K targets
  std::string value_meaning;
};

// A model file for `kind`, or nothing when none is given.
std::optional<nlohmann::json> model_file(const std::string& kind, const ModelOptions& model) {
  if (model.model_file.empty()) return std::nullopt;
  nlohmann::json j = read_json_file(model.model_file);
  const std::string format = "mtif-" + kind + "-1";
  if (j.value("format", "") != format)
    throw std::runtime_error(fmt::format("{}: not a {} model file (format {}); it was saved by another --model",
                                         model.model_file, kind, format));
  return j;
}

// The loaded model, after checking it was fitted on data with these tasks and features.
template <class Loaded>
auto checked(Loaded loaded, const Dataset& train, const std::string& path) {
  if (loaded.task_names != train.task_names || loaded.feature_names != train.feature_names)
    throw std::runtime_error(path + ": the model's tasks or features do not match the training data");
  return std::move(loaded.model);
}

MtlRun run_model(const std::string& kind, const DataOptions& data, const ModelOptions& model, bool quiet,
                 const std::string& save = "") {
  if (mpi_world() && mpi_world()->size() > 1)
    throw std::runtime_error("--model " + kind + " runs in one process: run it without mpirun");
  const std::optional<nlohmann::json> file = model_file(kind, model);
  // A saved VMTL model knows whether it is a regressor.
  const bool regression = file && kind == "vmtl" ? file->at("config").value("regression", false) : model.mtl.regression;
  if (file && model.mtl.regression && !regression)
    throw std::invalid_argument(model.model_file + ": a VMTL classifier, but --regression was given");
  ModelOptions targets = model;
  targets.loss = regression ? "squared" : "softmax";  // classifiers: targets must be class ids
  MtlRun run;
  run.data = read_checked_data(data, targets, quiet);
  const Dataset &train = run.data.train, &test = run.data.test;
  Stopwatch clock;
  VectorXd acc, loss;
  run.relatedness.method = kind;
  if (kind == "vmtl") {
    VmtlModel m = file ? checked(vmtl_from_json(*file), train, model.model_file) : train_vmtl(train, vmtl_config(model));
    run.summary["timings"][file ? "load_s" : "train_s"] = clock.lap();
    if (!save.empty()) write_json_file(save, vmtl_to_json(m, train.task_names, train.feature_names));
    if (!regression) acc = m.task_accuracy(test);
    loss = m.task_mean_loss(test);
    run.summary["alpha"] = matrix_to_json(m.alpha());
    run.summary["beta"] = matrix_to_json(m.beta());
    run.summary["loss_history"] = m.loss_history();
    // Source j, target t: the weight of task j's posterior in task t's prior.
    run.relatedness.matrix = m.alpha().transpose();
    run.summary["beta_by_source"] = matrix_to_json(m.beta().transpose());
    run.value_meaning = "alpha: weight of the source task's classifier (regressor) posterior in the target task's prior "
                        "(each target's weights over the other tasks sum to 1)";
  } else {
    FeedbackModel m =
        file ? checked(feedback_from_json(*file), train, model.model_file) : train_feedback(train, feedback_config(model));
    run.summary["timings"][file ? "load_s" : "train_s"] = clock.lap();
    if (!save.empty()) write_json_file(save, feedback_to_json(m, train.task_names, train.feature_names));
    acc = m.task_accuracy(test);
    loss = m.task_mean_loss(test);
    run.summary["gates"] = matrix_to_json(m.gates());
    run.summary["output_change"] = m.output_change(test);
    run.summary["loss_history"] = m.loss_history();
    run.relatedness.matrix = m.feedback_relatedness(test);
    run.summary["timings"]["cut_s"] = clock.lap();
    run.value_meaning = "rise of the target task's mean test loss when the feedback from the source task is cut";
  }
  run.relatedness.seconds = clock.lap();
  run.summary["tasks"] = train.task_names;
  run.summary["test_loss"] = as_vector(loss);  // mean squared error for regression
  if (regression)
    run.summary["test_rmse"] = as_vector(loss.cwiseSqrt());
  else
    run.summary["test_accuracy"] = as_vector(acc);
  if (!quiet) {
    std::cout << (regression ? "task, test RMSE, test mean squared error\n" : "task, test accuracy, mean test loss\n");
    for (int k = 0; k < test.num_tasks(); ++k)
      std::cout << fmt::format("{}, {:.4f}, {:.6g}\n", test.task_names[k], regression ? std::sqrt(loss(k)) : acc(k),
                               loss(k));
  }
  return run;
}

Targets all_tasks(int k) {
  Targets t;
  for (int i = 0; i < k; ++i) t.task.push_back(i);
  return t;
}
}  // namespace

void mtl_fit(const DataOptions& data, const ModelOptions& model, const OutputOptions& out, const std::string& save) {
  MtlRun run = run_model(model.model, data, model, out.quiet, save);
  if (!out.json.empty()) {
    nlohmann::json j = run.summary;
    j["command"] = "fit";
    j["settings"] = settings_json(data, model);
    j["relatedness"] = {{"matrix", matrix_to_json(run.relatedness.matrix)}, {"value", run.value_meaning},
                        {"layout", "row = source task, column = target task"}};
    write_summary(out, j);
  }
}

void mtl_relatedness(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                     const std::string& method, const std::string& matrix_path) {
  ModelOptions m = model;
  m.model = method;
  MtlRun run = run_model(method, data, m, out.quiet);
  const auto& names = run.data.train.task_names;
  write_relatedness(matrix_path, run.relatedness, all_tasks(run.data.train.num_tasks()), names);
  if (!out.quiet) {
    std::cout << fmt::format("task relatedness by {}: {}; row = source, column = target:\n", method,
                             run.value_meaning);
    print_relatedness(run.relatedness.matrix, names);
  }
  if (!out.json.empty()) {
    nlohmann::json j = run.summary;
    j["command"] = "relatedness";
    j["settings"] = settings_json(data, m);
    j["settings"]["method"] = method;
    j["matrix"] = matrix_to_json(run.relatedness.matrix);
    j["value"] = run.value_meaning;
    j["output"] = matrix_path;
    j["sources"] = names;
    j["targets"] = names;
    write_summary(out, j);
  }
}

}  // namespace mtif::cli
