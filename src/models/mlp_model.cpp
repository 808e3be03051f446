#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

#include "best_weights.hpp"
#include "mlp_impl.hpp"
#include <fmt/ranges.h>

namespace mtif {

HeadKind parse_head_kind(const std::string& loss) {
  if (loss == "squared") return HeadKind::Regression;
  if (loss == "logistic") return HeadKind::Binary;
  if (loss == "softmax") return HeadKind::Softmax;
  throw std::invalid_argument("unknown loss '" + loss + "' (expected squared, logistic or softmax)");
}

namespace {
const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

}  // namespace

torch::Tensor activate(const std::string& name, const torch::Tensor& t) {
  if (name == "tanh") return torch::tanh(t);
  if (name == "relu") return torch::relu(t);
  if (name == "gelu") return torch::gelu(t);
  throw std::invalid_argument("unknown activation '" + name + "' (expected tanh, relu or gelu)");
}

std::vector<torch::Tensor> linear_layer(int in, int out) {
  double bound = 1.0 / std::sqrt(double(in));
  return {torch::empty({out, in}, kDouble).uniform_(-bound, bound).requires_grad_(),
          torch::empty({out}, kDouble).uniform_(-bound, bound).requires_grad_()};
}

namespace {

std::vector<torch::Tensor> detached_copy(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone().requires_grad_(t.requires_grad()));
  return out;
}

torch::Tensor head_output(const std::vector<torch::Tensor>& head, const torch::Tensor& z) {
  return torch::addmm(head[1], z, head[0].t());
}
}  // namespace

RowTasks grouped_rows(const std::vector<Index>& task_begin) {
  RowTasks r;
  r.task_begin = task_begin;
  r.task_of_row = torch::empty({task_begin.empty() ? 0 : task_begin.back()}, torch::kLong);
  for (size_t k = 0; k + 1 < task_begin.size(); ++k)
    r.task_of_row.narrow(0, task_begin[k], task_begin[k + 1] - task_begin[k]).fill_(int64_t(k));
  return r;
}

RowTasks mixed_rows(const torch::Tensor& task_of_row) { return RowTasks{task_of_row, {}}; }

std::unique_ptr<MlpImpl> initial_mlp(const MlpConfig& config, Index inputs, int tasks) {
  torch::manual_seed(config.seed);
  auto net = std::make_unique<MlpImpl>();
  net->config = config;
  int in = static_cast<int>(inputs);
  for (int width : config.hidden) {
    for (auto& t : linear_layer(in, width)) net->trunk.push_back(t);
    in = width;
  }
  for (int k = 0; k < tasks; ++k) net->heads.push_back(linear_layer(in, net->out_dim()));
  return net;
}

std::unique_ptr<NetworkImpl> initial_network(const MlpConfig& config, Index inputs, int tasks) {
  if (config.sharing == "hard") return initial_mlp(config, inputs, tasks);
  if (config.sharing == "soft") return initial_soft_sharing(config, inputs, tasks);
  throw std::invalid_argument("unknown sharing '" + config.sharing + "' (expected hard or soft)");
}

const MlpImpl* as_mlp(const NetworkImpl& net) { return dynamic_cast<const MlpImpl*>(&net); }

const MlpImpl& require_mlp(const NetworkImpl& net, const std::string& what) {
  if (const MlpImpl* mlp = as_mlp(net)) return *mlp;
  throw std::invalid_argument(what + " needs the built-in MLP (--model mlp); this network is " + net.describe());
}

KroneckerTrace NetworkImpl::kronecker_trace(const torch::Tensor&, const RowTasks&) const {
  throw std::invalid_argument("EK-FAC needs the network's layers (the built-in MLP or a TorchScript module); this "
                              "network is " + describe() + ": use --solver cg");
}

std::vector<std::string> NetworkImpl::shared_names() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < shared_parameters().size(); ++i) out.push_back(fmt::format("gamma[{}]", i));
  return out;
}

std::vector<torch::Tensor> NetworkImpl::all_parameters() const {
  std::vector<torch::Tensor> out;
  for (int k = 0; k < num_tasks(); ++k) {
    const auto& theta = task_parameters(k);
    out.insert(out.end(), theta.begin(), theta.end());
  }
  const auto& gamma = shared_parameters();
  out.insert(out.end(), gamma.begin(), gamma.end());
  return out;
}

