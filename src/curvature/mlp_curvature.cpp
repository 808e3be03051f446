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

// dl/df and the weighted output Hessians Lambda_r = (sigma_r/n_k) d2l/df2, from the outputs alone.
struct OutputCurvature {
  torch::Tensor loss_gradient;  // n x out
  torch::Tensor lambda;         // n x out x out
};

OutputCurvature output_curvature(HeadKind head, const torch::Tensor& outputs, const TorchData& data) {
  torch::Tensor f = outputs.detach();
  const Index n = f.size(0), out = f.size(1);
  OutputCurvature c;
  torch::Tensor lam;
  switch (head) {
    case HeadKind::Regression:
      c.loss_gradient = f - data.y.unsqueeze(1);
      lam = torch::ones({n, 1, 1}, kDouble);
      break;
    case HeadKind::Binary: {
      torch::Tensor p = torch::sigmoid(f);
      c.loss_gradient = p - data.y.unsqueeze(1);
      lam = (p * (1 - p)).unsqueeze(2);
      break;
    }
    case HeadKind::Softmax: {
      torch::Tensor p = torch::softmax(f, 1);
      c.loss_gradient = p - torch::one_hot(data.y.to(torch::kLong), out).to(torch::kFloat64);
      lam = torch::diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1);
      break;
    }
  }
  c.lambda = lam * data.row_weight.view({n, 1, 1});
  return c;
}

// Curvature-vector products on one set of rows, with graphs built once and
// reused by every product (retain_graph): a product costs one or two
// backward passes, no forward.
struct CurvatureGraph {
  CurvatureKind kind;
  std::vector<torch::Tensor> params;  // differentiated parameters
  torch::Tensor f;                    // outputs (with graph)
  std::vector<torch::Tensor> grads;   // Hessian mode: objective gradient, create_graph
  torch::Tensor probe;                // u: J^T u graph for Jacobian-vector products
  std::vector<torch::Tensor> jt_probe;
  torch::Tensor lambda;               // n x out x out
  std::vector<torch::Tensor> coupling_grads;  // gradient of NetworkImpl::coupling(), create_graph

  CurvatureGraph(const NetworkImpl& net, const TorchData& data, torch::Tensor outputs,
                 std::vector<torch::Tensor> wrt, CurvatureKind curvature)
      : kind(curvature), params(std::move(wrt)), f(std::move(outputs)) {
    if (kind == CurvatureKind::Hessian) {
      torch::Tensor objective = (net.row_loss(f, data.y) * data.row_weight).sum();
      grads = gradient_or_zero(objective, params, true, true);
    }
    probe = torch::zeros_like(f).requires_grad_();
    jt_probe = gradient_or_zero((f * probe).sum(), params, true, true);
    lambda = output_curvature(net.config.head, f, data).lambda;
    torch::Tensor c = net.coupling();
    if (c.defined() && c.requires_grad()) coupling_grads = gradient_or_zero(c, params, true, true);
  }

  torch::Tensor jvp(const std::vector<torch::Tensor>& v) const {
    return gradient_or_zero(dot_all(jt_probe, v), {probe})[0];
  }

  // H v or G v without weight decay and damping (the coupling penalty's
  // curvature is exact in both: it is quadratic).
  std::vector<torch::Tensor> product(const std::vector<torch::Tensor>& v) const {
    std::vector<torch::Tensor> out = loss_product(v);
    if (!coupling_grads.empty()) {
      auto c = gradient_or_zero(dot_all(coupling_grads, v), params);
      for (size_t i = 0; i < out.size(); ++i) out[i] = out[i] + c[i];
    }
    return out;
  }

  std::vector<torch::Tensor> loss_product(const std::vector<torch::Tensor>& v) const {
    if (kind == CurvatureKind::Hessian) return gradient_or_zero(dot_all(grads, v), params);
    // G v = J^T Lambda J v: J v by the probe trick, then one backward.
    torch::Tensor ljv = torch::bmm(lambda, jvp(v).unsqueeze(2)).squeeze(2);
    return gradient_or_zero((f * ljv).sum(), params);
  }
};

}  // namespace

