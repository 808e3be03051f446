// Curvature of the shared-bottom network's training objective at its fitted
// parameters (mtif-math.md 5), in the blocks of section 2, and the solvers
// that apply its inverse through the one BlockInverse interface:
//
//  * MlpCgSolver: head blocks A_k exact (they are small), the Schur
//    complement N applied matrix-free (two curvature-vector products per
//    application) and inverted by conjugate gradients, with a residual report.
//  * exact_block_hessian(): the whole damped matrix formed from P products,
//    for small networks, so BlockSchurSolver can check the iterative solvers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/block_schur_solver.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

enum class CurvatureKind { Hessian, GaussNewton };
CurvatureKind parse_curvature(const std::string& name);  // hessian | ggn

struct MlpCurvatureState;  // LibTorch graphs, defined in the .cpp

class MlpCurvature {
 public:
  MlpCurvature(const MlpModel& model, const Dataset& train, CurvatureKind kind, double damping);
  ~MlpCurvature();

  // (H + damping I) v, or (G + damping I) v with the Gauss-Newton matrix G.
  BlockVector apply(const BlockVector& v) const;
  // Dense A_k (with damping). For a linear head the Hessian and Gauss-Newton
  // head blocks coincide: sum_i (sigma_i/n_k) J_i^T Lambda_i J_i + (wd + damping) I.
  MatrixXd head_block(int k) const;
  // d f_r / dw . dir for every training row r (stored order): n x out.
  MatrixXd output_jvp(const BlockVector& dir) const;
  // d l_r / d f_r for every training row: n x out.
  const MatrixXd& output_loss_gradient() const;

  int num_tasks() const;
  Index shared_size() const;
  Index head_size(int k) const;
  long products() const { return products_; }  // curvature-vector products so far

 private:
  std::unique_ptr<MlpCurvatureState> state_;
  mutable long products_ = 0;
};

// Forms the damped block Hessian from P curvature-vector products (small networks only).
BlockHessian exact_block_hessian(const MlpCurvature& curvature);

struct CgOptions {
  int max_iterations = 500;
  double tolerance = 1e-10;  // on |N x - b| / |b|
};

struct CgReport {
  int iterations = 0;
  double relative_residual = 0;
  bool converged = false;
};

class MlpCgSolver : public BlockInverse {
 public:
  MlpCgSolver(const MlpCurvature& curvature, CgOptions options = {});

  int num_tasks() const override { return curvature_.num_tasks(); }
  MatrixXd solve_task(int k, const MatrixXd& rhs) const override { return head_factors_[k].solve(rhs); }
  MatrixXd border(int k, const MatrixXd& gamma_side) const override;
  MatrixXd border_t(int k, const MatrixXd& task_side) const override;
  MatrixXd solve_schur(const MatrixXd& rhs) const override;  // CG, one column at a time
  std::vector<MatrixXd> border_all(const MatrixXd& gamma_side) const override;
  std::vector<std::string> warnings() const override;

  VectorXd apply_schur(const VectorXd& v) const;  // N v
  const std::vector<CgReport>& reports() const { return reports_; }

 private:
  const MlpCurvature& curvature_;
  CgOptions options_;
  std::vector<Eigen::LDLT<MatrixXd>> head_factors_;
  mutable std::vector<CgReport> reports_;
};

}  // namespace mtif
