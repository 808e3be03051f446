#include "mtif/mlp_ekfac.hpp"

#include <fmt/format.h>

#include <chrono>
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

MlpEkfacSolver::MlpEkfacSolver(const MlpModel& model, const Dataset& train, double damping) {
  const MlpImpl& net = require_mlp(model.impl(), "EK-FAC");
  const double shift = net.config.weight_decay + damping;
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
    layer.in = a.cols() - 1;
    layer.out = deltas[l][0].cols();
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

MatrixXd MlpEkfacSolver::border(int k, const MatrixXd& gamma_side) const {
  return MatrixXd::Zero(head_sizes_[k], gamma_side.cols());
}

MatrixXd MlpEkfacSolver::border_t(int, const MatrixXd& task_side) const {
  Index p = 0;
  for (const auto& l : layers_) p += l.out * (l.in + 1);
  return MatrixXd::Zero(p, task_side.cols());
}

MatrixXd MlpEkfacSolver::solve_schur(const MatrixXd& rhs) const {
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  MatrixXd out(rhs.rows(), rhs.cols());
  for (Index c = 0; c < rhs.cols(); ++c) {
    Index offset = 0;
    for (const Layer& l : layers_) {
      // G = [W | b] (out x in+1) from the flattened W (row-major) and b.
      MatrixXd g(l.out, l.in + 1);
      g.leftCols(l.in) = Eigen::Map<const RowMajor>(rhs.col(c).data() + offset, l.out, l.in);
      g.col(l.in) = rhs.col(c).segment(offset + l.out * l.in, l.out);
      MatrixXd rotated = l.grad_basis.transpose() * g * l.input_basis;
      MatrixXd solved = l.grad_basis * rotated.cwiseQuotient(l.eigenvalues) * l.input_basis.transpose();
      RowMajor w = solved.leftCols(l.in);
      out.col(c).segment(offset, l.out * l.in) = Eigen::Map<const VectorXd>(w.data(), l.out * l.in);
      out.col(c).segment(offset + l.out * l.in, l.out) = solved.col(l.in);
      offset += l.out * (l.in + 1);
    }
  }
  return out;
}

}  // namespace mtif
