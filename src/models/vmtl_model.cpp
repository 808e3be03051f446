// VMTL (see include/mtif/vmtl.hpp for the model and the choices made).
#include "mtif/vmtl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "best_weights.hpp"
#include "gumbel.hpp"
#include "tensor_json.hpp"

namespace mtif {

namespace {
const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// Gaussian KL(N(m1, v1) || N(m2, v2)) summed over the last dimension (elementwise
// variances). Non-negative; zero only when the two coincide.
torch::Tensor gaussian_kl(const torch::Tensor& m1, const torch::Tensor& v1, const torch::Tensor& m2,
                          const torch::Tensor& v2) {
  return 0.5 * (torch::log(v2) - torch::log(v1) + (v1 + (m1 - m2).pow(2)) / v2 - 1.0).sum(-1);
}

// A linear layer with mean-field Gaussian weights, sigma = softplus(rho).
struct BayesLinear {
  torch::Tensor w_mu, w_rho, b_mu, b_rho;

  BayesLinear(int in, int out, double init_sigma) {
    const double bound = 1.0 / std::sqrt(double(in));  // PyTorch's Linear initialisation for the means
    const double rho = std::log(std::expm1(init_sigma));
    w_mu = torch::empty({out, in}, kDouble).uniform_(-bound, bound).requires_grad_();
    b_mu = torch::empty({out}, kDouble).uniform_(-bound, bound).requires_grad_();
    w_rho = torch::full({out, in}, rho, kDouble).requires_grad_();
    b_rho = torch::full({out}, rho, kDouble).requires_grad_();
  }
  std::vector<torch::Tensor> parameters() const { return {w_mu, w_rho, b_mu, b_rho}; }

  // Local reparameterisation: for input a, the pre-activation a W^T + b is
  // Gaussian with this mean and variance (independent per output), so we
  // sample it directly instead of sampling W: cheaper and lower variance.
  std::pair<torch::Tensor, torch::Tensor> moments(const torch::Tensor& a) const {
    torch::Tensor sw = torch::softplus(w_rho), sb = torch::softplus(b_rho);
    return {torch::addmm(b_mu, a, w_mu.t()), a.pow(2).mm(sw.pow(2).t()) + sb.pow(2) + 1e-12};
  }
  torch::Tensor sample(const torch::Tensor& a) const {
    auto [m, v] = moments(a);
    return m + v.sqrt() * torch::randn_like(m);
  }
  // Flattened (mean, variance) of all weights: the posterior q(w).
  std::pair<torch::Tensor, torch::Tensor> posterior() const {
    return {torch::cat({w_mu.flatten(), b_mu}), torch::cat({torch::softplus(w_rho).flatten(), torch::softplus(b_rho)}).pow(2)};
  }
};

}  // namespace

torch::Tensor gumbel_softmax(const torch::Tensor& logits, double tau) {
  torch::Tensor u = torch::rand_like(logits).clamp(1e-12, 1.0 - 1e-12);
  return torch::softmax((logits - torch::log(-torch::log(u))) / tau, -1);
}

torch::Tensor features_tensor(const Dataset& data) {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMajor x = data.X;
  return torch::from_blob(x.data(), {data.num_rows(), data.num_features()}, kDouble).clone();
}

torch::Tensor labels_tensor(const Dataset& data) {
  std::vector<int64_t> y(data.num_rows());
  for (Index i = 0; i < data.num_rows(); ++i) {
    const double v = data.y(i);
    if (v < 0 || v != std::floor(v))
      throw std::invalid_argument(fmt::format("{}: row {} has target {}, not a class id 0, 1, 2, ...", data.source,
                                              data.file_row[i], v));
    y[i] = static_cast<int64_t>(v);
  }
  return torch::tensor(y, torch::kLong);
}

double annealed_temperature(long step, long steps, double start, double end) {
  if (steps <= 1) return end;
  const double f = std::clamp(double(step) / double(steps - 1), 0.0, 1.0);
  return start + (end - start) * f;
}

std::vector<double> gumbel_softmax_sample(const std::vector<double>& logits, double tau, std::uint64_t seed) {
  torch::manual_seed(seed);
  torch::Tensor t = torch::tensor(logits, kDouble);
  torch::Tensor w = gumbel_softmax(t, tau).contiguous();
  return {w.data_ptr<double>(), w.data_ptr<double>() + w.numel()};
}

struct VmtlImpl {
  VmtlConfig config;
  int tasks = 0, classes = 0;  // classes: outputs of each task's layer (1 for regression)
  // Regression targets are standardised with these (training rows, all tasks).
  double y_mean = 0, y_scale = 1;
  std::vector<BayesLinear> encoder;     // last layer gives q(z|x)
  std::vector<BayesLinear> classifier;  // one per task
  torch::Tensor alpha_logits, beta_logits;  // T x T, diagonal unused
  // Learnable log-variance per dimension of z, added to the variance the
  // weight noise gives, in q(z|x) and in every prior component alike.
  // Without it q(z|x) is nearly deterministic and the representation KL,
  // whose detached prior components come from the same encoder, chases its
  // own shrinking variance and diverges (we saw the training loss climb from
  // 2 to 100). This shared noise level is NOT detached in the prior: the KL
  // then pushes it up and the cross-entropy down, a trade-off like the
  // amortised variance of q(z|x) in the paper.
  torch::Tensor z_log_var;
  std::vector<double> history;
  EpochSelection selection;
  // Training inputs and labels (standardised targets) per task: the related
  // samples of the representation prior.
  std::vector<torch::Tensor> task_x, task_y;

