#include "mtif/block_schur_solver.hpp"

#include <Eigen/Eigenvalues>
#include <fmt/format.h>

#include <stdexcept>

namespace mtif {

bool is_positive_definite(const Eigen::LDLT<MatrixXd>& f) {
  return f.info() == Eigen::Success && f.isPositive() && (f.vectorD().array() > 0).all();
}

namespace {

// LDLT with a check that the matrix is numerically positive definite.
Eigen::LDLT<MatrixXd> factor_spd(const MatrixXd& m, const std::string& what) {
  Eigen::LDLT<MatrixXd> f(m);
  if (!is_positive_definite(f))
    throw std::runtime_error(fmt::format(
        "{} is not positive definite: the fit is not a strict minimum (raise --lambda-task/--lambda-shared)", what));
  return f;
}

std::string ill_conditioned(const std::string& what, double rcond) {
  return fmt::format(
      "{} is ill-conditioned (condition estimate {:.3g}): scores may lose accuracy; remove collinear features or "
      "raise the lambdas",
      what, 1.0 / std::max(rcond, 1e-300));
}

}  // namespace

TaskBlockFactor::TaskBlockFactor(MatrixXd eigenvectors, VectorXd eigenvalues, double ridge)
    : eigenvectors_(std::move(eigenvectors)) {
  const VectorXd shifted = (eigenvalues.array().max(0.0) + ridge).matrix();
  inverse_eigenvalues_ = shifted.cwiseInverse();
  rcond_ = shifted.minCoeff() / shifted.maxCoeff();
}

MatrixXd TaskBlockFactor::solve(const MatrixXd& rhs) const {
  if (!spectral()) return ldlt_.solve(rhs);
  return eigenvectors_ * (inverse_eigenvalues_.asDiagonal() * (eigenvectors_.transpose() * rhs));
}

MatrixXd BlockSchurSolver::partial_out(int k, const MatrixXd& task_side, const MatrixXd& gamma_side) const {
  if (hessian_.task_ridge <= 0) return BlockInverse::partial_out(k, task_side, gamma_side);
  return (gamma_side - task_side) + hessian_.task_ridge * task_factors_[k].solve(task_side);
}

namespace {
// r B (B + r I)^-1 = V diag(r g / (g + r)) V^T for B = V diag(g) V^T, g clamped at 0.
MatrixXd ridge_schur_part(const Eigen::SelfAdjointEigenSolver<MatrixXd>& eig, double ridge) {
  const VectorXd g = eig.eigenvalues().cwiseMax(0.0);
  const VectorXd ratio = (ridge * g.array() / (g.array() + ridge)).matrix();
  return eig.eigenvectors() * ratio.asDiagonal() * eig.eigenvectors().transpose();
}
}  // namespace

// Task k's part of the Schur complement, C_task - B^T A^-1 B. With the ridge
// structure it is r B (B + r I)^-1: positive semidefinite by construction, so N
// keeps at least the shared penalty even when |B| is 1e12 times it and the
// subtraction would leave rounding of that size (sweep seed 100330: N came out
// indefinite).
MatrixXd BlockSchurSolver::task_schur_part(int k) const {
  const BlockHessian& h = hessian_;
  if (h.task_ridge <= 0) return h.C_task[k] - h.B[k].transpose() * task_factors_[k].solve(h.B[k]);
  return ridge_schur_part(Eigen::SelfAdjointEigenSolver<MatrixXd>(h.B[k]), h.task_ridge);
}

BlockSchurSolver::BlockSchurSolver(BlockHessian hessian, std::vector<std::string> task_names)
    : hessian_(std::move(hessian)) {
  const int K = hessian_.num_tasks();
  const double ridge = hessian_.task_ridge;
  auto label = [&](int k) {
    return k < static_cast<int>(task_names.size()) ? fmt::format("A_{} (task '{}')", k, task_names[k])
                                                   : fmt::format("A_{}", k);
  };
  // N = C - sum_k B_k^T A_k^-1 B_k; with the ridge structure, the shared penalty plus
  // each task's semidefinite part, so that C's data terms are never subtracted.
  const Eigen::Index p = hessian_.C.rows();
  schur_ = ridge > 0 ? MatrixXd(hessian_.shared_ridge * MatrixXd::Identity(p, p)) : hessian_.C;
  task_factors_.reserve(K);
  condition_.task_rcond.resize(K);
  for (int k = 0; k < K; ++k) {
    if (ridge > 0) {
      Eigen::SelfAdjointEigenSolver<MatrixXd> eig(hessian_.B[k]);
      Eigen::LDLT<MatrixXd> ldlt(hessian_.A[k]);
      if (is_positive_definite(ldlt) && ldlt.rcond() >= kWarnRcond) task_factors_.emplace_back(std::move(ldlt));
      else task_factors_.emplace_back(eig.eigenvectors(), eig.eigenvalues(), ridge);
      schur_ += ridge_schur_part(eig, ridge);
    } else {
      task_factors_.emplace_back(factor_spd(hessian_.A[k], "block " + label(k)));
      schur_.noalias() -= hessian_.B[k].transpose() * task_factors_[k].solve(hessian_.B[k]);  // C_task is in C
    }
    condition_.task_rcond[k] = task_factors_[k].rcond();
    if (condition_.task_rcond[k] < kWarnRcond) warnings_.push_back(ill_conditioned("block " + label(k), condition_.task_rcond[k]));
  }
  schur_ = 0.5 * (schur_ + schur_.transpose());  // symmetric up to rounding
  schur_factor_ = factor_spd(schur_, "the Schur complement N of the shared block");
  condition_.schur_rcond = schur_factor_.rcond();
  if (condition_.schur_rcond < kWarnRcond)
    warnings_.push_back(ill_conditioned("the Schur complement N of the shared block", condition_.schur_rcond));
}

}  // namespace mtif
