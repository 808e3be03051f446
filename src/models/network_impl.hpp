// Internal: the LibTorch side of MlpModel, for any multitask network.
//
// MTIF needs four things of a network: its parameters split into the shared
// block gamma and one block theta_k per task, its outputs for a batch of rows
// whose tasks are given, a per-row loss and the weight decay of the
// objective (mtif-math.md 1). NetworkImpl is that contract; the built-in
// shared-bottom MLP (mlp_impl.hpp) and a user's TorchScript module
// (torchscript_model.cpp) implement it, and the curvature, gradients,
// solvers, refits and training code work on NetworkImpl only, so both are
// one engine. Only implementation files include this.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

// The task of every row of a batch. When the rows are grouped by task in
// task order (a Dataset's stored order), task_begin holds the groups'
// offsets so an implementation may slice instead of gather; it is empty for
// a batch that mixes tasks.
struct RowTasks {
  torch::Tensor task_of_row;     // n, int64
  std::vector<Index> task_begin;  // K + 1 offsets, or empty
};
RowTasks grouped_rows(const std::vector<Index>& task_begin);
RowTasks mixed_rows(const torch::Tensor& task_of_row);

// A shared layer that Kronecker-factored curvature (EK-FAC) can cover: a
// linear map of each row's input (nn.Linear) or of its image patches
// (nn.Conv2d), by a shared weight (and bias) that nothing else uses.
struct KroneckerLayer {
  std::string name;            // the weight's parameter name
  int weight = -1, bias = -1;  // indices in shared_parameters(); bias -1: none
  torch::Tensor input;         // rows x in x positions (patches for Conv2d, positions 1 for Linear), no graph
  torch::Tensor output;        // the layer's output as computed (in the graph): rows x out [x positions...]
};
// A forward pass that keeps the covered layers' inputs and outputs.
struct KroneckerTrace {
  torch::Tensor outputs;               // the network's outputs (in the graph)
  std::vector<KroneckerLayer> layers;  // in the order of the forward pass
};

class NetworkImpl {
 public:
  virtual ~NetworkImpl() = default;

  // Loss head, classes, weight decay and training settings. hidden and
  // activation describe the built-in MLP only.
  MlpConfig config;

  virtual std::unique_ptr<NetworkImpl> clone() const = 0;  // deep copy of the parameters
  virtual int num_tasks() const = 0;
  // The trainable tensors of theta_k and of gamma, in a fixed order.
  virtual const std::vector<torch::Tensor>& task_parameters(int k) const = 0;
  virtual const std::vector<torch::Tensor>& shared_parameters() const = 0;
  // Each row's prediction by its own task's head: n x out_dim().
  virtual torch::Tensor outputs(const torch::Tensor& x, const RowTasks& rows) const = 0;
  virtual std::string describe() const = 0;  // one line for messages
  // A penalty beyond weight decay that ties parameters together (soft
  // sharing), part of the objective; undefined when there is none.
  virtual torch::Tensor coupling() const { return {}; }
  // The forward pass with the Kronecker-factorable shared layers exposed;
  // networks that cannot say which layers those are throw std::invalid_argument.
  virtual KroneckerTrace kronecker_trace(const torch::Tensor& x, const RowTasks& rows) const;
  // Names of the shared parameters, in shared_parameters() order.
  virtual std::vector<std::string> shared_names() const;

  int out_dim() const { return config.head == HeadKind::Softmax ? config.classes : 1; }
  std::vector<torch::Tensor> all_parameters() const;  // heads first (task order), then gamma
  torch::Tensor row_loss(const torch::Tensor& f, const torch::Tensor& y) const;  // l(f, y): n
  torch::Tensor penalty() const;  // wd/2 |w|^2 over all trainable parameters, plus coupling()
};

// A fresh built-in network of config.sharing (hard: mlp_impl.hpp; soft:
// soft_sharing_model.cpp), PyTorch's default initialisation seeded by config.seed.
std::unique_ptr<NetworkImpl> initial_network(const MlpConfig& config, Index inputs, int tasks);
std::unique_ptr<NetworkImpl> initial_soft_sharing(const MlpConfig& config, Index inputs, int tasks);
// One tanh/relu/gelu layer activation by name.
torch::Tensor activate(const std::string& name, const torch::Tensor& t);
// PyTorch's default nn.Linear initialisation: W (out x in), b (out), both U(-1/sqrt(in), 1/sqrt(in)).
std::vector<torch::Tensor> linear_layer(int in, int out);

// A Dataset as tensors (double), plus the per-row objective weight sigma / n_k.
struct TorchData {
  torch::Tensor x, y, row_weight;
  std::vector<Index> task_begin;
  RowTasks rows() const { return grouped_rows(task_begin); }
};
TorchData to_torch(const Dataset& data, const VectorXd* weight = nullptr);
// The rows of task k only (other tasks empty), with the same row weights.
TorchData task_rows(const TorchData& data, int k);

// Objective of mtif-math.md 1 on all rows (graph kept for differentiation).
torch::Tensor objective_tensor(const NetworkImpl& net, const TorchData& data);

// A 1-D or 2-D double tensor as an Eigen matrix (copied; 1-D gives one column).
MatrixXd to_eigen(const torch::Tensor& t);

// Flatten / unflatten parameter lists to Eigen vectors.
VectorXd flatten(const std::vector<torch::Tensor>& tensors);
std::vector<torch::Tensor> unflatten(const VectorXd& v, const std::vector<torch::Tensor>& like);
// Per-parameter tensors in all_parameters() order <-> theta_k / gamma blocks.
BlockVector to_blocks(const NetworkImpl& net, const std::vector<torch::Tensor>& per_parameter);
std::vector<torch::Tensor> from_blocks(const NetworkImpl& net, const BlockVector& v);

// A_k by d_k curvature products on task k's rows (any network), plus shift I.
MatrixXd head_block_by_products(const NetworkImpl& net, const TorchData& data, int k, CurvatureKind kind,
                                double shift);

// autograd::grad with allow_unused, undefined gradients replaced by zeros: a
// parameter that a loss does not reach has gradient zero, not "none".
std::vector<torch::Tensor> gradient_or_zero(const torch::Tensor& output, const std::vector<torch::Tensor>& inputs,
                                            bool retain_graph = true, bool create_graph = false);

}  // namespace mtif
