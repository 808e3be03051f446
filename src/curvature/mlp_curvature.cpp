#include "mtif/mlp_curvature.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "../models/mlp_impl.hpp"

namespace mtif {

CurvatureKind parse_curvature(const std::string& name) {
  if (name == "hessian") return CurvatureKind::Hessian;
  if (name == "ggn") return CurvatureKind::GaussNewton;
  throw std::invalid_argument("unknown curvature '" + name + "' (expected hessian or ggn)");
}

namespace {
const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

torch::Tensor dot_all(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  torch::Tensor s = torch::zeros({}, kDouble);
  for (size_t i = 0; i < a.size(); ++i) s = s + (a[i] * b[i]).sum();
  return s;
}
}  // namespace

// Graphs built once at construction and reused by every product
// (retain_graph), so a product costs one or two backward passes, no forward.
struct MlpCurvatureState {
  MlpModel model;  // a private copy: its tensors carry the graphs
  CurvatureKind kind;
  double damping;
  TorchData data;
  std::vector<torch::Tensor> params;
  torch::Tensor z, f;                      // trunk features, outputs (with graph)
  torch::Tensor objective_gradient;        // Hessian mode: flattened grad, create_graph
  std::vector<torch::Tensor> grads;
  torch::Tensor probe;                     // u: J^T u graph for Jacobian-vector products
  std::vector<torch::Tensor> jt_probe;     // J^T u (create_graph)
  MatrixXd loss_gradient;                  // dl/df, n x out
  torch::Tensor lambda;                    // loss Hessian wrt f per row, times sigma/n_k: n x out x out
  MatrixXd lambda_flat;                    // the same as n x (out*out), row-major entries
};

MlpCurvature::MlpCurvature(const MlpModel& model, const Dataset& train, CurvatureKind kind, double damping)
    : state_(std::make_unique<MlpCurvatureState>()) {
  auto& s = *state_;
  s.model = model;
  s.kind = kind;
  s.damping = damping;
  s.data = to_torch(train);
  MlpImpl& net = s.model.impl();
  s.params = net.all_parameters();
  s.z = net.features(s.data.x);
  s.f = net.outputs(s.z, s.data.task_begin);
  torch::Tensor objective = (net.row_loss(s.f, s.data.y) * s.data.row_weight).sum() + net.penalty();
  if (kind == CurvatureKind::Hessian) s.grads = torch::autograd::grad({objective}, s.params, {}, true, true);
  s.probe = torch::zeros_like(s.f).requires_grad_();
  s.jt_probe = torch::autograd::grad({s.f}, s.params, {s.probe}, true, true);
  // dl/df and the weighted output Hessians Lambda_i, from the outputs alone.
  torch::Tensor f = s.f.detach();
  torch::Tensor w = s.data.row_weight;
  const Index n = f.size(0), out = f.size(1);
  torch::Tensor grad_f, lam;
  switch (net.config.head) {
    case HeadKind::Regression:
      grad_f = f - s.data.y.unsqueeze(1);
      lam = torch::ones({n, 1, 1}, kDouble);
      break;
    case HeadKind::Binary: {
      torch::Tensor p = torch::sigmoid(f);
      grad_f = p - s.data.y.unsqueeze(1);
      lam = (p * (1 - p)).unsqueeze(2);
      break;
    }
    case HeadKind::Softmax: {
      torch::Tensor p = torch::softmax(f, 1);
      grad_f = p - torch::one_hot(s.data.y.to(torch::kLong), out).to(torch::kFloat64);
      lam = torch::diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1);
      break;
    }
  }
  s.loss_gradient = to_eigen(grad_f);
  s.lambda = lam * w.view({n, 1, 1});
  s.lambda_flat = to_eigen(s.lambda.reshape({n, out * out}));
}

MlpCurvature::~MlpCurvature() = default;

int MlpCurvature::num_tasks() const { return state_->model.num_tasks(); }
Index MlpCurvature::shared_size() const { return state_->model.shared_size(); }
Index MlpCurvature::head_size(int k) const { return state_->model.head_size(k); }
const MatrixXd& MlpCurvature::output_loss_gradient() const { return state_->loss_gradient; }

MatrixXd MlpCurvature::output_jvp(const BlockVector& dir) const {
  auto& s = *state_;
  auto d = from_blocks(s.model.impl(), dir);
  torch::Tensor jv = torch::autograd::grad({dot_all(s.jt_probe, d)}, {s.probe}, {}, true)[0];
  return to_eigen(jv);
}

