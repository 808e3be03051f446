#include "mtif/mlp_task_affinity.hpp"

#include <chrono>
#include <stdexcept>

#include "../models/mlp_impl.hpp"

namespace mtif {

struct MlpTaskAffinity::State {
  TorchData data;
  int tasks = 0;
  MlpAffinityOptions options;
  MatrixXd tag_sum, cosine_sum;
  long observed = 0;
  double seconds = 0;
};

namespace {

// Mean training loss of each task (NaN-free: tasks without rows give 0), in the graph.
std::vector<torch::Tensor> task_losses(const NetworkImpl& net, const TorchData& data, int tasks) {
  torch::Tensor rows = net.row_loss(net.outputs(data.x, data.rows()), data.y);
  std::vector<torch::Tensor> out;
  for (int k = 0; k < tasks; ++k) {
    const Index n = data.task_begin[k + 1] - data.task_begin[k];
    out.push_back(n > 0 ? rows.narrow(0, data.task_begin[k], n).mean() : torch::zeros({}, rows.options()));
  }
  return out;
}

VectorXd loss_values(const std::vector<torch::Tensor>& losses) {
  VectorXd v(losses.size());
  for (size_t k = 0; k < losses.size(); ++k) v(Index(k)) = losses[k].item<double>();
  return v;
}

}  // namespace

MlpTaskAffinity::MlpTaskAffinity(const Dataset& train, const MlpConfig& config, const MlpAffinityOptions& options)
    : state_(std::make_unique<State>()) {
  if (options.every < 1) throw std::invalid_argument("task affinity: observe every s >= 1 steps");
  state_->data = to_torch(train);
  state_->tasks = train.num_tasks();
  state_->options = options;
  if (state_->options.lookahead_rate <= 0) state_->options.lookahead_rate = config.learning_rate;
  state_->tag_sum = state_->cosine_sum = MatrixXd::Zero(train.num_tasks(), train.num_tasks());
}

MlpTaskAffinity::~MlpTaskAffinity() = default;

void MlpTaskAffinity::observe(long step, const MlpModel& model) {
  State& s = *state_;
  if (step % s.options.every != 0) return;
  const auto start = std::chrono::steady_clock::now();
  const NetworkImpl& net = model.impl();
  const auto& shared = net.shared_parameters();
  const int K = s.tasks;
  std::vector<torch::Tensor> before = task_losses(net, s.data, K);
  const VectorXd loss_before = loss_values(before);
  // Per-task shared gradients: one backward pass each through the same graph.
  std::vector<std::vector<torch::Tensor>> gradient(K);
  MatrixXd flat(model.shared_size(), K);
  for (int i = 0; i < K; ++i) {
    gradient[i] = gradient_or_zero(before[i], shared);
    flat.col(i) = flatten(gradient[i]);
  }
  const VectorXd norm = flat.colwise().norm().transpose();
  const MatrixXd dots = flat.transpose() * flat;
  for (int i = 0; i < K; ++i)
    for (int j = 0; j < K; ++j)
      if (norm(i) > 0 && norm(j) > 0) s.cosine_sum(i, j) += dots(i, j) / (norm(i) * norm(j));
  if (s.options.lookahead) {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < K; ++i) {
      std::unique_ptr<NetworkImpl> ahead = net.clone();  // the shared block takes one step
      const auto& ahead_shared = ahead->shared_parameters();
      for (size_t p = 0; p < shared.size(); ++p)
        ahead_shared[p].copy_(shared[p].detach() - s.options.lookahead_rate * gradient[i][p]);
      const VectorXd loss_after = loss_values(task_losses(*ahead, s.data, K));
      for (int j = 0; j < K; ++j)
        if (loss_before(j) > 0) s.tag_sum(i, j) += 1.0 - loss_after(j) / loss_before(j);
    }
  }
  ++s.observed;
  s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

MatrixXd MlpTaskAffinity::tag() const { return state_->tag_sum / double(std::max(1L, state_->observed)); }
MatrixXd MlpTaskAffinity::gradcos() const { return state_->cosine_sum / double(std::max(1L, state_->observed)); }
long MlpTaskAffinity::observed_steps() const { return state_->observed; }
double MlpTaskAffinity::lookahead_rate() const { return state_->options.lookahead_rate; }
double MlpTaskAffinity::seconds() const { return state_->seconds; }

}  // namespace mtif
