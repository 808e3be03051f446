#include "mtif/mlp_ekfac.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <numeric>
#include <stdexcept>

#include "../models/mlp_impl.hpp"
#include "mtif/mlp_curvature.hpp"

namespace mtif {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Columns U_c (n x out each) with sum_c U_c,r U_c,r^T = w_r Lambda_r, the
// weighted loss Hessian with respect to row r's output: the GGN's
// pseudo-gradients. Softmax: Lambda = diag(p) - p p^T = sum_c p_c (e_c - p)(e_c - p)^T.
std::vector<torch::Tensor> output_hessian_factors(HeadKind head, const torch::Tensor& f, const torch::Tensor& w) {
  torch::Tensor sw = w.sqrt().unsqueeze(1);
  switch (head) {
    case HeadKind::Regression:
      return {sw.expand_as(f).clone()};
    case HeadKind::Binary: {
      torch::Tensor p = torch::sigmoid(f);
      return {sw * (p * (1 - p)).sqrt()};
    }
    case HeadKind::Softmax: {
      torch::Tensor p = torch::softmax(f, 1);
      std::vector<torch::Tensor> out;
      for (int64_t c = 0; c < f.size(1); ++c) {
        torch::Tensor e = torch::zeros_like(p);
        e.select(1, c).fill_(1.0);
        out.push_back(sw * p.select(1, c).sqrt().unsqueeze(1) * (e - p));
      }
      return out;
    }
  }
  throw std::logic_error("unknown head kind");
}

MatrixXd with_ones(const MatrixXd& a) {
  MatrixXd out(a.rows(), a.cols() + 1);
  out << a, VectorXd::Ones(a.rows());
  return out;
}

MatrixXd eigenvectors(const MatrixXd& m) {
  Eigen::SelfAdjointEigenSolver<MatrixXd> eig(m);
  if (eig.info() != Eigen::Success) throw std::runtime_error("EK-FAC: eigendecomposition failed");
  return eig.eigenvectors();
}
}  // namespace

MlpEkfacSolver::MlpEkfacSolver(const MlpModel& model, const Dataset& train, double damping)
    : shift_(model.config().weight_decay + damping), shared_size_(model.shared_size()) {
  if (as_mlp(model.impl())) factor_builtin_mlp(model, train, damping);
  else factor_network(model, train, damping);
}

