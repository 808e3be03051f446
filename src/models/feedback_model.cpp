// Output-level feedback MTL (see include/mtif/feedback_mtl.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "best_weights.hpp"
#include "gumbel.hpp"
#include "mtif/feedback_mtl.hpp"
#include "tensor_json.hpp"
#include "mtif/vmtl.hpp"  // annealed_temperature

namespace mtif {

namespace {
const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

struct Linear {
  torch::Tensor w, b;
  Linear(int in, int out) {  // PyTorch's default initialisation
    const double bound = 1.0 / std::sqrt(double(in));
    w = torch::empty({out, in}, kDouble).uniform_(-bound, bound).requires_grad_();
    b = torch::empty({out}, kDouble).uniform_(-bound, bound).requires_grad_();
  }
  torch::Tensor operator()(const torch::Tensor& a) const { return torch::addmm(b, a, w.t()); }
};
}  // namespace

struct FeedbackImpl {
  FeedbackConfig config;
  int tasks = 0;
  std::vector<int> classes;
  std::vector<Linear> encoder;
  std::vector<std::vector<Linear>> heads;         // per task: head_layers hidden layers, then the output layer
  std::vector<std::vector<torch::Tensor>> amp;    // amp[t][j]: head_width x classes[j] (j != t)
  torch::Tensor gate_logits;                      // T x head_layers
  std::vector<double> history;
  EpochSelection selection;

  std::vector<torch::Tensor> weights() const {  // decayed
    std::vector<torch::Tensor> p;
    for (const auto& l : encoder) p.insert(p.end(), {l.w, l.b});
    for (const auto& h : heads)
      for (const auto& l : h) p.insert(p.end(), {l.w, l.b});
    for (const auto& row : amp)
      for (const auto& a : row)
        if (a.defined()) p.push_back(a);
    return p;
  }

  // The K iterations on inputs x: probs[k][t] (n x classes[t]) and the last
  // iteration's logits per task. keep[t][j] = 0 cuts j's feedback into t.
  struct Pass {
    std::vector<std::vector<torch::Tensor>> probs;   // [iteration][task]
    std::vector<std::vector<torch::Tensor>> logits;  // [iteration][task]
    const std::vector<torch::Tensor>& last_logits() const { return logits.back(); }
  };
  Pass forward(const torch::Tensor& x, const torch::Tensor& gates, const std::vector<std::vector<double>>& keep) const {
    torch::Tensor h = x;
    for (const auto& l : encoder) h = torch::relu(l(h));
    Pass pass;
    for (int k = 0; k < config.iterations; ++k) {
      std::vector<torch::Tensor> probs(tasks), logits(tasks);
      for (int t = 0; t < tasks; ++t) {
        torch::Tensor fb;
        if (k > 0) {
          fb = torch::zeros({x.size(0), config.head_width}, kDouble);
          for (int j = 0; j < tasks; ++j)
            if (j != t && keep[t][j] != 0.0) fb = fb + keep[t][j] * pass.probs[k - 1][j].mm(amp[t][j].t());
        }
        torch::Tensor a = h;
        for (int l = 0; l < config.head_layers; ++l) {
          torch::Tensor u = heads[t][l](a);
          if (k > 0) u = u + gates[t][l] * fb;  // the gate decides at which layer the feedback enters
          a = torch::relu(u);
        }
        logits[t] = heads[t].back()(a);
        probs[t] = torch::softmax(logits[t], 1);
      }
      pass.probs.push_back(std::move(probs));
      pass.logits.push_back(std::move(logits));
    }
    return pass;
  }

  torch::Tensor convergence(const Pass& pass) const {
    torch::Tensor c = torch::zeros({}, kDouble);
    const int K = int(pass.probs.size());
    if (K < 2) return c;
    // With K >= 3 only the last two iterations: the first feedback step may move the outputs.
    for (int t = 0; t < tasks; ++t) c = c + (pass.probs[K - 1][t] - pass.probs[K - 2][t]).pow(2).sum(1).mean();
    return c / tasks;
  }

  torch::Tensor eval_gates() const { return torch::softmax(gate_logits / config.tau_end, 1); }

  std::vector<std::vector<double>> keep_all() const {
    return std::vector<std::vector<double>>(tasks, std::vector<double>(tasks, 1.0));
  }
  std::vector<std::vector<double>> keep_of(const FeedbackModel::Cut* cut) const {
    auto keep = keep_all();
    if (cut) {
      if (cut->rows() != tasks || cut->cols() != tasks) throw std::invalid_argument("feedback cut mask: wrong shape");
      for (int t = 0; t < tasks; ++t)
        for (int j = 0; j < tasks; ++j)
          if ((*cut)(t, j)) keep[t][j] = 0.0;
    }
    return keep;
  }

