// Shared-bottom multitask network (mtif-math.md 1.2): a shared MLP trunk
// (gamma) and one linear head per task (theta_k), trained with a real
// optimiser (Adam or SGD with momentum) in double precision through LibTorch.
//
// LibTorch stays behind this header (pimpl): including it does not pull in
// <torch/torch.h>, which costs ~20 s per translation unit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/dataset.hpp"
#include "mtif/early_stopping.hpp"

namespace mtif {

enum class HeadKind { Regression, Binary, Softmax };
HeadKind parse_head_kind(const std::string& loss);  // squared | logistic | softmax

struct MlpConfig {
  std::vector<int> hidden{32};     // trunk widths
  std::string activation = "tanh"; // tanh | relu | gelu (smooth ones give better-behaved Hessians)
  HeadKind head = HeadKind::Binary;
  int classes = 2;                 // softmax heads
  double weight_decay = 1e-3;      // Omega = wd/2 |w|^2 on trunk and heads, part of the objective
  std::string optimizer = "adam";  // adam | sgd (with momentum)
  double learning_rate = 1e-2;
  double momentum = 0.9;
  int epochs = 30;
  int batch_size = 128;
  std::uint64_t seed = 0;
  // hard: one trunk shared by all tasks (gamma = the trunk). soft: one whole
  // network per task (theta_k = its trunk and head) whose trunk is pulled to a
  // shared centre gamma by coupling/2 |trunk_k - gamma|^2, so the regulariser
  // is the only route between tasks (B_k = -coupling I on the trunk part).
  std::string sharing = "hard";
  double coupling = 1.0;
};

struct NetworkImpl;  // LibTorch tensors; defined in src/models/network_impl.hpp

// A multitask network with shared parameters gamma and per-task parameters
// theta_k: the built-in shared-bottom MLP, or a user's TorchScript module
// (load_torchscript_model). Everything downstream (curvature, solvers,
// influence, refits, relatedness, selection) takes an MlpModel, whichever it is.
class MlpModel {
 public:
  MlpModel();  // an empty built-in MLP
  explicit MlpModel(std::unique_ptr<NetworkImpl> impl);
  ~MlpModel();
  MlpModel(const MlpModel& other);  // deep copy of the parameters
  MlpModel& operator=(const MlpModel& other);
  MlpModel(MlpModel&&) noexcept;
  MlpModel& operator=(MlpModel&&) noexcept;

  const MlpConfig& config() const;
  int num_tasks() const;
  Index shared_size() const;       // p
  Index head_size(int k) const;    // d_k
  BlockVector parameters() const;  // theta_k per task, gamma
  void set_parameters(const BlockVector& w);

  VectorXd row_losses(const Dataset& data) const;      // per stored row
  // Head outputs per stored row: n x 1 (regression value or binary logit) or n x classes.
  MatrixXd outputs(const Dataset& data) const;
  VectorXd task_mean_loss(const Dataset& data) const;  // V_k (NaN without rows)
  // Objective of mtif-math.md 1 with sample weights (nullptr = all 1), and its gradient.
  double objective(const Dataset& train, const VectorXd* weight = nullptr) const;
  BlockVector objective_gradient(const Dataset& train, const VectorXd* weight = nullptr) const;

  bool is_builtin_mlp() const;
  std::string describe() const;  // one line: architecture and parameter counts

  NetworkImpl& impl() const { return *impl_; }

 private:
  std::unique_ptr<NetworkImpl> impl_;
};

struct MlpTrainOptions {
  const VectorXd* weight = nullptr;       // sample weights sigma (stored order)
  const MlpModel* warm_start = nullptr;   // start from these parameters
  long steps = -1;                        // optimiser steps; -1 = epochs * batches per epoch
  // Scores the validation rows every epoch (ceil(n / batch) steps) and ends
  // with the best epoch's weights; accuracy is argmax (softmax), sign
  // (logistic) or none (squared: the loss decides).
  EarlyStopping stopping;
  EpochSelection* selection = nullptr;    // if given, receives what the selection did
  // Called before every optimiser step with the step index and the model as it
  // stands (e.g. to measure task affinities along the real trajectory). It must
  // not change the model; it does not touch the optimiser or the batch order,
  // so the fit is the same with or without it.
  std::function<void(long step, const MlpModel& model)> before_step;
};

// Minibatches draw rows uniformly; each row's loss is scaled by n / (batch * n_k)
// so a batch is an unbiased estimate of the per-task averaged objective.
MlpModel train_mlp(const Dataset& train, const MlpConfig& config, const MlpTrainOptions& options = {});

// Save / load: the configuration, the task and feature names, and the
// parameters in blocks. Loading checks shapes and throws std::runtime_error
// with what is wrong.
nlohmann::json mlp_to_json(const MlpModel& model, const std::vector<std::string>& task_names,
                           const std::vector<std::string>& feature_names);
struct LoadedMlp {
  MlpModel model;
  std::vector<std::string> task_names, feature_names;
};
LoadedMlp mlp_from_json(const nlohmann::json& j);

// A user's multitask network saved with torch.jit.save (docs/interfaces.md,
// "TorchScript models"). The method maps (x: float64 n x F, task: int64 n) to
// each row's prediction by its own task's head, n x out (out = 1 for squared
// and logistic losses, the number of classes for softmax). Parameters are
// assigned by fnmatch-style name patterns: every trainable parameter must
// match exactly one of shared, the task pattern (with {k} for the task
// index) or frozen; frozen ones are constants.
struct TorchScriptSpec {
  std::string path;
  std::string method = "forward";
  std::vector<std::string> shared{"trunk.*"};
  std::string task = "heads.{k}.*";
  std::vector<std::string> frozen;
};
// Loads the module in double precision and checks the contract on a probe
// batch of `inputs` (shapes, finite outputs); throws std::runtime_error naming
// the file and what is wrong. `objective` supplies the loss head, classes and
// weight decay (and training settings, for `mtif fit`).
MlpModel load_torchscript_model(const TorchScriptSpec& spec, const MlpConfig& objective, int tasks,
                                const Dataset& inputs);
// Writes the module with the model's current weights (atomically: temporary name, then rename).
void save_torchscript_model(const MlpModel& model, const std::string& path);

}  // namespace mtif