void MlpEkfacSolver::factor_builtin_mlp(const MlpModel& model, const Dataset& train, double damping) {
  const MlpImpl& net = require_mlp(model.impl(), "EK-FAC");
  const double shift = net.config.weight_decay + damping;
  Index offset = 0;
  auto t0 = Clock::now();
  TorchData data = to_torch(train);
  LayerTrace trace = trace_forward(net, data.x, data.task_begin);
  torch::Tensor f = trace.outputs.detach();
  auto factors = output_hessian_factors(net.config.head, f, data.row_weight);
  // Pre-activation pseudo-gradients per layer and per factor column.
  std::vector<std::vector<MatrixXd>> deltas(trace.preactivations.size());
  for (const auto& u : factors) {
    auto g = torch::autograd::grad({trace.outputs}, trace.preactivations, {u}, true);
    for (size_t l = 0; l < g.size(); ++l) deltas[l].push_back(to_eigen(g[l]));
  }
  std::vector<MatrixXd> inputs;
  for (const auto& a : trace.inputs) inputs.push_back(with_ones(to_eigen(a)));
  // Heads: exact blocks from the trunk features and Lambda.
  MatrixXd h = to_eigen(trace.features);
  const Index out = f.size(1);
  MatrixXd lambda_flat(f.size(0), out * out);
  {
    MatrixXd lam = MatrixXd::Zero(f.size(0), out * out);
    for (const auto& u : factors) {
      MatrixXd ue = to_eigen(u);
      for (Index c = 0; c < out; ++c)
        for (Index c2 = 0; c2 < out; ++c2) lam.col(c * out + c2) += ue.col(c).cwiseProduct(ue.col(c2));
    }
    lambda_flat = lam;
  }
  for (int k = 0; k < train.num_tasks(); ++k) {
    const Index begin = train.task_begin[k], n_k = train.task_rows(k);
    head_factors_.emplace_back(
        linear_head_block(h.middleRows(begin, n_k), lambda_flat.middleRows(begin, n_k), out, shift));
    head_sizes_.push_back(model.head_size(k));
    if (head_factors_.back().info() != Eigen::Success || !head_factors_.back().isPositive())
      throw std::runtime_error(fmt::format("head block A_{} is not positive definite: add --damping", k));
  }
  timings_.factors_s = seconds_since(t0);

  for (size_t l = 0; l < inputs.size(); ++l) {
    const MatrixXd& a = inputs[l];
    Layer layer;
    layer.name = fmt::format("trunk layer {}", l + 1);
    layer.in = a.cols() - 1;
    layer.out = deltas[l][0].cols();
    layer.weight_offset = offset;
    layer.bias_offset = offset + layer.out * layer.in;
    offset += layer.out * (layer.in + 1);
    auto t1 = Clock::now();
    MatrixXd input_moment = a.transpose() * a / double(a.rows());
    MatrixXd grad_moment = MatrixXd::Zero(layer.out, layer.out);
    for (const auto& d : deltas[l]) grad_moment.noalias() += d.transpose() * d;
    timings_.factors_s += seconds_since(t1);
    auto t2 = Clock::now();
    layer.input_basis = eigenvectors(input_moment);
    layer.grad_basis = eigenvectors(grad_moment);
    timings_.eigen_s += seconds_since(t2);
    // Corrected eigenvalues: sum_r sum_c ((Q_S^T d_rc)_i (Q_A^T a_r)_j)^2.
    auto t3 = Clock::now();
    MatrixXd rotated_inputs = (a * layer.input_basis).array().square().matrix();
    layer.eigenvalues = MatrixXd::Zero(layer.out, layer.in + 1);
    for (const auto& d : deltas[l])
      layer.eigenvalues.noalias() += (d * layer.grad_basis).array().square().matrix().transpose() * rotated_inputs;
    layer.eigenvalues.array() += shift;
    timings_.correction_s += seconds_since(t3);
    layers_.push_back(std::move(layer));
  }
}

namespace {
// Rows of the data per pass: bounds the patches and per-row gradients held at once.
constexpr Index kEkfacChunk = 2048;

// A layer's input with a row of ones for the bias: rows x in' x positions.
torch::Tensor with_bias_row(const torch::Tensor& input, bool bias) {
  if (!bias) return input;
  return torch::cat({input, torch::ones({input.size(0), 1, input.size(2)}, input.options())}, 1);
}

// The pseudo-gradients of the layer outputs, rows x out x positions, one per Lambda factor column.
std::vector<std::vector<torch::Tensor>> layer_deltas(const KroneckerTrace& trace,
                                                     const std::vector<torch::Tensor>& factors) {
  std::vector<torch::Tensor> outputs;
  for (const auto& l : trace.layers) outputs.push_back(l.output);
  std::vector<std::vector<torch::Tensor>> deltas(outputs.size());
  for (const auto& u : factors) {
    auto g = torch::autograd::grad({trace.outputs}, outputs, {u}, /*retain_graph=*/true, false, /*allow_unused=*/true);
    for (size_t l = 0; l < g.size(); ++l) {
      torch::Tensor d = g[l].defined() ? g[l] : torch::zeros_like(outputs[l]);
      deltas[l].push_back(d.reshape({d.size(0), d.size(1), -1}));
    }
  }
  return deltas;
}

MatrixXd eigen_of(const torch::Tensor& t) { return to_eigen(t.contiguous()); }
torch::Tensor tensor_of(const MatrixXd& m) {
  return torch::from_blob(const_cast<double*>(m.data()), {m.cols(), m.rows()}, torch::kFloat64).t().clone();
}

// Row chunks of the training data, each with its tasks and objective weights.
template <typename Visit>
void for_each_chunk(const TorchData& data, Visit visit) {
  const Index n = data.x.size(0);
  const torch::Tensor tasks = data.rows().task_of_row;
  for (Index begin = 0; begin < n; begin += kEkfacChunk) {
    const Index rows = std::min(kEkfacChunk, n - begin);
    visit(data.x.narrow(0, begin, rows), mixed_rows(tasks.narrow(0, begin, rows)),
          data.row_weight.narrow(0, begin, rows));
  }
}
}  // namespace

