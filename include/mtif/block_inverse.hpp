// The block-arrowhead Hessian of mtif-math.md section 2 and the one
// "apply H^-1" interface that every solver implements.
//
// Parameters come in blocks: theta_k (task k's own, d_k entries) and gamma
// (shared, p entries). A solver never forms the full Hessian: it offers solves
// with each small A_k, products with the borders B_k, and solves with the Schur
// complement N = C - sum_k B_k^T A_k^-1 B_k. Like Spectra's MatOp, callers only
// see these operations, so exact, iterative and distributed solvers are
// interchangeable. Matrix arguments hold one vector per column (multi-RHS).
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <string>
#include <vector>

namespace mtif {

using Eigen::MatrixXd;
using Eigen::VectorXd;

struct BlockVector {
  std::vector<VectorXd> theta;  // one per task
  VectorXd gamma;

  // Largest |entry| over all blocks (0 when there is none), e.g. a gradient's.
  double max_abs() const {
    double out = gamma.size() ? gamma.cwiseAbs().maxCoeff() : 0.0;
    for (const auto& t : theta)
      if (t.size()) out = std::max(out, t.cwiseAbs().maxCoeff());
    return out;
  }
};

struct BlockHessian {
  std::vector<MatrixXd> A;       // d_k x d_k
  std::vector<MatrixXd> B;       // d_k x p  (d2 L_k / d theta_k d gamma)
  std::vector<MatrixXd> C_task;  // p x p, task k's part of C (no shared penalty)
  MatrixXd C;                    // p x p, sum_k C_task[k] + d2 Omega_0
  // > 0 when A_k = B_k + task_ridge I and C_task[k] = B_k, B_k square and
  // symmetric (the linear model: task and shared parameters see the same
  // features, mtif-math.md 2). Then I - B_k^T A_k^-1 = task_ridge A_k^-1 and
  // C_task[k] - B_k^T A_k^-1 B_k = task_ridge B_k A_k^-1, which a solver can
  // use instead of subtracting two nearly equal matrices (they agree to about
  // task_ridge / |B_k|, so the difference keeps few digits when the data
  // outweighs the task penalty: random sweep seeds 100132, 100151, 100330).
  double task_ridge = 0;
  double shared_ridge = 0;  // with task_ridge: C = sum_k C_task[k] + shared_ridge I
  int num_tasks() const { return static_cast<int>(A.size()); }
};

class BlockInverse {
 public:
  virtual ~BlockInverse() = default;
  virtual int num_tasks() const = 0;
  virtual MatrixXd solve_task(int k, const MatrixXd& rhs) const = 0;         // A_k^-1 rhs
  virtual MatrixXd border(int k, const MatrixXd& gamma_side) const = 0;      // B_k v
  virtual MatrixXd border_t(int k, const MatrixXd& task_side) const = 0;     // B_k^T t
  virtual MatrixXd solve_schur(const MatrixXd& rhs) const = 0;               // N^-1 rhs
  // B_k v for every task at once (an iterative solver gets them from one
  // curvature product per column).
  virtual std::vector<MatrixXd> border_all(const MatrixXd& gamma_side) const;
  // Human-readable warnings about conditioning or convergence (empty if none).
  virtual std::vector<std::string> warnings() const { return {}; }
  // Names of the columns of the next solve_schur call (the targets, say), so
  // that a solver which can stop short of its tolerance names what it failed.
  virtual void name_next_columns(std::vector<std::string> /*names*/) const {}

  // q = a_gamma - B_k^T A_k^-1 a_theta: the part of a vector that acts on the
  // shared parameters once task k's own block is partialled out.
  virtual MatrixXd partial_out(int k, const MatrixXd& task_side, const MatrixXd& gamma_side) const;
  // P_k = I - B_k^T A_k^-1 (p x d_k), the same operation on the identity.
  MatrixXd partialling_matrix(int k, Eigen::Index task_dim) const;

  // H^-1 v through the Schur complement.
  BlockVector apply(const BlockVector& v) const;
};

}  // namespace mtif