  // Per row: cross-entropy and hit of the row's own task (last iteration).
  std::pair<VectorXd, VectorXd> row_scores(const Dataset& data, const FeedbackModel::Cut* cut) const {
    torch::NoGradGuard g;
    torch::Tensor x = features_tensor(data), y = labels_tensor(data);
    Pass pass = forward(x, eval_gates(), keep_of(cut));
    VectorXd loss(data.num_rows()), hit(data.num_rows());
    for (int t = 0; t < data.num_tasks(); ++t) {
      const Index n = data.task_rows(t);
      if (n == 0) continue;
      torch::Tensor yt = y.narrow(0, data.task_begin[t], n);
      if (yt.max().item<int64_t>() >= classes[t])
        throw std::invalid_argument(fmt::format("{}: task {} has a label >= its {} training classes", data.source,
                                                data.task_names[t], classes[t]));
      torch::Tensor lt = torch::log_softmax(pass.last_logits()[t].narrow(0, data.task_begin[t], n), 1);
      torch::Tensor l = -lt.gather(1, yt.unsqueeze(1)).squeeze(1).contiguous();
      torch::Tensor h = (lt.argmax(1) == yt).to(torch::kFloat64).contiguous();
      loss.segment(data.task_begin[t], n) = Eigen::Map<const VectorXd>(l.data_ptr<double>(), n);
      hit.segment(data.task_begin[t], n) = Eigen::Map<const VectorXd>(h.data_ptr<double>(), n);
    }
    return {loss, hit};
  }
};

namespace {
VectorXd task_means(const Dataset& data, const VectorXd& v) {
  VectorXd out(data.num_tasks());
  for (int t = 0; t < data.num_tasks(); ++t)
    out(t) = data.task_rows(t) ? v.segment(data.task_begin[t], data.task_rows(t)).mean()
                               : std::numeric_limits<double>::quiet_NaN();
  return out;
}

double mean_over_tasks_with_rows(const Dataset& data, const VectorXd& row_value) {
  double sum = 0;
  int count = 0;
  for (int t = 0; t < data.num_tasks(); ++t)
    if (data.task_rows(t)) sum += row_value.segment(data.task_begin[t], data.task_rows(t)).mean(), ++count;
  return count ? sum / count : std::numeric_limits<double>::quiet_NaN();
}

// Epoch score for early stopping: mean over tasks of validation accuracy and loss.
std::pair<double, double> validation_score(const FeedbackImpl& m, const Dataset& validation) {
  auto [loss, hit] = m.row_scores(validation, nullptr);
  return {mean_over_tasks_with_rows(validation, hit), mean_over_tasks_with_rows(validation, loss)};
}

// Cross-entropy summed over the batch rows, each row scored by its own task's head.
torch::Tensor batch_cross_entropy(const std::vector<torch::Tensor>& logits, const torch::Tensor& y,
                                  const torch::Tensor& task_of_row) {
  torch::Tensor ce = torch::zeros({}, kDouble);
  for (size_t t = 0; t < logits.size(); ++t) {
    torch::Tensor rows = (task_of_row == int64_t(t)).nonzero().squeeze(1);
    if (rows.numel() == 0) continue;
    ce = ce + torch::nll_loss(torch::log_softmax(logits[t].index_select(0, rows), 1), y.index_select(0, rows), {},
                              at::Reduction::Sum);
  }
  return ce;
}
}  // namespace

FeedbackModel::FeedbackModel() : impl_(std::make_unique<FeedbackImpl>()) {}
FeedbackModel::~FeedbackModel() = default;
FeedbackModel::FeedbackModel(FeedbackModel&&) noexcept = default;
FeedbackModel& FeedbackModel::operator=(FeedbackModel&&) noexcept = default;
const FeedbackConfig& FeedbackModel::config() const { return impl_->config; }
int FeedbackModel::num_tasks() const { return impl_->tasks; }
const std::vector<int>& FeedbackModel::classes() const { return impl_->classes; }
const std::vector<double>& FeedbackModel::loss_history() const { return impl_->history; }
const EpochSelection& FeedbackModel::selection() const { return impl_->selection; }

VectorXd FeedbackModel::task_mean_loss(const Dataset& data, const Cut* cut) const {
  return task_means(data, impl_->row_scores(data, cut).first);
}
VectorXd FeedbackModel::task_accuracy(const Dataset& data, const Cut* cut) const {
  return task_means(data, impl_->row_scores(data, cut).second);
}

double FeedbackModel::output_change(const Dataset& data) const {
  torch::NoGradGuard g;
  auto pass = impl_->forward(features_tensor(data), impl_->eval_gates(), impl_->keep_all());
  return impl_->convergence(pass).item<double>();
}

MatrixXd FeedbackModel::gates() const {
  torch::Tensor g = torch::softmax(impl_->gate_logits, 1).detach().contiguous();
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      g.data_ptr<double>(), g.size(0), g.size(1));
}

