// Internal: the built-in shared-bottom MLP as a NetworkImpl. Its layer
// structure is known, so the curvature, row-gradient and EK-FAC code take
// faster routes for it (closed-form head blocks, per-layer gradient formulas,
// Kronecker factors); every other network goes through the generic ones.
#pragma once

#include "network_impl.hpp"

namespace mtif {

struct MlpImpl : NetworkImpl {
  std::vector<torch::Tensor> trunk;                // W_1, b_1, W_2, b_2, ... (shared: gamma)
  std::vector<std::vector<torch::Tensor>> heads;   // per task: W_k, b_k (theta_k)

  std::unique_ptr<NetworkImpl> clone() const override;
  int num_tasks() const override { return static_cast<int>(heads.size()); }
  const std::vector<torch::Tensor>& task_parameters(int k) const override { return heads[k]; }
  const std::vector<torch::Tensor>& shared_parameters() const override { return trunk; }
  torch::Tensor outputs(const torch::Tensor& x, const RowTasks& rows) const override;
  std::string describe() const override;

  torch::Tensor features(const torch::Tensor& x) const;  // trunk output
  torch::Tensor head_outputs(const torch::Tensor& z, const RowTasks& rows) const;
};

// A fresh MLP with PyTorch's default initialisation, seeded by config.seed.
std::unique_ptr<MlpImpl> initial_mlp(const MlpConfig& config, Index inputs, int tasks);

// The network as the built-in MLP, or nullptr / a clear error for other networks.
const MlpImpl* as_mlp(const NetworkImpl& net);
const MlpImpl& require_mlp(const NetworkImpl& net, const std::string& what);

// A forward pass that keeps what the per-layer gradient formulas need: the
// input a_l of every trunk linear layer and its pre-activation z_l = W_l a_l + b_l.
struct LayerTrace {
  std::vector<torch::Tensor> inputs;          // a_l, n x in_l (no graph needed)
  std::vector<torch::Tensor> preactivations;  // z_l, n x out_l (in the graph)
  torch::Tensor features;                     // trunk output h, n x H (in the graph)
  torch::Tensor outputs;                      // f, n x out (in the graph)
};
LayerTrace trace_forward(const MlpImpl& net, const torch::Tensor& x, const std::vector<Index>& task_begin);

}  // namespace mtif