  // The targets as the loss takes them: class ids, or standardised reals.
  torch::Tensor targets(const Dataset& data) const {
    if (!config.regression) return labels_tensor(data);
    return (torch::from_blob(const_cast<double*>(data.y.data()), {data.num_rows()}, kDouble).clone() - y_mean) /
           y_scale;
  }
  // Likelihood term of a batch: cross-entropy of the logits, or squared error.
  torch::Tensor data_term(const torch::Tensor& outputs, const torch::Tensor& y) const {
    if (config.regression) return (outputs.squeeze(1) - y).pow(2).mean();
    return torch::nll_loss(torch::log_softmax(outputs, 1), y);
  }

  torch::Tensor diagonal_mask() const { return torch::eye(tasks, kDouble).to(torch::kBool); }
  torch::Tensor masked(const torch::Tensor& logits) const {
    return logits.masked_fill(diagonal_mask(), -std::numeric_limits<double>::infinity());
  }
  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> p;
    for (const auto& l : encoder) for (auto& t : l.parameters()) p.push_back(t);
    for (const auto& l : classifier) for (auto& t : l.parameters()) p.push_back(t);
    p.push_back(alpha_logits);
    p.push_back(beta_logits);
    p.push_back(z_log_var);
    return p;
  }

  // Encoder up to the last layer, sampled (or by the means when !sample).
  torch::Tensor hidden(const torch::Tensor& x, bool sample) const {
    torch::Tensor a = x;
    for (size_t l = 0; l + 1 < encoder.size(); ++l)
      a = torch::relu(sample ? encoder[l].sample(a) : encoder[l].moments(a).first);
    return a;
  }
  // q(z|x): mean and variance given a (sampled) path through the earlier layers.
  std::pair<torch::Tensor, torch::Tensor> representation(const torch::Tensor& x, bool sample) const {
    auto [m, v] = encoder.back().moments(hidden(x, sample));
    return {m, v + torch::exp(z_log_var)};
  }
  // The same without the shared noise level (for the detached prior components).
  std::pair<torch::Tensor, torch::Tensor> weight_noise_representation(const torch::Tensor& x, bool sample) const {
    return encoder.back().moments(hidden(x, sample));
  }
  // Attention keys: the mean output of the first encoder layer, no gradient.
  torch::Tensor keys(const torch::Tensor& x) const {
    torch::NoGradGuard g;
    return encoder.front().moments(x).first;
  }

