// Soft parameter sharing, the paper's second family for networks: one whole
// network per task (theta_k = its trunk and its head) and a shared centre
// gamma of one trunk's shape, tied by coupling/2 sum_k |trunk_k - gamma|^2.
// No row's loss depends on gamma, so the only route from one task's rows to
// another task is the regulariser: B_k = -coupling I on theta_k's trunk
// part, C = (K coupling + wd) I. The generic curvature, gradient and refit
// code handles it through NetworkImpl; nothing here is special-cased there.
#include <fmt/format.h>

#include "network_impl.hpp"

namespace mtif {

namespace {

std::vector<torch::Tensor> detached_copy(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone().requires_grad_());
  return out;
}

struct SoftSharingImpl : NetworkImpl {
  std::vector<torch::Tensor> centre;               // gamma: W_1, b_1, ... of one trunk
  std::vector<std::vector<torch::Tensor>> towers;  // theta_k: task k's trunk (same layout), then W_k, b_k

  std::unique_ptr<NetworkImpl> clone() const override {
    auto copy = std::make_unique<SoftSharingImpl>();
    copy->config = config;
    copy->centre = detached_copy(centre);
    for (const auto& t : towers) copy->towers.push_back(detached_copy(t));
    return copy;
  }
  int num_tasks() const override { return static_cast<int>(towers.size()); }
  const std::vector<torch::Tensor>& task_parameters(int k) const override { return towers[k]; }
  const std::vector<torch::Tensor>& shared_parameters() const override { return centre; }

  std::string describe() const override {
    return fmt::format("soft-sharing MLP, {} towers {} ({}), coupling {}", towers.size(),
                       fmt::join(config.hidden, "x"), config.activation, config.coupling);
  }

  torch::Tensor tower_output(int k, const torch::Tensor& x) const {
    const auto& w = towers[k];
    torch::Tensor a = x;
    for (size_t j = 0; j < centre.size(); j += 2) a = activate(config.activation, torch::addmm(w[j + 1], a, w[j].t()));
    return torch::addmm(w[centre.size() + 1], a, w[centre.size()].t());
  }

  torch::Tensor outputs(const torch::Tensor& x, const RowTasks& rows) const override {
    torch::Tensor f = torch::zeros({x.size(0), out_dim()}, x.options());
    for (int k = 0; k < num_tasks(); ++k) {
      torch::Tensor idx = (rows.task_of_row == k).nonzero().squeeze(1);
      if (idx.numel() > 0) f = f.index_put({idx}, tower_output(k, x.index_select(0, idx)));
    }
    return f;
  }

  torch::Tensor coupling() const override {
    torch::Tensor sum = torch::zeros({}, centre[0].options());
    for (const auto& tower : towers)
      for (size_t j = 0; j < centre.size(); ++j) sum = sum + (tower[j] - centre[j]).pow(2).sum();
    return 0.5 * config.coupling * sum;
  }
};

}  // namespace

std::unique_ptr<NetworkImpl> initial_soft_sharing(const MlpConfig& config, Index inputs, int tasks) {
  if (config.hidden.empty()) throw std::invalid_argument("soft sharing needs at least one hidden layer (--hidden)");
  if (!(config.coupling > 0)) throw std::invalid_argument("soft sharing needs --coupling > 0");
  torch::manual_seed(config.seed);
  auto net = std::make_unique<SoftSharingImpl>();
  net->config = config;
  for (int k = 0; k < tasks; ++k) {
    std::vector<torch::Tensor> tower;
    int in = static_cast<int>(inputs);
    for (int width : config.hidden) {
      for (auto& t : linear_layer(in, width)) tower.push_back(t);
      in = width;
    }
    for (auto& t : linear_layer(in, net->out_dim())) tower.push_back(t);
    net->towers.push_back(std::move(tower));
  }
  // The centre starts at the towers' mean trunk, where the coupling pulls it.
  torch::NoGradGuard no_grad;
  const size_t trunk_tensors = 2 * config.hidden.size();
  for (size_t j = 0; j < trunk_tensors; ++j) {
    torch::Tensor mean = torch::zeros_like(net->towers[0][j]);
    for (const auto& tower : net->towers) mean += tower[j];
    net->centre.push_back((mean / double(std::max(1, tasks))).requires_grad_());
  }
  return net;
}

}  // namespace mtif