void MlpEkfacSolver::factor_network(const MlpModel& model, const Dataset& train, double damping) {
  const NetworkImpl& net = model.impl();
  auto t0 = Clock::now();
  TorchData data = to_torch(train);
  // Pass 1: the Kronecker factors A = sum a a^T (patches and rows), S = sum delta delta^T.
  std::vector<torch::Tensor> input_moment, grad_moment;
  std::vector<KroneckerLayer> found;
  for_each_chunk(data, [&](const torch::Tensor& x, const RowTasks& rows, const torch::Tensor& w) {
    KroneckerTrace trace = net.kronecker_trace(x, rows);
    if (found.empty()) {
      found = trace.layers;
      input_moment.resize(found.size());
      grad_moment.resize(found.size());
    }
    auto deltas = layer_deltas(trace, output_hessian_factors(net.config.head, trace.outputs.detach(), w));
    for (size_t l = 0; l < found.size(); ++l) {
      torch::Tensor a = with_bias_row(trace.layers[l].input, found[l].bias >= 0).permute({0, 2, 1});
      a = a.reshape({-1, a.size(2)});
      torch::Tensor am = a.t().mm(a);
      input_moment[l] = input_moment[l].defined() ? input_moment[l] + am : am;
      for (const auto& d0 : deltas[l]) {
        torch::Tensor d = d0.permute({0, 2, 1}).reshape({-1, d0.size(1)});
        torch::Tensor dm = d.t().mm(d);
        grad_moment[l] = grad_moment[l].defined() ? grad_moment[l] + dm : dm;
      }
    }
  });
  timings_.factors_s = seconds_since(t0);
  if (found.empty())
    throw std::invalid_argument("EK-FAC found no nn.Linear or nn.Conv2d call on shared parameters in " +
                                net.describe() + ": use --solver cg");
  // Offsets of the shared parameters in gamma, and which ones the layers cover.
  const auto& gamma = net.shared_parameters();
  std::vector<Index> offset(gamma.size() + 1, 0);
  for (size_t i = 0; i < gamma.size(); ++i) offset[i + 1] = offset[i] + gamma[i].numel();
  std::vector<bool> covered(gamma.size(), false);
  auto t1 = Clock::now();
  for (size_t l = 0; l < found.size(); ++l) {
    Layer layer;
    layer.name = found[l].name;
    const torch::Tensor& weight = gamma[found[l].weight];
    layer.out = weight.size(0);
    layer.in = weight.numel() / layer.out;
    layer.weight_offset = offset[found[l].weight];
    covered[found[l].weight] = true;
    if (found[l].bias >= 0) {
      layer.bias_offset = offset[found[l].bias];
      covered[found[l].bias] = true;
    }
    layer.input_basis = eigenvectors(eigen_of(input_moment[l]));
    layer.grad_basis = eigenvectors(eigen_of(grad_moment[l]));
    layer.eigenvalues = MatrixXd::Zero(layer.out, layer.input_basis.rows());
    layers_.push_back(std::move(layer));
  }
  timings_.eigen_s = seconds_since(t1);
  // Pass 2: corrected eigenvalues, sum over rows of (Q_S^T G_r Q_A)^2 with the
  // row's gradient G_r = sum over positions of delta a^T.
  auto t2 = Clock::now();
  std::vector<torch::Tensor> qa, qs, corrected;
  for (const Layer& l : layers_) {
    qa.push_back(tensor_of(l.input_basis));
    qs.push_back(tensor_of(l.grad_basis));
    corrected.push_back(torch::zeros({l.out, l.input_basis.rows()}, torch::kFloat64));
  }
  for_each_chunk(data, [&](const torch::Tensor& x, const RowTasks& rows, const torch::Tensor& w) {
    KroneckerTrace trace = net.kronecker_trace(x, rows);
    auto deltas = layer_deltas(trace, output_hessian_factors(net.config.head, trace.outputs.detach(), w));
    for (size_t l = 0; l < layers_.size(); ++l) {
      torch::Tensor a = with_bias_row(trace.layers[l].input, layers_[l].bias_offset >= 0);  // rows x in' x P
      if (a.size(2) == 1) {
        // One position (Linear): G_r is the outer product of the rotated delta and input, so
        // sum_r G_r^2 = (Q_S^T d)^2^T (Q_A^T a)^2, without forming rows x out x in'.
        torch::Tensor input_sq = a.squeeze(2).mm(qa[l]).square();  // rows x in'
        for (const auto& d : deltas[l]) corrected[l] += d.squeeze(2).mm(qs[l]).square().t().mm(input_sq);
        continue;
      }
      torch::Tensor a_rotated = torch::matmul(qa[l].t(), a);  // rows x in' x P
      for (const auto& d : deltas[l]) {
        torch::Tensor g = torch::matmul(torch::matmul(qs[l].t(), d), a_rotated.transpose(1, 2));  // rows x out x in'
        corrected[l] += g.square().sum(0);
      }
    }
  });
  for (size_t l = 0; l < layers_.size(); ++l) layers_[l].eigenvalues = eigen_of(corrected[l]).array() + shift_;
  timings_.correction_s = seconds_since(t2);
  // What no layer covers keeps (wd + damping) I.
  std::vector<std::string> left_out;
  const auto names = net.shared_names();
  for (size_t i = 0; i < gamma.size(); ++i)
    if (!covered[i]) {
      uncovered_.emplace_back(offset[i], gamma[i].numel());
      left_out.push_back(names[i]);
    }
  if (!left_out.empty())
    warnings_.push_back(fmt::format("EK-FAC covers the shared parameters of {} Linear/Conv2d layers; {} ({} "
                                    "parameters) are not in such a layer and keep only weight decay + damping",
                                    layers_.size(), fmt::join(left_out, ", "),
                                    std::accumulate(uncovered_.begin(), uncovered_.end(), Index(0),
                                                    [](Index s, const auto& u) { return s + u.second; })));
  // Heads: exact Gauss-Newton blocks by products on each task's rows.
  auto t3 = Clock::now();
  for (int k = 0; k < train.num_tasks(); ++k) {
    head_factors_.emplace_back(head_block_by_products(net, data, k, CurvatureKind::GaussNewton, shift_));
    head_sizes_.push_back(model.head_size(k));
    if (head_factors_.back().info() != Eigen::Success || !head_factors_.back().isPositive())
      throw std::runtime_error(fmt::format("head block A_{} is not positive definite: add --damping", k));
  }
  timings_.factors_s += seconds_since(t3);
  (void)damping;
}