  // For rows x (labels y) of task t and each other task j: q(z | xbar_j(x)),
  // xbar_j(x) = attention-weighted average of task j's training inputs of the
  // row's class (all of task j's rows when it has none of that class, and
  // always for regression).
  // Detached: the prior's components are held fixed inside task t's loss.
  std::vector<std::pair<torch::Tensor, torch::Tensor>> related(const torch::Tensor& x, const torch::Tensor& y, int t) const {
    torch::NoGradGuard g;
    std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
    torch::Tensor kx = keys(x);
    const double scale = 1.0 / std::sqrt(double(kx.size(1)));
    for (int j = 0; j < tasks; ++j) {
      if (j == t) continue;
      torch::Tensor kj = keys(task_x[j]);
      torch::Tensor score = kx.mm(kj.t()) * scale;                       // B x n_j
      torch::Tensor att;
      if (config.regression) {
        att = torch::softmax(score, 1);
      } else {
        torch::Tensor same = y.unsqueeze(1) == task_y[j].unsqueeze(0);   // same class
        torch::Tensor any = same.any(1, /*keepdim=*/true);
        same = same.logical_or(any.logical_not());                       // no row of the class: all rows
        att = torch::softmax(score.masked_fill(same.logical_not(), -1e300), 1);
      }
      out.push_back(weight_noise_representation(att.mm(task_x[j]), false));
    }
    return out;
  }

  // The three loss terms of task t on rows (x, y), one Monte Carlo estimate
  // with `samples` draws; alpha_t, beta_t as given (rows over the other tasks).
  struct Terms {
    torch::Tensor ce, kl_w, kl_z;
  };
  Terms task_terms(int t, const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& alpha_t,
                   const torch::Tensor& beta_t, int samples) const {
    Terms r;
    r.ce = torch::zeros({}, kDouble);
    r.kl_z = torch::zeros({}, kDouble);
    auto prior_z = tasks > 1 ? related(x, y, t) : std::vector<std::pair<torch::Tensor, torch::Tensor>>{};
    for (int s = 0; s < samples; ++s) {
      auto [mz, vz] = representation(x, true);
      torch::Tensor z = mz + vz.sqrt() * torch::randn_like(mz);
      r.ce = r.ce + data_term(classifier[t].sample(torch::relu(z)), y);
      // Representation KL: convexity bound sum_j beta_tj KL(q(z|x) || q(z|xbar_j)), per row.
      torch::Tensor kl = torch::zeros({x.size(0)}, kDouble);
      if (tasks == 1) {
        kl = gaussian_kl(mz, vz, torch::zeros_like(mz), torch::ones_like(vz));
      } else {
        int k = 0;
        for (int j = 0; j < tasks; ++j) {
          if (j == t) continue;
          kl = kl + beta_t[j] * gaussian_kl(mz, vz, prior_z[k].first, prior_z[k].second + torch::exp(z_log_var));
          ++k;
        }
      }
      // Averaged over rows and over the dimensions of z. The variance of z
      // comes from the weight noise and is small, so the summed KL is
      // hundreds of nats per row: enough that collapsing every z onto its
      // class prior beats classifying (we saw chance accuracy). Per dimension
      // keeps it comparable with the cross-entropy at any width.
      r.kl_z = r.kl_z + kl.mean() / double(mz.size(1));
    }
    r.ce = r.ce / samples;
    r.kl_z = r.kl_z / samples;
    // Classifier KL: sum_j alpha_tj KL(q(w_t) || q(w_j)), q(w_j) detached.
    auto [mt, vt] = classifier[t].posterior();
    if (tasks == 1) {
      r.kl_w = gaussian_kl(mt, vt, torch::zeros_like(mt), torch::ones_like(vt));
    } else {
      r.kl_w = torch::zeros({}, kDouble);
      for (int j = 0; j < tasks; ++j) {
        if (j == t) continue;
        auto [mj, vj] = classifier[j].posterior();
        r.kl_w = r.kl_w + alpha_t[j] * gaussian_kl(mt, vt, mj.detach(), vj.detach());
      }
    }
    return r;
  }