torch::Tensor NetworkImpl::row_loss(const torch::Tensor& f, const torch::Tensor& y) const {
  switch (config.head) {
    case HeadKind::Regression:
      return 0.5 * (f.squeeze(1) - y).pow(2);
    case HeadKind::Binary: {
      torch::Tensor g = f.squeeze(1);
      return torch::nn::functional::softplus(g) - y * g;
    }
    case HeadKind::Softmax:
      return -torch::log_softmax(f, 1).gather(1, y.to(torch::kLong).unsqueeze(1)).squeeze(1);
  }
  throw std::logic_error("unknown head kind");
}

torch::Tensor NetworkImpl::penalty() const {
  torch::Tensor sum = torch::zeros({}, kDouble);
  for (const auto& p : all_parameters()) sum = sum + p.pow(2).sum();
  torch::Tensor c = coupling();
  return c.defined() ? 0.5 * config.weight_decay * sum + c : 0.5 * config.weight_decay * sum;
}

std::unique_ptr<NetworkImpl> MlpImpl::clone() const {
  auto copy = std::make_unique<MlpImpl>();
  copy->config = config;
  copy->trunk = detached_copy(trunk);
  for (const auto& h : heads) copy->heads.push_back(detached_copy(h));
  return copy;
}

std::string MlpImpl::describe() const {
  return fmt::format("built-in MLP, trunk {} ({}), {} heads", fmt::join(config.hidden, "x"), config.activation,
                     heads.size());
}

torch::Tensor MlpImpl::features(const torch::Tensor& x) const {
  torch::Tensor z = x;
  for (size_t j = 0; j + 1 < trunk.size(); j += 2) z = activate(config.activation, torch::addmm(trunk[j + 1], z, trunk[j].t()));
  return z;
}

torch::Tensor MlpImpl::outputs(const torch::Tensor& x, const RowTasks& rows) const {
  return head_outputs(features(x), rows);
}

torch::Tensor MlpImpl::head_outputs(const torch::Tensor& z, const RowTasks& rows) const {
  if (!rows.task_begin.empty()) {  // grouped: slice each task's rows
    std::vector<torch::Tensor> parts;
    for (size_t k = 0; k + 1 < rows.task_begin.size(); ++k) {
      const Index n_k = rows.task_begin[k + 1] - rows.task_begin[k];
      if (n_k > 0) parts.push_back(head_output(heads[k], z.narrow(0, rows.task_begin[k], n_k)));
    }
    return parts.empty() ? torch::zeros({0, out_dim()}, kDouble) : torch::cat(parts, 0);
  }
  // A batch that mixes tasks: each row's output from its own task's head.
  torch::Tensor f = torch::zeros({z.size(0), out_dim()}, kDouble);
  for (int k = 0; k < num_tasks(); ++k) {
    torch::Tensor idx = (rows.task_of_row == k).nonzero().squeeze(1);
    if (idx.numel() > 0) f = f.index_put({idx}, head_output(heads[k], z.index_select(0, idx)));
  }
  return f;
}

LayerTrace trace_forward(const MlpImpl& net, const torch::Tensor& x, const std::vector<Index>& task_begin) {
  LayerTrace t;
  torch::Tensor a = x;
  for (size_t j = 0; j + 1 < net.trunk.size(); j += 2) {
    t.inputs.push_back(a.detach());
    t.preactivations.push_back(torch::addmm(net.trunk[j + 1], a, net.trunk[j].t()));
    a = activate(net.config.activation, t.preactivations.back());
  }
  t.features = a;
  t.outputs = net.head_outputs(a, grouped_rows(task_begin));
  return t;
}

TorchData to_torch(const Dataset& data, const VectorXd* weight) {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMajor x = data.X;
  TorchData t;
  t.x = torch::from_blob(x.data(), {data.num_rows(), data.num_features()}, kDouble).clone();
  t.y = torch::from_blob(const_cast<double*>(data.y.data()), {data.num_rows()}, kDouble).clone();
  VectorXd w(data.num_rows());
  for (int k = 0; k < data.num_tasks(); ++k)
    for (Index i = data.task_begin[k]; i < data.task_begin[k + 1]; ++i)
      w(i) = (weight ? (*weight)(i) : 1.0) / double(data.task_rows(k));
  t.row_weight = torch::from_blob(w.data(), {data.num_rows()}, kDouble).clone();
  t.task_begin = data.task_begin;
  return t;
}

TorchData task_rows(const TorchData& data, int k) {
  const Index begin = data.task_begin[k], n_k = data.task_begin[k + 1] - begin;
  TorchData t;
  t.x = data.x.narrow(0, begin, n_k);
  t.y = data.y.narrow(0, begin, n_k);
  t.row_weight = data.row_weight.narrow(0, begin, n_k);
  t.task_begin.assign(data.task_begin.size(), 0);
  for (size_t j = k + 1; j < t.task_begin.size(); ++j) t.task_begin[j] = n_k;
  return t;
}