MatrixXd MlpEkfacSolver::border(int k, const MatrixXd& gamma_side) const {
  return MatrixXd::Zero(head_sizes_[k], gamma_side.cols());
}

MatrixXd MlpEkfacSolver::border_t(int, const MatrixXd& task_side) const {
  return MatrixXd::Zero(shared_size_, task_side.cols());
}

MatrixXd MlpEkfacSolver::solve_schur(const MatrixXd& rhs) const {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  MatrixXd out(rhs.rows(), rhs.cols());
  for (const auto& [offset, size] : uncovered_) out.middleRows(offset, size) = rhs.middleRows(offset, size) / shift_;
  for (Index c = 0; c < rhs.cols(); ++c) {
    for (const Layer& l : layers_) {
      // G = [W | b] (out x in+1, or out x in without a bias) from the flattened W (row-major) and b.
      MatrixXd g = MatrixXd::Zero(l.out, l.input_basis.rows());  // in (+ 1 with a bias)
      g.leftCols(l.in) = Eigen::Map<const RowMajor>(rhs.col(c).data() + l.weight_offset, l.out, l.in);
      if (l.bias_offset >= 0) g.col(l.in) = rhs.col(c).segment(l.bias_offset, l.out);
      MatrixXd rotated = l.grad_basis.transpose() * g * l.input_basis;
      MatrixXd solved = l.grad_basis * rotated.cwiseQuotient(l.eigenvalues) * l.input_basis.transpose();
      RowMajor w = solved.leftCols(l.in);
      out.col(c).segment(l.weight_offset, l.out * l.in) = Eigen::Map<const VectorXd>(w.data(), l.out * l.in);
      if (l.bias_offset >= 0) out.col(c).segment(l.bias_offset, l.out) = solved.col(l.in);
    }
  }
  return out;
}

}  // namespace mtif