// A_k of a network whose head is not known to be linear: d_k products on
// task k's rows only (theta_k reaches no other row), weight decay and damping
// added as the shift.
MatrixXd head_block_by_products(const NetworkImpl& net, const TorchData& data, int k, CurvatureKind kind,
                                double shift) {
  const auto& theta = net.task_parameters(k);
  Index d_k = 0;
  for (const auto& t : theta) d_k += t.numel();
  MatrixXd A = MatrixXd::Zero(d_k, d_k);
  TorchData rows = task_rows(data, k);
  if (rows.x.size(0) > 0) {
    CurvatureGraph graph(net, rows, net.outputs(rows.x, rows.rows()), theta, kind);
    for (Index j = 0; j < d_k; ++j) {
      VectorXd e = VectorXd::Unit(d_k, j);
      A.col(j) = flatten(graph.product(unflatten(e, theta)));
    }
    A = 0.5 * (A + A.transpose());
  }
  A.diagonal().array() += shift;
  return A;
}

struct MlpCurvatureState {
  MlpModel model;  // a private copy: its tensors carry the graphs
  double damping;
  TorchData data;
  std::unique_ptr<CurvatureGraph> graph;
  torch::Tensor z;          // built-in MLP: trunk features (its heads are linear in them)
  MatrixXd loss_gradient;   // dl/df, n x out
  MatrixXd lambda_flat;     // Lambda as n x (out*out), row-major entries
};

MlpCurvature::MlpCurvature(const MlpModel& model, const Dataset& train, CurvatureKind kind, double damping)
    : state_(std::make_unique<MlpCurvatureState>()) {
  auto& s = *state_;
  s.model = model;
  s.damping = damping;
  s.data = to_torch(train);
  const NetworkImpl& net = s.model.impl();
  torch::Tensor f;
  if (const MlpImpl* mlp = as_mlp(net)) {
    s.z = mlp->features(s.data.x);
    f = mlp->head_outputs(s.z, s.data.rows());
  } else {
    f = net.outputs(s.data.x, s.data.rows());
  }
  s.graph = std::make_unique<CurvatureGraph>(net, s.data, f, net.all_parameters(), kind);
  const Index n = f.size(0), out = f.size(1);
  s.loss_gradient = to_eigen(output_curvature(net.config.head, f, s.data).loss_gradient);
  s.lambda_flat = to_eigen(s.graph->lambda.reshape({n, out * out}));
}

MlpCurvature::~MlpCurvature() = default;

int MlpCurvature::num_tasks() const { return state_->model.num_tasks(); }
Index MlpCurvature::shared_size() const { return state_->model.shared_size(); }
Index MlpCurvature::head_size(int k) const { return state_->model.head_size(k); }
const MatrixXd& MlpCurvature::output_loss_gradient() const { return state_->loss_gradient; }

MatrixXd MlpCurvature::output_jvp(const BlockVector& dir) const {
  auto& s = *state_;
  return to_eigen(s.graph->jvp(from_blocks(s.model.impl(), dir)));
}

BlockVector MlpCurvature::apply(const BlockVector& v) const {
  auto& s = *state_;
  ++products_;
  auto vt = from_blocks(s.model.impl(), v);
  std::vector<torch::Tensor> hv = s.graph->product(vt);
  BlockVector out = to_blocks(s.model.impl(), hv);
  // + (wd + damping) v: the penalty's curvature, exact in both modes.
  const double shift = s.model.config().weight_decay + s.damping;
  out.gamma += shift * v.gamma;
  for (size_t k = 0; k < out.theta.size(); ++k) out.theta[k] += shift * v.theta[k];
  return out;
}

MatrixXd MlpCurvature::head_block(int k) const {
  auto& s = *state_;
  const double shift = s.model.config().weight_decay + s.damping;
  if (!s.z.defined()) return head_block_by_products(s.model.impl(), s.data, k, s.graph->kind, shift);
  const Index begin = s.data.task_begin[k], n_k = s.data.task_begin[k + 1] - begin;
  return linear_head_block(to_eigen(s.z.narrow(0, begin, n_k)), s.lambda_flat.middleRows(begin, n_k),
                           s.graph->f.size(1), shift);
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
