#include "mtif/block_inverse.hpp"

namespace mtif {

MatrixXd BlockInverse::partial_out(int k, const MatrixXd& task_side, const MatrixXd& gamma_side) const {
  return gamma_side - border_t(k, solve_task(k, task_side));
}

MatrixXd BlockInverse::partialling_matrix(int k, Eigen::Index task_dim) const {
  const MatrixXd I = MatrixXd::Identity(task_dim, task_dim);
  return partial_out(k, I, I);
}

std::vector<MatrixXd> BlockInverse::border_all(const MatrixXd& gamma_side) const {
  std::vector<MatrixXd> out;
  for (int k = 0; k < num_tasks(); ++k) out.push_back(border(k, gamma_side));
  return out;
}

BlockVector BlockInverse::apply(const BlockVector& v) const {
  // Solve A_k t_k + B_k g = v_k,  sum_k B_k^T t_k + C g = v_gamma:
  // N g = v_gamma - sum_k B_k^T A_k^-1 v_k,  then t_k = A_k^-1 (v_k - B_k g).
  VectorXd rhs = v.gamma;
  const VectorXd none = VectorXd::Zero(v.gamma.size());
  for (int k = 0; k < num_tasks(); ++k) rhs += partial_out(k, v.theta[k], none);
  BlockVector out;
  out.gamma = solve_schur(rhs);
  out.theta.resize(num_tasks());
  for (int k = 0; k < num_tasks(); ++k) out.theta[k] = solve_task(k, v.theta[k] - border(k, out.gamma));
  return out;
}

}  // namespace mtif
