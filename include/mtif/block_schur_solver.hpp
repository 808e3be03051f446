// Exact "apply H^-1" for a block-arrowhead Hessian whose blocks fit in memory:
// LDLT of each A_k and of the Schur complement N. Cost O(sum d_k^3 + p^3),
// never O((sum d_k + p)^3).
#pragma once

#include <Eigen/Cholesky>

#include "mtif/block_inverse.hpp"

namespace mtif {

// An LDLT factorisation that succeeded with positive pivots only: the matrix is
// numerically positive definite.
bool is_positive_definite(const Eigen::LDLT<MatrixXd>& f);

// A_k^-1 for one task block: LDLT, or with BlockHessian::task_ridge and a block
// LDLT cannot take (numerically indefinite or rcond below kWarnRcond), the
// spectral form V diag(1 / (max(g, 0) + ridge)) V^T of A_k = B_k + ridge I, which
// is positive definite by construction (sweep seed 102718: columns at 1e6 beside
// a task ridge of 7e-7 left A_k's LDLT with negative pivots).
class TaskBlockFactor {
 public:
  explicit TaskBlockFactor(Eigen::LDLT<MatrixXd> ldlt) : ldlt_(std::move(ldlt)) {}
  TaskBlockFactor(MatrixXd eigenvectors, VectorXd eigenvalues, double ridge);
  MatrixXd solve(const MatrixXd& rhs) const;
  double rcond() const { return rcond_ >= 0 ? rcond_ : ldlt_.rcond(); }
  bool spectral() const { return eigenvectors_.size() > 0; }

 private:
  Eigen::LDLT<MatrixXd> ldlt_;
  MatrixXd eigenvectors_;
  VectorXd inverse_eigenvalues_;
  double rcond_ = -1;
};

struct ConditionReport {
  std::vector<double> task_rcond;  // reciprocal condition estimate of each A_k
  double schur_rcond = 1.0;        // of N
};

class BlockSchurSolver : public BlockInverse {
 public:
  // `task_names` only labels the warnings. Throws std::runtime_error when a
  // block is not positive definite (the fit is not a strict minimum).
  BlockSchurSolver(BlockHessian hessian, std::vector<std::string> task_names = {});

  int num_tasks() const override { return hessian_.num_tasks(); }
  MatrixXd solve_task(int k, const MatrixXd& rhs) const override { return task_factors_[k].solve(rhs); }
  MatrixXd border(int k, const MatrixXd& gamma_side) const override { return hessian_.B[k] * gamma_side; }
  MatrixXd border_t(int k, const MatrixXd& task_side) const override {
    return hessian_.B[k].transpose() * task_side;
  }
  MatrixXd solve_schur(const MatrixXd& rhs) const override { return schur_factor_.solve(rhs); }
  // With BlockHessian::task_ridge: (gamma_side - task_side) + ridge A_k^-1 task_side.
  MatrixXd partial_out(int k, const MatrixXd& task_side, const MatrixXd& gamma_side) const override;
  std::vector<std::string> warnings() const override { return warnings_; }

  const BlockHessian& hessian() const { return hessian_; }
  // Task k's part of N, C_task[k] - B_k^T A_k^-1 B_k (semidefinite by construction with
  // BlockHessian::task_ridge). Computed on each call: O(d_k^3 + p^3), not stored.
  MatrixXd task_schur_part(int k) const;
  const MatrixXd& schur() const { return schur_; }
  const ConditionReport& conditioning() const { return condition_; }

  // Reciprocal condition below which a block is reported as ill-conditioned
  // (condition estimate above 1e12: fewer than 4 of double's 16 digits are safe).
  static constexpr double kWarnRcond = 1e-12;

 private:
  BlockHessian hessian_;
  std::vector<TaskBlockFactor> task_factors_;
  MatrixXd schur_;
  Eigen::LDLT<MatrixXd> schur_factor_;
  ConditionReport condition_;
  std::vector<std::string> warnings_;
};

}  // namespace mtif
