// Iterative solvers for the Schur complement N of any curvature that can be
// applied to a vector (CurvatureOperator): the linear model's block Hessian
// and the network's Hessian or Gauss-Newton products alike. Heads are solved
// exactly (A_k is small and formed densely), N is applied matrix-free with two
// curvature products, and every solve reports its true residual: a solve that
// did not converge becomes a warning, never silence.
#pragma once

#include <string>
#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/curvature_operator.hpp"

namespace mtif {

struct CgOptions {
  int max_iterations = 500;
  double tolerance = 1e-10;  // on |N x - b| / |b|
};

// LiSSA (Agarwal et al. 2017) on N with full-batch products: the Neumann
// series x_{j+1} = b + (I - N/scale) x_j, N^-1 b ~ x_J / scale. With exact
// products it is Richardson iteration with step 1/scale: deterministic, the
// same fixed point as stochastic LiSSA, and its residual is free
// (|x_{j+1} - x_j| = |b - N x_j/scale|).
struct LissaOptions {
  double scale = 0;          // must exceed lambda_max(N)/2; 0 = 1.1 x a power-iteration estimate
  int depth = 1000;          // most terms of the series
  double tolerance = 1e-6;   // on |N x - b| / |b|
  int power_iterations = 30; // for the automatic scale
};

struct SolveReport {
  int iterations = 0;
  double relative_residual = 0;
  bool converged = false;
  bool diverged = false;  // LiSSA only: the series blew up (scale too small)
  std::string target;     // what the solve was for (name_next_columns), "" if unnamed
};
using CgReport = SolveReport;

// The part of the iterative solvers that does not depend on how N is
// inverted: heads exact, borders and N applied with curvature products.
class IterativeSchurSolver : public BlockInverse {
 public:
  explicit IterativeSchurSolver(const CurvatureOperator& curvature);

  int num_tasks() const override { return curvature_.num_tasks(); }
  MatrixXd solve_task(int k, const MatrixXd& rhs) const override { return head_factors_[k].solve(rhs); }
  MatrixXd border(int k, const MatrixXd& gamma_side) const override;
  MatrixXd border_t(int k, const MatrixXd& task_side) const override;
  std::vector<MatrixXd> border_all(const MatrixXd& gamma_side) const override;

  VectorXd apply_schur(const VectorXd& v) const;  // N v, two curvature products
  const std::vector<SolveReport>& reports() const { return reports_; }
  void name_next_columns(std::vector<std::string> names) const override { column_names_ = std::move(names); }

 protected:
  std::string column_name(Index c) const {
    return c < Index(column_names_.size()) ? column_names_[c] : "";
  }
  // "solve 3" or "solve 3 (target task 't1')", for warnings.
  static std::string solve_label(size_t i, const SolveReport& r);
  mutable std::vector<std::string> column_names_;
  const CurvatureOperator& curvature_;
  std::vector<Eigen::LDLT<MatrixXd>> head_factors_;
  mutable std::vector<SolveReport> reports_;
};

class CgSolver : public IterativeSchurSolver {
 public:
  CgSolver(const CurvatureOperator& curvature, CgOptions options = {});
  MatrixXd solve_schur(const MatrixXd& rhs) const override;  // CG, one column at a time
  std::vector<std::string> warnings() const override;

 private:
  CgOptions options_;
};

class LissaSolver : public IterativeSchurSolver {
 public:
  LissaSolver(const CurvatureOperator& curvature, LissaOptions options = {});
  MatrixXd solve_schur(const MatrixXd& rhs) const override;
  std::vector<std::string> warnings() const override;
  double scale() const { return scale_; }

 private:
  LissaOptions options_;
  double scale_;
};

}  // namespace mtif
