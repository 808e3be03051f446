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

MatrixXd to_eigen(const torch::Tensor& t) {  // 1-D or 2-D double tensor
  torch::Tensor c = t.detach().contiguous();
  Index rows = c.size(0), cols = c.dim() > 1 ? c.size(1) : 1;
  Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(c.data_ptr<double>(),
                                                                                              rows, cols);
  return m;
}

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
  MatrixXd z = to_eigen(s.z.narrow(0, begin, n_k));
  const Index h = z.cols(), out = s.f.size(1), d_k = (h + 1) * out;
  MatrixXd zt(n_k, h + 1);  // [z, 1]
  zt << z, VectorXd::Ones(n_k);
  // theta_k = [W (out x h, row-major), b (out)]: index of (output c, input j), j = h for the bias.
  auto index = [&](Index c, Index j) { return j < h ? c * h + j : out * h + c; };
  MatrixXd A = MatrixXd::Zero(d_k, d_k);
  for (Index c = 0; c < out; ++c)
    for (Index c2 = 0; c2 < out; ++c2) {
      VectorXd lam = s.lambda_flat.block(begin, c * out + c2, n_k, 1);
      MatrixXd block = zt.transpose() * lam.asDiagonal() * zt;
      for (Index j = 0; j <= h; ++j)
        for (Index j2 = 0; j2 <= h; ++j2) A(index(c, j), index(c2, j2)) = block(j, j2);
    }
  A.diagonal().array() += s.model.config().weight_decay + s.damping;
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

// ---- CG solver ----

MlpCgSolver::MlpCgSolver(const MlpCurvature& curvature, CgOptions options)
    : curvature_(curvature), options_(options) {
  for (int k = 0; k < curvature.num_tasks(); ++k) {
    head_factors_.emplace_back(curvature.head_block(k));
    if (head_factors_.back().info() != Eigen::Success || !head_factors_.back().isPositive())
      throw std::runtime_error(fmt::format("head block A_{} is not positive definite: add --damping", k));
  }
}

namespace {
BlockVector zero_blocks(const MlpCurvature& c) {
  BlockVector z;
  for (int k = 0; k < c.num_tasks(); ++k) z.theta.push_back(VectorXd::Zero(c.head_size(k)));
  z.gamma = VectorXd::Zero(c.shared_size());
  return z;
}
}  // namespace

MatrixXd MlpCgSolver::border(int k, const MatrixXd& gamma_side) const {
  MatrixXd out(curvature_.head_size(k), gamma_side.cols());
  for (Index c = 0; c < gamma_side.cols(); ++c) {
    BlockVector v = zero_blocks(curvature_);
    v.gamma = gamma_side.col(c);
    out.col(c) = curvature_.apply(v).theta[k];
  }
  return out;
}

std::vector<MatrixXd> MlpCgSolver::border_all(const MatrixXd& gamma_side) const {
  std::vector<MatrixXd> out;
  for (int k = 0; k < num_tasks(); ++k) out.emplace_back(curvature_.head_size(k), gamma_side.cols());
  for (Index c = 0; c < gamma_side.cols(); ++c) {
    BlockVector v = zero_blocks(curvature_);
    v.gamma = gamma_side.col(c);
    BlockVector hv = curvature_.apply(v);  // every B_k v from one product
    for (int k = 0; k < num_tasks(); ++k) out[k].col(c) = hv.theta[k];
  }
  return out;
}

MatrixXd MlpCgSolver::border_t(int k, const MatrixXd& task_side) const {
  MatrixXd out(curvature_.shared_size(), task_side.cols());
  for (Index c = 0; c < task_side.cols(); ++c) {
    BlockVector v = zero_blocks(curvature_);
    v.theta[k] = task_side.col(c);
    // The damping term lives on the diagonal only, so the gamma part is B_k^T t exactly.
    out.col(c) = curvature_.apply(v).gamma;
  }
  return out;
}

// N v = C v - sum_k B_k^T A_k^-1 B_k v, with two curvature products.
VectorXd MlpCgSolver::apply_schur(const VectorXd& v) const {
  BlockVector in = zero_blocks(curvature_);
  in.gamma = v;
  BlockVector hv = curvature_.apply(in);  // theta parts: B_k v; gamma part: C v
  BlockVector t = zero_blocks(curvature_);
  for (int k = 0; k < num_tasks(); ++k) t.theta[k] = head_factors_[k].solve(hv.theta[k]);
  return hv.gamma - curvature_.apply(t).gamma;
}

MatrixXd MlpCgSolver::solve_schur(const MatrixXd& rhs) const {
  MatrixXd out(rhs.rows(), rhs.cols());
  for (Index c = 0; c < rhs.cols(); ++c) {
    const VectorXd b = rhs.col(c);
    const double b_norm = b.norm();
    VectorXd x = VectorXd::Zero(b.size()), r = b, p = r;
    double rr = r.squaredNorm();
    CgReport report;
    for (; report.iterations < options_.max_iterations && std::sqrt(rr) > options_.tolerance * b_norm;
         ++report.iterations) {
      VectorXd np = apply_schur(p);
      double curvature_along = p.dot(np);
      if (!(curvature_along > 0)) break;  // N is not positive definite along p: stop, report
      double alpha = rr / curvature_along;
      x += alpha * p;
      r -= alpha * np;
      double rr_new = r.squaredNorm();
      p = r + (rr_new / rr) * p;
      rr = rr_new;
    }
    // The true residual, not the recursive one, is what the user is told.
    report.relative_residual = b_norm > 0 ? (b - apply_schur(x)).norm() / b_norm : 0.0;
    report.converged = report.relative_residual <= std::max(options_.tolerance * 10, 1e-12);
    reports_.push_back(report);
    out.col(c) = x;
  }
  return out;
}

std::vector<std::string> MlpCgSolver::warnings() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < reports_.size(); ++i)
    if (!reports_[i].converged)
      out.push_back(fmt::format("CG solve {} did not converge: relative residual {:.2e} after {} iterations "
                                "(raise --damping or the iteration limit, or use --curvature ggn)",
                                i, reports_[i].relative_residual, reports_[i].iterations));
  return out;
}

}  // namespace mtif
