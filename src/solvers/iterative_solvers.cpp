#include "mtif/iterative_solvers.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace mtif {


IterativeSchurSolver::IterativeSchurSolver(const CurvatureOperator& curvature) : curvature_(curvature) {
  for (int k = 0; k < curvature.num_tasks(); ++k) {
    head_factors_.emplace_back(curvature.head_block(k));
    if (head_factors_.back().info() != Eigen::Success || !head_factors_.back().isPositive())
      throw std::runtime_error(fmt::format("head block A_{} is not positive definite: add --damping", k));
  }
}

namespace {
BlockVector zero_blocks(const CurvatureOperator& c) {
  BlockVector z;
  for (int k = 0; k < c.num_tasks(); ++k) z.theta.push_back(VectorXd::Zero(c.head_size(k)));
  z.gamma = VectorXd::Zero(c.shared_size());
  return z;
}
}  // namespace

MatrixXd IterativeSchurSolver::border(int k, const MatrixXd& gamma_side) const { return border_all(gamma_side)[k]; }

std::vector<MatrixXd> IterativeSchurSolver::border_all(const MatrixXd& gamma_side) const {
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

MatrixXd IterativeSchurSolver::border_t(int k, const MatrixXd& task_side) const {
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
VectorXd IterativeSchurSolver::apply_schur(const VectorXd& v) const {
  BlockVector in = zero_blocks(curvature_);
  in.gamma = v;
  BlockVector hv = curvature_.apply(in);  // theta parts: B_k v; gamma part: C v
  BlockVector t = zero_blocks(curvature_);
  for (int k = 0; k < num_tasks(); ++k) t.theta[k] = head_factors_[k].solve(hv.theta[k]);
  return hv.gamma - curvature_.apply(t).gamma;
}

CgSolver::CgSolver(const CurvatureOperator& curvature, CgOptions options)
    : IterativeSchurSolver(curvature), options_(options) {}

MatrixXd CgSolver::solve_schur(const MatrixXd& rhs) const {
  MatrixXd out(rhs.rows(), rhs.cols());
  for (Index c = 0; c < rhs.cols(); ++c) {
    const VectorXd b = rhs.col(c);
    const double b_norm = b.norm();
    VectorXd x = VectorXd::Zero(b.size()), r = b, p = r;
    double rr = r.squaredNorm();
    SolveReport report;
    report.target = column_name(c);
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
  column_names_.clear();
  return out;
}

std::string IterativeSchurSolver::solve_label(size_t i, const SolveReport& r) {
  return r.target.empty() ? fmt::format("solve {}", i) : fmt::format("solve {} (target {})", i, r.target);
}

std::vector<std::string> CgSolver::warnings() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < reports_.size(); ++i)
    if (!reports_[i].converged)
      out.push_back(fmt::format("CG {} did not converge: relative residual {:.2e} after {} iterations "
                                "(raise --damping or the iteration limit, or use --curvature ggn)",
                                solve_label(i, reports_[i]), reports_[i].relative_residual, reports_[i].iterations));
  return out;
}

namespace {
// Largest eigenvalue of N by power iteration from a seeded start (an underestimate, hence the 1.1 margin).
double estimate_largest_eigenvalue(const IterativeSchurSolver& solver, Index size, int iterations) {
  std::srand(12345);
  VectorXd v = VectorXd::Random(size).normalized();
  double lambda = 0;
  for (int i = 0; i < iterations; ++i) {
    VectorXd nv = solver.apply_schur(v);
    lambda = v.dot(nv);
    v = nv.normalized();
  }
  return lambda;
}
}  // namespace

LissaSolver::LissaSolver(const CurvatureOperator& curvature, LissaOptions options)
    : IterativeSchurSolver(curvature), options_(options), scale_(options.scale) {
  if (scale_ <= 0)
    scale_ = 1.1 * estimate_largest_eigenvalue(*this, curvature.shared_size(), options.power_iterations);
}

MatrixXd LissaSolver::solve_schur(const MatrixXd& rhs) const {
  MatrixXd out(rhs.rows(), rhs.cols());
  for (Index c = 0; c < rhs.cols(); ++c) {
    const VectorXd b = rhs.col(c);
    const double b_norm = b.norm();
    VectorXd x = VectorXd::Zero(b.size());  // the series' partial sum; the estimate is x / scale
    SolveReport report;
    report.target = column_name(c);
    report.relative_residual = 1;
    while (b_norm > 0) {
      VectorXd residual = b - apply_schur(x) / scale_;  // = next term of the series
      report.relative_residual = residual.norm() / b_norm;
      if (!std::isfinite(report.relative_residual) || report.relative_residual > 1e4) {
        report.diverged = true;
        break;
      }
      if (report.relative_residual <= options_.tolerance || report.iterations == options_.depth) break;
      x += residual;
      ++report.iterations;
    }
    report.converged = !report.diverged && report.relative_residual <= options_.tolerance;
    reports_.push_back(report);
    out.col(c) = x / scale_;
  }
  column_names_.clear();
  return out;
}

std::vector<std::string> LissaSolver::warnings() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < reports_.size(); ++i) {
    const SolveReport& r = reports_[i];
    if (r.diverged)
      out.push_back(fmt::format("LiSSA {} diverged after {} terms (relative residual {:.2e}): the scale "
                                "{:.3g} is below half the largest eigenvalue of N; raise --lissa-scale",
                                solve_label(i, r), r.iterations, r.relative_residual, scale_));
    else if (!r.converged)
      out.push_back(fmt::format("LiSSA {} did not converge: relative residual {:.2e} after {} terms "
                                "(raise --lissa-depth or --damping)",
                                solve_label(i, r), r.relative_residual, r.iterations));
  }
  return out;
}

}  // namespace mtif

namespace mtif {

BlockVector BlockHessianOperator::apply(const BlockVector& v) const {
  BlockVector out;
  out.gamma = h_.C * v.gamma + damping_ * v.gamma;
  for (int k = 0; k < num_tasks(); ++k) {
    out.theta.push_back(h_.A[k] * v.theta[k] + h_.B[k] * v.gamma + damping_ * v.theta[k]);
    out.gamma.noalias() += h_.B[k].transpose() * v.theta[k];
  }
  return out;
}

MatrixXd BlockHessianOperator::head_block(int k) const {
  MatrixXd a = h_.A[k];
  a.diagonal().array() += damping_;
  return a;
}

}  // namespace mtif