torch::Tensor objective_tensor(const NetworkImpl& net, const TorchData& data) {
  torch::Tensor f = net.outputs(data.x, data.rows());
  return (net.row_loss(f, data.y) * data.row_weight).sum() + net.penalty();
}

std::vector<torch::Tensor> gradient_or_zero(const torch::Tensor& output, const std::vector<torch::Tensor>& inputs,
                                            bool retain_graph, bool create_graph) {
  auto g = torch::autograd::grad({output}, inputs, {}, retain_graph, create_graph, /*allow_unused=*/true);
  for (size_t i = 0; i < g.size(); ++i)
    if (!g[i].defined()) g[i] = torch::zeros_like(inputs[i]);
  return g;
}

MatrixXd to_eigen(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  Index rows = c.size(0), cols = c.dim() > 1 ? c.size(1) : 1;
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      c.data_ptr<double>(), rows, cols);
}

VectorXd flatten(const std::vector<torch::Tensor>& tensors) {
  Index size = 0;
  for (const auto& t : tensors) size += t.numel();
  VectorXd out(size);
  Index offset = 0;
  for (const auto& t : tensors) {
    torch::Tensor c = t.detach().to(torch::kFloat64).contiguous();
    std::copy(c.data_ptr<double>(), c.data_ptr<double>() + c.numel(), out.data() + offset);
    offset += c.numel();
  }
  return out;
}

std::vector<torch::Tensor> unflatten(const VectorXd& v, const std::vector<torch::Tensor>& like) {
  std::vector<torch::Tensor> out;
  Index offset = 0;
  for (const auto& t : like) {
    out.push_back(torch::from_blob(const_cast<double*>(v.data()) + offset, t.sizes(), kDouble).clone());
    offset += t.numel();
  }
  if (offset != v.size()) throw std::logic_error("unflatten: size mismatch");
  return out;
}

BlockVector to_blocks(const NetworkImpl& net, const std::vector<torch::Tensor>& per_parameter) {
  BlockVector b;
  auto next = per_parameter.begin();
  for (int k = 0; k < net.num_tasks(); ++k) {
    const auto count = net.task_parameters(k).size();
    b.theta.push_back(flatten(std::vector<torch::Tensor>(next, next + count)));
    next += count;
  }
  b.gamma = flatten(std::vector<torch::Tensor>(next, per_parameter.end()));
  return b;
}

std::vector<torch::Tensor> from_blocks(const NetworkImpl& net, const BlockVector& v) {
  std::vector<torch::Tensor> out;
  for (int k = 0; k < net.num_tasks(); ++k)
    for (auto& t : unflatten(v.theta[k], net.task_parameters(k))) out.push_back(t);
  for (auto& t : unflatten(v.gamma, net.shared_parameters())) out.push_back(t);
  return out;
}

// ---- MlpModel ----

namespace {
Index element_count(const std::vector<torch::Tensor>& ts) {
  Index n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}
}  // namespace

MlpModel::MlpModel() : impl_(std::make_unique<MlpImpl>()) {}
MlpModel::MlpModel(std::unique_ptr<NetworkImpl> impl) : impl_(std::move(impl)) {}
MlpModel::~MlpModel() = default;
MlpModel::MlpModel(MlpModel&&) noexcept = default;
MlpModel& MlpModel::operator=(MlpModel&&) noexcept = default;
MlpModel::MlpModel(const MlpModel& other) : impl_(other.impl_->clone()) {}
MlpModel& MlpModel::operator=(const MlpModel& other) {
  if (this != &other) impl_ = other.impl_->clone();
  return *this;
}

const MlpConfig& MlpModel::config() const { return impl_->config; }
int MlpModel::num_tasks() const { return impl_->num_tasks(); }
Index MlpModel::shared_size() const { return element_count(impl_->shared_parameters()); }
Index MlpModel::head_size(int k) const { return element_count(impl_->task_parameters(k)); }
BlockVector MlpModel::parameters() const { return to_blocks(*impl_, impl_->all_parameters()); }
bool MlpModel::is_builtin_mlp() const { return as_mlp(*impl_) != nullptr; }
std::string MlpModel::describe() const {
  Index task_parameters = 0;
  for (int k = 0; k < num_tasks(); ++k) task_parameters += head_size(k);
  return fmt::format("{}: {} shared parameters, {} task parameters", impl_->describe(), shared_size(),
                     task_parameters);
}

void MlpModel::set_parameters(const BlockVector& w) {
  torch::NoGradGuard no_grad;
  auto values = from_blocks(*impl_, w);
  auto params = impl_->all_parameters();
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(values[i]);
}