  // Per row: the task's layer's outputs averaged over test_samples draws,
  // softmax-ed first for classification (so class probabilities).
  torch::Tensor averaged_outputs(const Dataset& data) const {
    torch::NoGradGuard g;
    SeededDraws repeatable(config.seed + 7919);  // prediction draws are repeatable
    torch::Tensor x = features_tensor(data);
    torch::Tensor out = torch::zeros({data.num_rows(), classes}, kDouble);
    for (int t = 0; t < data.num_tasks(); ++t) {
      const Index n = data.task_rows(t);
      if (n == 0) continue;
      torch::Tensor xt = x.narrow(0, data.task_begin[t], n), sum = torch::zeros({n, classes}, kDouble);
      for (int s = 0; s < config.test_samples; ++s) {
        auto [mz, vz] = representation(xt, true);
        torch::Tensor o = classifier[t].sample(torch::relu(mz + vz.sqrt() * torch::randn_like(mz)));
        sum += config.regression ? o : torch::softmax(o, 1);
      }
      out.narrow(0, data.task_begin[t], n).copy_(sum / config.test_samples);
    }
    return out;
  }

  torch::Tensor weights(const torch::Tensor& logits) const {
    if (tasks == 1) return torch::zeros({1, 1}, kDouble);
    return torch::softmax(masked(logits), 1);
  }
};

VmtlModel::VmtlModel() : impl_(std::make_unique<VmtlImpl>()) {}
VmtlModel::~VmtlModel() = default;
VmtlModel::VmtlModel(VmtlModel&&) noexcept = default;
VmtlModel& VmtlModel::operator=(VmtlModel&&) noexcept = default;
const VmtlConfig& VmtlModel::config() const { return impl_->config; }
int VmtlModel::num_tasks() const { return impl_->tasks; }
int VmtlModel::num_classes() const { return impl_->classes; }
bool VmtlModel::is_regression() const { return impl_->config.regression; }
const std::vector<double>& VmtlModel::loss_history() const { return impl_->history; }

namespace {
MatrixXd to_matrix(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      c.data_ptr<double>(), c.size(0), c.size(1));
}
}  // namespace

MatrixXd VmtlModel::alpha() const { return to_matrix(impl_->weights(impl_->alpha_logits)); }
MatrixXd VmtlModel::beta() const { return to_matrix(impl_->weights(impl_->beta_logits)); }

MatrixXd VmtlModel::predict_proba(const Dataset& data) const {
  if (is_regression()) throw std::invalid_argument("VMTL regression has no class probabilities: use predict");
  return to_matrix(impl_->averaged_outputs(data));
}

VectorXd VmtlModel::predict(const Dataset& data) const {
  if (!is_regression()) throw std::invalid_argument("VMTL classification: use predict_proba");
  const VmtlImpl& m = *impl_;
  return (to_matrix(m.averaged_outputs(data)).col(0).array() * m.y_scale + m.y_mean).matrix();
}

