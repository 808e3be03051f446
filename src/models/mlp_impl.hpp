// Internal: the LibTorch side of MlpModel. Only the model, curvature and
// influence implementation files include this.
#pragma once

#include <torch/torch.h>

#include "mtif/mlp_model.hpp"

namespace mtif {

struct MlpImpl {
  MlpConfig config;
  std::vector<torch::Tensor> trunk;                // W_1, b_1, W_2, b_2, ... (shared: gamma)
  std::vector<std::vector<torch::Tensor>> heads;   // per task: W_k, b_k (theta_k)

  std::vector<torch::Tensor> all_parameters() const;  // heads first (task order), then trunk
  int out_dim() const { return config.head == HeadKind::Softmax ? config.classes : 1; }

  torch::Tensor features(const torch::Tensor& x) const;  // trunk output
  // Head outputs for rows grouped by task (Dataset order): n x out.
  torch::Tensor outputs(const torch::Tensor& z, const std::vector<Index>& task_begin) const;
  // Per-row loss l(f, y): n.
  torch::Tensor row_loss(const torch::Tensor& f, const torch::Tensor& y) const;
  torch::Tensor penalty() const;  // wd/2 |w|^2
};

// A Dataset as tensors (double), plus the per-row objective weight sigma / n_k.
struct TorchData {
  torch::Tensor x, y, row_weight;
  std::vector<Index> task_begin;
};
TorchData to_torch(const Dataset& data, const VectorXd* weight = nullptr);

// A forward pass that keeps what the per-layer gradient formulas need: the
// input a_l of every trunk linear layer and its pre-activation z_l = W_l a_l + b_l.
struct LayerTrace {
  std::vector<torch::Tensor> inputs;          // a_l, n x in_l (no graph needed)
  std::vector<torch::Tensor> preactivations;  // z_l, n x out_l (in the graph)
  torch::Tensor features;                     // trunk output h, n x H (in the graph)
  torch::Tensor outputs;                      // f, n x out (in the graph)
};
LayerTrace trace_forward(const MlpImpl& net, const torch::Tensor& x, const std::vector<Index>& task_begin);

// Objective of mtif-math.md 1 on all rows (graph kept for differentiation).
torch::Tensor objective_tensor(const MlpImpl& net, const TorchData& data);

// A 1-D or 2-D double tensor as an Eigen matrix (copied; 1-D gives one column).
MatrixXd to_eigen(const torch::Tensor& t);

// Flatten / unflatten parameter lists to Eigen vectors.
VectorXd flatten(const std::vector<torch::Tensor>& tensors);
std::vector<torch::Tensor> unflatten(const VectorXd& v, const std::vector<torch::Tensor>& like);
BlockVector to_blocks(const MlpImpl& net, const std::vector<torch::Tensor>& per_parameter);
std::vector<torch::Tensor> from_blocks(const MlpImpl& net, const BlockVector& v);

}  // namespace mtif