VectorXd MlpModel::row_losses(const Dataset& data) const {
  torch::NoGradGuard no_grad;
  TorchData t = to_torch(data);
  torch::Tensor l = impl_->row_loss(impl_->outputs(t.x, t.rows()), t.y).contiguous();
  return Eigen::Map<const VectorXd>(l.data_ptr<double>(), l.numel());
}

MatrixXd MlpModel::outputs(const Dataset& data) const {
  torch::NoGradGuard no_grad;
  TorchData t = to_torch(data);
  return to_eigen(impl_->outputs(t.x, t.rows()));
}

VectorXd MlpModel::task_mean_loss(const Dataset& data) const {
  VectorXd l = row_losses(data);
  VectorXd out(data.num_tasks());
  for (int k = 0; k < data.num_tasks(); ++k)
    out(k) = data.task_rows(k) ? l.segment(data.task_begin[k], data.task_rows(k)).mean()
                               : std::numeric_limits<double>::quiet_NaN();
  return out;
}

double MlpModel::objective(const Dataset& train, const VectorXd* weight) const {
  torch::NoGradGuard no_grad;
  return objective_tensor(*impl_, to_torch(train, weight)).item<double>();
}

BlockVector MlpModel::objective_gradient(const Dataset& train, const VectorXd* weight) const {
  auto params = impl_->all_parameters();
  torch::Tensor obj = objective_tensor(*impl_, to_torch(train, weight));
  return to_blocks(*impl_, torch::autograd::grad({obj}, params));
}

namespace {
// Mean over tasks (with rows) of the validation accuracy and loss, for epoch selection.
std::pair<double, double> validation_score(const NetworkImpl& net, const Dataset& validation) {
  torch::NoGradGuard no_grad;
  TorchData v = to_torch(validation);
  torch::Tensor f = net.outputs(v.x, v.rows());
  torch::Tensor loss = net.row_loss(f, v.y);
  torch::Tensor hit;
  switch (net.config.head) {
    case HeadKind::Softmax: hit = (f.argmax(1) == v.y.to(torch::kLong)).to(kDouble); break;
    case HeadKind::Binary: hit = ((f.squeeze(1) > 0) == (v.y > 0.5)).to(kDouble); break;
    case HeadKind::Regression: hit = torch::zeros_like(loss); break;  // no accuracy: the loss decides
  }
  double accuracy = 0, mean_loss = 0;
  int tasks = 0;
  for (int k = 0; k < validation.num_tasks(); ++k) {
    const Index n = validation.task_rows(k);
    if (n == 0) continue;
    accuracy += hit.narrow(0, validation.task_begin[k], n).mean().item<double>();
    mean_loss += loss.narrow(0, validation.task_begin[k], n).mean().item<double>();
    ++tasks;
  }
  return {accuracy / std::max(1, tasks), mean_loss / std::max(1, tasks)};
}
}  // namespace

MlpModel train_mlp(const Dataset& train, const MlpConfig& config, const MlpTrainOptions& options) {
  MlpModel model = options.warm_start
                       ? *options.warm_start
                       : MlpModel(initial_network(config, train.num_features(), train.num_tasks()));
  NetworkImpl& net = model.impl();
  TorchData data = to_torch(train, options.weight);
  const Index n = train.num_rows();
  const Index batch = std::min<Index>(config.batch_size, n);
  const long steps = options.steps >= 0 ? options.steps : long(config.epochs) * ((n + batch - 1) / batch);
  auto params = net.all_parameters();
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  if (config.optimizer == "adam")
    optimizer = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(config.learning_rate));
  else if (config.optimizer == "sgd")
    optimizer = std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(config.learning_rate).momentum(config.momentum));
  else
    throw std::invalid_argument("unknown optimizer '" + config.optimizer + "' (expected adam or sgd)");
  // Row order per epoch from our own seeded generator: reproducible across runs.
  std::mt19937_64 rng(config.seed + 1);
  std::vector<Index> order(n);
  std::iota(order.begin(), order.end(), 0);
  const torch::Tensor task_of_row = data.rows().task_of_row;
  Index cursor = n;
  const long per_epoch = long((n + batch - 1) / batch);
  const Dataset* validation = options.stopping.validation;
  BestWeights best(params, options.stopping.patience);
  for (long step = 0; step < steps; ++step) {
    if (options.before_step) options.before_step(step, model);
    if (cursor + batch > n) {
      std::shuffle(order.begin(), order.end(), rng);
      cursor = 0;
    }
    torch::Tensor idx = torch::from_blob(order.data() + cursor, {batch}, torch::kLong).clone();
    cursor += batch;
    // A batch mixes tasks: each row's output comes from its own task's head.
    torch::Tensor f = net.outputs(data.x.index_select(0, idx), mixed_rows(task_of_row.index_select(0, idx)));
    torch::Tensor w = data.row_weight.index_select(0, idx) * (double(n) / double(batch));
    torch::Tensor loss = (net.row_loss(f, data.y.index_select(0, idx)) * w).sum() + net.penalty();
    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    if (validation && (step + 1) % per_epoch == 0) {
      auto [accuracy, validation_loss] = validation_score(net, *validation);
      if (!best.record(accuracy, validation_loss)) break;
    }
  }
  best.restore();
  if (options.selection) *options.selection = best.selection();
  return model;
}