MatrixXd FeedbackModel::feedback_relatedness(const Dataset& test) const {
  const int T = impl_->tasks;
  VectorXd full = task_mean_loss(test);
  MatrixXd r = MatrixXd::Zero(T, T);
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < T; ++j) {
      if (j == t) continue;
      Cut cut = Cut::Constant(T, T, false);
      cut(t, j) = true;
      r(j, t) = task_mean_loss(test, &cut)(t) - full(t);
    }
  return r;
}

namespace {
// The supervised part of the loss. With every_iteration, the mean over the K
// iterations of the cross-entropy, so that iteration 0 (no feedback) is
// itself a trained prediction: the feedback p_j^(0) then carries task j's
// labels from the first step instead of whatever an unsupervised head
// outputs. Otherwise the last iteration's only.
torch::Tensor supervised_cross_entropy(const FeedbackImpl::Pass& pass, const torch::Tensor& y,
                                       const torch::Tensor& task_of_row, bool every_iteration) {
  if (!every_iteration) return batch_cross_entropy(pass.last_logits(), y, task_of_row);
  torch::Tensor ce = torch::zeros({}, kDouble);
  for (const auto& logits : pass.logits) ce = ce + batch_cross_entropy(logits, y, task_of_row);
  return ce / double(pass.logits.size());
}
}  // namespace

namespace {
// The untrained layers, amplifiers and gate logits for m.config, m.tasks and m.classes.
void build_layers(FeedbackImpl& m, int inputs) {
  const FeedbackConfig& config = m.config;
  const int T = m.tasks;
  int in = inputs;
  for (int w : config.encoder) {
    m.encoder.emplace_back(in, w);
    in = w;
  }
  for (int t = 0; t < T; ++t) {
    std::vector<Linear> head;
    int a = in;
    for (int l = 0; l < config.head_layers; ++l) {
      head.emplace_back(a, config.head_width);
      a = config.head_width;
    }
    head.emplace_back(a, m.classes[t]);
    m.heads.push_back(std::move(head));
    // Amplifiers start at zero: the untrained model is a plain shared-bottom
    // network with deeper heads, and a feedback path grows only where its
    // gradient (which flows through p_j, not through A_tj, so it is non-zero
    // at A_tj = 0) says it lowers the loss. A random start instead injects
    // untrained signals into every head from the first step, which the heads
    // must first learn to undo.
    std::vector<torch::Tensor> row(T);
    for (int j = 0; j < T; ++j)
      if (j != t) row[j] = torch::zeros({config.head_width, m.classes[j]}, kDouble).requires_grad_();
    m.amp.push_back(std::move(row));
  }
  m.gate_logits = torch::zeros({T, config.head_layers}, kDouble).requires_grad_();
}

// Every trained tensor: the decayed weights, then the gate logits.
std::vector<torch::Tensor> all_parameters(const FeedbackImpl& m) {
  auto p = m.weights();
  p.push_back(m.gate_logits);
  return p;
}
}  // namespace