BlockVector MlpCurvature::apply(const BlockVector& v) const {
  auto& s = *state_;
  ++products_;
  auto vt = from_blocks(s.model.impl(), v);
  std::vector<torch::Tensor> hv;
  if (s.kind == CurvatureKind::Hessian) {
    hv = torch::autograd::grad({dot_all(s.grads, vt)}, s.params, {}, true);
  } else {
    // G v = J^T Lambda J v + wd v: J v by the probe trick, then one backward.
    torch::Tensor jv = torch::autograd::grad({dot_all(s.jt_probe, vt)}, {s.probe}, {}, true)[0];
    torch::Tensor ljv = torch::bmm(s.lambda, jv.unsqueeze(2)).squeeze(2);
    hv = torch::autograd::grad({s.f}, s.params, {ljv}, true);
    const double wd = s.model.config().weight_decay;
    for (size_t i = 0; i < hv.size(); ++i) hv[i] = hv[i] + wd * vt[i];
  }
  BlockVector out = to_blocks(s.model.impl(), hv);
  out.gamma += s.damping * v.gamma;
  for (size_t k = 0; k < out.theta.size(); ++k) out.theta[k] += s.damping * v.theta[k];
  return out;
}

MatrixXd MlpCurvature::head_block(int k) const {
  auto& s = *state_;
  const Index begin = s.data.task_begin[k], n_k = s.data.task_begin[k + 1] - begin;
  return linear_head_block(to_eigen(s.z.narrow(0, begin, n_k)), s.lambda_flat.middleRows(begin, n_k), s.f.size(1),
                           s.model.config().weight_decay + s.damping);
}

MatrixXd linear_head_block(const MatrixXd& z, const MatrixXd& lambda_flat, Index out, double shift) {
  const Index n_k = z.rows(), h = z.cols(), d_k = (h + 1) * out;
  MatrixXd zt(n_k, h + 1);  // [z, 1]
  zt << z, VectorXd::Ones(n_k);
  // theta_k = [W (out x h, row-major), b (out)]: index of (output c, input j), j = h for the bias.
  auto index = [&](Index c, Index j) { return j < h ? c * h + j : out * h + c; };
  MatrixXd A = MatrixXd::Zero(d_k, d_k);
  for (Index c = 0; c < out; ++c)
    for (Index c2 = 0; c2 < out; ++c2) {
      MatrixXd block = zt.transpose() * lambda_flat.col(c * out + c2).asDiagonal() * zt;
      for (Index j = 0; j <= h; ++j)
        for (Index j2 = 0; j2 <= h; ++j2) A(index(c, j), index(c2, j2)) = block(j, j2);
    }
  A.diagonal().array() += shift;
  return A;
}

BlockHessian exact_block_hessian(const MlpCurvature& curvature) {
  const int K = curvature.num_tasks();
  const Index p = curvature.shared_size();
  BlockVector zero;
  for (int k = 0; k < K; ++k) zero.theta.push_back(VectorXd::Zero(curvature.head_size(k)));
  zero.gamma = VectorXd::Zero(p);
  BlockHessian h;
  h.C.resize(p, p);
  h.B.assign(K, MatrixXd());
  h.A.assign(K, MatrixXd());
  h.C_task.assign(K, MatrixXd::Zero(p, p));  // not separable by products; unused by the solver
  for (int k = 0; k < K; ++k) {
    h.A[k].resize(curvature.head_size(k), curvature.head_size(k));
    h.B[k].resize(curvature.head_size(k), p);
    for (Index j = 0; j < curvature.head_size(k); ++j) {
      BlockVector e = zero;
      e.theta[k](j) = 1;
      h.A[k].col(j) = curvature.apply(e).theta[k];
    }
  }
  for (Index j = 0; j < p; ++j) {
    BlockVector e = zero;
    e.gamma(j) = 1;
    BlockVector col = curvature.apply(e);
    h.C.col(j) = col.gamma;
    for (int k = 0; k < K; ++k) h.B[k].col(j) = col.theta[k];
  }
  h.C = 0.5 * (h.C + h.C.transpose());
  for (auto& a : h.A) a = 0.5 * (a + a.transpose());
  return h;
}

}  // namespace mtif
