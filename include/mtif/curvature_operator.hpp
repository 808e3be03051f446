// A curvature that can be applied to a vector in blocks: what the iterative
// solvers need. The network's Hessian / Gauss-Newton products implement it
// (MlpCurvature), and so does a formed BlockHessian, so the linear model goes
// through the very same CG and LiSSA code as the networks.
#pragma once

#include "mtif/block_inverse.hpp"

namespace mtif {

using Eigen::Index;

class CurvatureOperator {
 public:
  virtual ~CurvatureOperator() = default;
  virtual int num_tasks() const = 0;
  virtual Index shared_size() const = 0;
  virtual Index head_size(int k) const = 0;
  virtual BlockVector apply(const BlockVector& v) const = 0;  // (H + damping I) v
  virtual MatrixXd head_block(int k) const = 0;               // A_k + damping I, dense
};

// A formed block Hessian as an operator (products with A_k, B_k and C only).
class BlockHessianOperator : public CurvatureOperator {
 public:
  explicit BlockHessianOperator(const BlockHessian& h, double damping = 0) : h_(h), damping_(damping) {}
  int num_tasks() const override { return h_.num_tasks(); }
  Index shared_size() const override { return h_.C.rows(); }
  Index head_size(int k) const override { return h_.A[k].rows(); }
  BlockVector apply(const BlockVector& v) const override;
  MatrixXd head_block(int k) const override;

 private:
  const BlockHessian& h_;
  double damping_;
};

}  // namespace mtif
