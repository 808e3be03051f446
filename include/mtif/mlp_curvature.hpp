// Curvature of the shared-bottom network's training objective at its fitted
// parameters (mtif-math.md 5), in the blocks of section 2, and the solvers
// that apply its inverse through the one BlockInverse interface:
//
//  * CgSolver / LissaSolver (iterative_solvers.hpp) through the
//    CurvatureOperator interface: heads exact, N applied matrix-free;
//  * MlpEkfacSolver (mlp_ekfac.hpp): Kronecker-factored trunk layers;
//  * exact_block_hessian(): the whole damped matrix formed from P products,
//    for small networks, so BlockSchurSolver can check the iterative solvers.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/block_schur_solver.hpp"
#include "mtif/curvature_operator.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

enum class CurvatureKind { Hessian, GaussNewton };
CurvatureKind parse_curvature(const std::string& name);  // hessian | ggn

struct MlpCurvatureState;  // LibTorch graphs, defined in the .cpp

class MlpCurvature : public CurvatureOperator {
 public:
  MlpCurvature(const MlpModel& model, const Dataset& train, CurvatureKind kind, double damping);
  ~MlpCurvature() override;

  // (H + damping I) v, or (G + damping I) v with the Gauss-Newton matrix G.
  BlockVector apply(const BlockVector& v) const override;
  // Dense A_k (with damping). For a linear head the Hessian and Gauss-Newton
  // head blocks coincide: sum_i (sigma_i/n_k) J_i^T Lambda_i J_i + (wd + damping) I.
  MatrixXd head_block(int k) const override;
  // d f_r / dw . dir for every training row r (stored order): n x out.
  MatrixXd output_jvp(const BlockVector& dir) const;
  // d l_r / d f_r for every training row: n x out.
  const MatrixXd& output_loss_gradient() const;

  int num_tasks() const override;
  Index shared_size() const override;
  Index head_size(int k) const override;
  long products() const { return products_; }  // curvature-vector products so far

 private:
  std::unique_ptr<MlpCurvatureState> state_;
  mutable long products_ = 0;
};

// The block of a linear head (theta = [W (out x h, row-major), b]) from its
// inputs z (n_k x h) and the weighted output Hessians Lambda_r (n_k x out*out,
// row-major entries): sum_r [z_r,1][z_r,1]^T (x) Lambda_r + shift I. For a
// linear head the Hessian and the Gauss-Newton blocks coincide.
MatrixXd linear_head_block(const MatrixXd& z, const MatrixXd& lambda_flat, Index out, double shift);

// Forms the damped block Hessian from P curvature-vector products (small networks only).
BlockHessian exact_block_hessian(const MlpCurvature& curvature);

}  // namespace mtif