namespace {
VectorXd per_task(const Dataset& data, const VectorXd& row_value) {
  VectorXd out(data.num_tasks());
  for (int t = 0; t < data.num_tasks(); ++t)
    out(t) = data.task_rows(t) ? row_value.segment(data.task_begin[t], data.task_rows(t)).mean()
                               : std::numeric_limits<double>::quiet_NaN();
  return out;
}

VectorXd row_hits(const Dataset& data, const MatrixXd& p) {
  VectorXd hit(data.num_rows());
  for (Index i = 0; i < data.num_rows(); ++i) {
    Index best;
    p.row(i).maxCoeff(&best);
    hit(i) = double(best) == data.y(i) ? 1.0 : 0.0;
  }
  return hit;
}

VectorXd row_nll(const Dataset& data, const MatrixXd& p) {
  VectorXd nll(data.num_rows());
  for (Index i = 0; i < data.num_rows(); ++i) {
    const Index c = Index(data.y(i));
    nll(i) = c < p.cols() ? -std::log(std::max(p(i, c), 1e-300)) : std::numeric_limits<double>::infinity();
  }
  return nll;
}

// Mean over the tasks with rows (a task without validation rows gives NaN and is skipped).
double mean_over_tasks(const VectorXd& per_task_value) {
  double sum = 0;
  int count = 0;
  for (double v : per_task_value)
    if (!std::isnan(v)) sum += v, ++count;
  return count ? sum / count : std::numeric_limits<double>::quiet_NaN();
}
}  // namespace

VectorXd VmtlModel::task_accuracy(const Dataset& data) const {
  if (is_regression()) throw std::invalid_argument("VMTL regression has no accuracy: use task_mean_loss");
  return per_task(data, row_hits(data, predict_proba(data)));
}

VectorXd VmtlModel::task_mean_loss(const Dataset& data) const {
  if (is_regression()) return per_task(data, (predict(data) - data.y).array().square().matrix());
  return per_task(data, row_nll(data, predict_proba(data)));
}

const EpochSelection& VmtlModel::selection() const { return impl_->selection; }

namespace {
// Epoch score for early stopping: one prediction pass gives both numbers.
// Regression has no accuracy: 0 for every epoch, so the mean squared error decides.
std::pair<double, double> validation_score(const VmtlModel& model, const Dataset& validation) {
  if (model.is_regression()) return {0.0, mean_over_tasks(model.task_mean_loss(validation))};
  MatrixXd p = model.predict_proba(validation);
  return {mean_over_tasks(per_task(validation, row_hits(validation, p))),
          mean_over_tasks(per_task(validation, row_nll(validation, p)))};
}
}  // namespace

VmtlTerms VmtlModel::terms(const Dataset& train) const {
  torch::NoGradGuard g;
  const VmtlImpl& m = *impl_;
  if (m.task_x.empty()) throw std::invalid_argument("VMTL terms need the training rows: a loaded model has none");
  SeededDraws repeatable(m.config.seed + 104729);
  torch::Tensor x = features_tensor(train), y = m.targets(train);
  torch::Tensor a = m.weights(m.alpha_logits), b = m.weights(m.beta_logits);
  VmtlTerms out{VectorXd(m.tasks), VectorXd(m.tasks), VectorXd(m.tasks)};
  for (int t = 0; t < m.tasks; ++t) {
    const Index n = train.task_rows(t);
    auto r = m.task_terms(t, x.narrow(0, train.task_begin[t], n), y.narrow(0, train.task_begin[t], n), a[t], b[t],
                          m.config.train_samples);
    out.cross_entropy(t) = r.ce.item<double>();
    out.kl_classifier(t) = r.kl_w.item<double>();
    out.kl_representation(t) = r.kl_z.item<double>();
  }
  return out;
}

namespace {
// The untrained layers and prior logits for m.config, m.tasks and m.classes.
void build_layers(VmtlImpl& m, int inputs) {
  const VmtlConfig& config = m.config;
  int in = inputs;
  for (int w : config.hidden) {
    m.encoder.emplace_back(in, w, config.init_sigma);
    in = w;
  }
  for (int t = 0; t < m.tasks; ++t) m.classifier.emplace_back(in, m.classes, config.init_sigma);
  m.alpha_logits = torch::zeros({m.tasks, m.tasks}, kDouble).requires_grad_();
  m.beta_logits = torch::zeros({m.tasks, m.tasks}, kDouble).requires_grad_();
  m.z_log_var = torch::full({config.hidden.back()}, 2.0 * std::log(config.init_sigma), kDouble).requires_grad_();
}
}  // namespace