FeedbackModel train_feedback(const Dataset& train, const FeedbackConfig& config, const EarlyStopping& stopping) {
  if (config.head_layers < 1) throw std::invalid_argument("feedback MTL needs at least one hidden head layer");
  if (config.iterations < 1) throw std::invalid_argument("feedback MTL needs at least one iteration");
  const int T = train.num_tasks();
  torch::manual_seed(config.seed);
  FeedbackModel model;
  FeedbackImpl& m = model.impl();
  m.config = config;
  m.tasks = T;
  torch::Tensor x = features_tensor(train), y = labels_tensor(train);
  for (int t = 0; t < T; ++t) {
    if (train.task_rows(t) == 0) throw std::invalid_argument("feedback MTL: task " + train.task_names[t] + " has no training rows");
    m.classes.push_back(int(y.narrow(0, train.task_begin[t], train.task_rows(t)).max().item<int64_t>()) + 1);
  }
  build_layers(m, int(train.num_features()));

  auto params = all_parameters(m);
  torch::optim::Adam optimizer(params, torch::optim::AdamOptions(config.learning_rate));
  const Index n = train.num_rows(), batch = std::min<Index>(std::max(1, config.batch_size), n);
  const long per_epoch = long((n + batch - 1) / batch), steps = long(config.epochs) * per_epoch;
  std::vector<int64_t> task_of_row(n);
  for (int t = 0; t < T; ++t)
    for (Index i = train.task_begin[t]; i < train.task_begin[t + 1]; ++i) task_of_row[i] = t;
  std::mt19937_64 rng(config.seed + 1);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const auto keep = m.keep_all();
  double epoch_sum = 0;
  BestWeights best(params, stopping.patience);
  for (long step = 0; step < steps; ++step) {
    const long in_epoch = step % per_epoch;
    if (in_epoch == 0) std::shuffle(order.begin(), order.end(), rng);
    const Index begin = in_epoch * batch, b = std::min(batch, n - begin);
    torch::Tensor idx = torch::from_blob(order.data() + begin, {b}, torch::kLong).clone();
    torch::Tensor xb = x.index_select(0, idx), yb = y.index_select(0, idx);
    torch::Tensor tb = torch::from_blob(task_of_row.data(), {n}, torch::kLong).index_select(0, idx);
    const double tau = annealed_temperature(step, steps, config.tau_start, config.tau_end);
    torch::Tensor gates = gumbel_softmax(m.gate_logits, tau);
    auto pass = m.forward(xb, gates, keep);
    torch::Tensor ce = supervised_cross_entropy(pass, yb, tb, config.supervise_all_iterations);
    torch::Tensor penalty = torch::zeros({}, kDouble);
    for (const auto& p : m.weights()) penalty = penalty + p.pow(2).sum();
    torch::Tensor loss = ce / double(b) + config.convergence_weight * m.convergence(pass) +
                         0.5 * config.weight_decay * penalty;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    epoch_sum += loss.item<double>();
    if (in_epoch + 1 == per_epoch) {
      m.history.push_back(epoch_sum / double(per_epoch));
      epoch_sum = 0;
      if (stopping.validation) {
        auto [accuracy, loss] = validation_score(m, *stopping.validation);
        if (!best.record(accuracy, loss)) break;
      }
    }
  }
  best.restore();
  m.selection = best.selection();
  return model;
}

nlohmann::json feedback_to_json(const FeedbackModel& model, const std::vector<std::string>& task_names,
                                const std::vector<std::string>& feature_names) {
  const FeedbackImpl& m = model.impl();
  const FeedbackConfig& c = m.config;
  return {{"format", "mtif-feedback-1"},
          {"config",
           {{"encoder", c.encoder}, {"head_width", c.head_width}, {"head_layers", c.head_layers},
            {"iterations", c.iterations}, {"convergence_weight", c.convergence_weight},
            {"supervise_all_iterations", c.supervise_all_iterations}, {"weight_decay", c.weight_decay},
            {"epochs", c.epochs}, {"batch_size", c.batch_size}, {"learning_rate", c.learning_rate},
            {"tau_start", c.tau_start}, {"tau_end", c.tau_end}, {"seed", c.seed}}},
          {"classes", m.classes},
          {"task_names", task_names},
          {"feature_names", feature_names},
          {"loss_history", m.history},
          {"parameters", tensors_to_json(all_parameters(m))}};
}

LoadedFeedback feedback_from_json(const nlohmann::json& j) {
  if (j.value("format", "") != "mtif-feedback-1")
    throw std::runtime_error("not an mtif feedback MTL model (format mtif-feedback-1)");
  const auto& jc = j.at("config");
  LoadedFeedback out;
  FeedbackImpl& m = out.model.impl();
  FeedbackConfig& c = m.config;
  c.encoder = jc.at("encoder").get<std::vector<int>>();
  c.head_width = jc.at("head_width").get<int>();
  c.head_layers = jc.at("head_layers").get<int>();
  c.iterations = jc.at("iterations").get<int>();
  c.convergence_weight = jc.at("convergence_weight").get<double>();
  c.supervise_all_iterations = jc.at("supervise_all_iterations").get<bool>();
  c.weight_decay = jc.at("weight_decay").get<double>();
  c.epochs = jc.at("epochs").get<int>();
  c.batch_size = jc.at("batch_size").get<int>();
  c.learning_rate = jc.at("learning_rate").get<double>();
  c.tau_start = jc.at("tau_start").get<double>();
  c.tau_end = jc.at("tau_end").get<double>();
  c.seed = jc.at("seed").get<std::uint64_t>();
  if (c.head_layers < 1 || c.iterations < 1) throw std::runtime_error("feedback MTL model: bad configuration");
  out.task_names = j.at("task_names").get<std::vector<std::string>>();
  out.feature_names = j.at("feature_names").get<std::vector<std::string>>();
  m.tasks = int(out.task_names.size());
  m.classes = j.at("classes").get<std::vector<int>>();
  if (int(m.classes.size()) != m.tasks) throw std::runtime_error("feedback MTL model: one class count per task expected");
  m.history = j.value("loss_history", std::vector<double>{});
  build_layers(m, int(out.feature_names.size()));
  tensors_from_json(j.at("parameters"), all_parameters(m), "feedback MTL model");
  return out;
}

}  // namespace mtif