namespace {
const char* head_name(HeadKind h) {
  return h == HeadKind::Regression ? "squared" : h == HeadKind::Binary ? "logistic" : "softmax";
}
std::vector<double> as_vector(const VectorXd& v) { return {v.data(), v.data() + v.size()}; }
VectorXd as_eigen(const std::vector<double>& v) { return Eigen::Map<const VectorXd>(v.data(), Index(v.size())); }
}  // namespace

nlohmann::json mlp_to_json(const MlpModel& model, const std::vector<std::string>& task_names,
                           const std::vector<std::string>& feature_names) {
  if (dynamic_cast<const MlpImpl*>(&model.impl()) == nullptr && model.config().sharing != "soft")
    throw std::invalid_argument("an mtif-mlp-1 model file holds built-in networks; this is " + model.impl().describe());
  const MlpConfig& c = model.config();
  BlockVector w = model.parameters();
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& t : w.theta) heads.push_back(as_vector(t));
  return {{"format", "mtif-mlp-1"},
          {"config",
           {{"hidden", c.hidden}, {"activation", c.activation}, {"loss", head_name(c.head)}, {"classes", c.classes},
            {"weight_decay", c.weight_decay}, {"optimizer", c.optimizer}, {"learning_rate", c.learning_rate},
            {"momentum", c.momentum}, {"epochs", c.epochs}, {"batch_size", c.batch_size}, {"seed", c.seed},
            {"sharing", c.sharing}, {"coupling", c.coupling}}},
          {"inputs", feature_names.size()},
          {"task_names", task_names},
          {"feature_names", feature_names},
          {"trunk", as_vector(w.gamma)},
          {"heads", heads}};
}

LoadedMlp mlp_from_json(const nlohmann::json& j) {
  if (j.value("format", "") != "mtif-mlp-1") throw std::runtime_error("not an mtif network model (format mtif-mlp-1)");
  const auto& jc = j.at("config");
  MlpConfig c;
  c.hidden = jc.at("hidden").get<std::vector<int>>();
  c.activation = jc.at("activation").get<std::string>();
  c.head = parse_head_kind(jc.at("loss").get<std::string>());
  c.classes = jc.at("classes").get<int>();
  c.weight_decay = jc.at("weight_decay").get<double>();
  c.optimizer = jc.at("optimizer").get<std::string>();
  c.learning_rate = jc.at("learning_rate").get<double>();
  c.momentum = jc.at("momentum").get<double>();
  c.epochs = jc.at("epochs").get<int>();
  c.batch_size = jc.at("batch_size").get<int>();
  c.seed = jc.at("seed").get<std::uint64_t>();
  LoadedMlp out;
  out.task_names = j.at("task_names").get<std::vector<std::string>>();
  out.feature_names = j.at("feature_names").get<std::vector<std::string>>();
  c.sharing = jc.value("sharing", std::string("hard"));
  c.coupling = jc.value("coupling", 1.0);
  out.model = MlpModel(initial_network(c, Index(out.feature_names.size()), int(out.task_names.size())));
  BlockVector w;
  w.gamma = as_eigen(j.at("trunk").get<std::vector<double>>());
  for (const auto& h : j.at("heads")) w.theta.push_back(as_eigen(h.get<std::vector<double>>()));
  if (w.gamma.size() != out.model.shared_size() || int(w.theta.size()) != out.model.num_tasks())
    throw std::runtime_error("network model: parameter count does not match its configuration");
  for (int k = 0; k < out.model.num_tasks(); ++k)
    if (w.theta[k].size() != out.model.head_size(k))
      throw std::runtime_error(fmt::format("network model: head {} has {} parameters, expected {}", k,
                                           w.theta[k].size(), out.model.head_size(k)));
  out.model.set_parameters(w);
  return out;
}

}  // namespace mtif