VmtlModel train_vmtl(const Dataset& train, const VmtlConfig& config, const EarlyStopping& stopping) {
  if (config.hidden.empty()) throw std::invalid_argument("VMTL needs at least one encoder layer (--hidden)");
  const int T = train.num_tasks();
  for (int t = 0; t < T; ++t)
    if (train.task_rows(t) == 0) throw std::invalid_argument("VMTL: task " + train.task_names[t] + " has no training rows");
  torch::manual_seed(config.seed);
  VmtlModel model;
  VmtlImpl& m = model.impl();
  m.config = config;
  m.tasks = T;
  if (config.regression) {
    m.classes = 1;
    m.y_mean = train.y.mean();
    const double sd = std::sqrt((train.y.array() - m.y_mean).square().mean());
    m.y_scale = sd > 0 ? sd : 1.0;  // a constant target: leave it unscaled
  }
  torch::Tensor x = features_tensor(train), y = m.targets(train);
  if (!config.regression) {
    m.classes = config.classes > 0 ? config.classes : int(y.max().item<long>()) + 1;
    if (y.max().item<long>() >= m.classes) throw std::invalid_argument("VMTL: a training label is >= --classes");
  }
  build_layers(m, int(train.num_features()));
  for (int t = 0; t < T; ++t) {
    m.task_x.push_back(x.narrow(0, train.task_begin[t], train.task_rows(t)));
    m.task_y.push_back(y.narrow(0, train.task_begin[t], train.task_rows(t)));
  }

  torch::optim::Adam optimizer(m.parameters(), torch::optim::AdamOptions(config.learning_rate));
  Index largest = 0;
  for (int t = 0; t < T; ++t) largest = std::max(largest, train.task_rows(t));
  const Index batch = std::max(1, config.batch_size);
  const long per_epoch = long((largest + batch - 1) / batch);
  const long steps = long(config.epochs) * per_epoch;
  const long warmup = std::max(1L, long(config.warmup_fraction * double(steps)));
  // Our own generator for the row order, so batches do not depend on how many
  // random numbers torch drew.
  std::mt19937_64 rng(config.seed + 1);
  std::vector<std::vector<int64_t>> order(T);
  std::vector<size_t> cursor(T, 0);
  for (int t = 0; t < T; ++t) {
    order[t].resize(train.task_rows(t));
    std::iota(order[t].begin(), order[t].end(), 0);
    std::shuffle(order[t].begin(), order[t].end(), rng);
  }
  double epoch_sum = 0;
  BestWeights best(m.parameters(), stopping.patience);
  for (long step = 0; step < steps; ++step) {
    const double tau = annealed_temperature(step, steps, config.tau_start, config.tau_end);
    const double kl_w = config.kl_w_weight * std::min(1.0, double(step + 1) / double(warmup));
    torch::Tensor alpha = T > 1 ? gumbel_softmax(m.masked(m.alpha_logits), tau) : torch::zeros({1, 1}, kDouble);
    torch::Tensor beta = T > 1 ? gumbel_softmax(m.masked(m.beta_logits), tau) : torch::zeros({1, 1}, kDouble);
    torch::Tensor loss = torch::zeros({}, kDouble);
    for (int t = 0; t < T; ++t) {
      // Next batch of task t (tasks smaller than the largest cycle sooner).
      const Index n = train.task_rows(t), b = std::min(batch, n);
      std::vector<int64_t> idx;
      for (Index i = 0; i < b; ++i) {
        if (cursor[t] == order[t].size()) {
          std::shuffle(order[t].begin(), order[t].end(), rng);
          cursor[t] = 0;
        }
        idx.push_back(order[t][cursor[t]++]);
      }
      torch::Tensor rows = torch::tensor(idx, torch::kLong);
      auto r = m.task_terms(t, m.task_x[t].index_select(0, rows), m.task_y[t].index_select(0, rows), alpha[t], beta[t],
                            config.train_samples);
      loss = loss + r.ce + kl_w * r.kl_w / double(n) + config.kl_z_weight * r.kl_z;
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    epoch_sum += loss.item<double>() / T;
    if ((step + 1) % per_epoch == 0) {
      m.history.push_back(epoch_sum / double(per_epoch));
      epoch_sum = 0;
      if (stopping.validation) {
        auto [accuracy, loss] = validation_score(model, *stopping.validation);
        if (!best.record(accuracy, loss)) break;
      }
    }
  }
  best.restore();
  m.selection = best.selection();
  return model;
}

nlohmann::json vmtl_to_json(const VmtlModel& model, const std::vector<std::string>& task_names,
                            const std::vector<std::string>& feature_names) {
  const VmtlImpl& m = model.impl();
  const VmtlConfig& c = m.config;
  return {{"format", "mtif-vmtl-1"},
          {"config",
           {{"hidden", c.hidden}, {"classes", c.classes}, {"regression", c.regression}, {"epochs", c.epochs},
            {"batch_size", c.batch_size}, {"learning_rate", c.learning_rate}, {"train_samples", c.train_samples},
            {"test_samples", c.test_samples}, {"tau_start", c.tau_start}, {"tau_end", c.tau_end},
            {"kl_w_weight", c.kl_w_weight}, {"kl_z_weight", c.kl_z_weight}, {"warmup_fraction", c.warmup_fraction},
            {"init_sigma", c.init_sigma}, {"seed", c.seed}}},
          {"outputs", m.classes},
          {"y_mean", m.y_mean},
          {"y_scale", m.y_scale},
          {"task_names", task_names},
          {"feature_names", feature_names},
          {"loss_history", m.history},
          {"parameters", tensors_to_json(m.parameters())}};
}

LoadedVmtl vmtl_from_json(const nlohmann::json& j) {
  if (j.value("format", "") != "mtif-vmtl-1") throw std::runtime_error("not an mtif VMTL model (format mtif-vmtl-1)");
  const auto& jc = j.at("config");
  LoadedVmtl out;
  VmtlImpl& m = out.model.impl();
  VmtlConfig& c = m.config;
  c.hidden = jc.at("hidden").get<std::vector<int>>();
  c.classes = jc.at("classes").get<int>();
  c.regression = jc.at("regression").get<bool>();
  c.epochs = jc.at("epochs").get<int>();
  c.batch_size = jc.at("batch_size").get<int>();
  c.learning_rate = jc.at("learning_rate").get<double>();
  c.train_samples = jc.at("train_samples").get<int>();
  c.test_samples = jc.at("test_samples").get<int>();
  c.tau_start = jc.at("tau_start").get<double>();
  c.tau_end = jc.at("tau_end").get<double>();
  c.kl_w_weight = jc.at("kl_w_weight").get<double>();
  c.kl_z_weight = jc.at("kl_z_weight").get<double>();
  c.warmup_fraction = jc.at("warmup_fraction").get<double>();
  c.init_sigma = jc.at("init_sigma").get<double>();
  c.seed = jc.at("seed").get<std::uint64_t>();
  if (c.hidden.empty()) throw std::runtime_error("VMTL model: no encoder layers");
  out.task_names = j.at("task_names").get<std::vector<std::string>>();
  out.feature_names = j.at("feature_names").get<std::vector<std::string>>();
  m.tasks = int(out.task_names.size());
  m.classes = j.at("outputs").get<int>();
  m.y_mean = j.at("y_mean").get<double>();
  m.y_scale = j.at("y_scale").get<double>();
  m.history = j.value("loss_history", std::vector<double>{});
  build_layers(m, int(out.feature_names.size()));
  tensors_from_json(j.at("parameters"), m.parameters(), "VMTL model");
  return out;
}

}  // namespace mtif
