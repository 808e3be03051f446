// Gradient and block Hessian of the linear multitask objective (mtif-math.md 2):
// A_k = G_k + lambda_task I, B_k = G_k, C = sum_k G_k + lambda_shared I with
// G_k = (1/n_k) X_k^T diag(sigma h) X_k.
#pragma once

#include "mtif/block_inverse.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/row_sum.hpp"

namespace mtif {

// dl/df and d2l/df2 at the current fit, one per stored row.
VectorXd row_loss_derivatives(const LinearModel& model, const Dataset& data);
VectorXd row_loss_curvatures(const LinearModel& model, const Dataset& data);

// Per-task weighted Gram matrix G_k = (1/n_k) X_k^T diag(w) X_k (symmetric),
// over the rows held in `data` (n_k is task_n: the whole set's count).
MatrixXd task_gram(const Dataset& data, int k, const VectorXd& row_weight);

// `rows` combines the sums over rows held by other processes (nullptr: all rows are in `train`).
BlockHessian linear_block_hessian(const LinearModel& model, const Dataset& train,
                                  const VectorXd* sample_weight = nullptr, const RowSum* rows = nullptr);

// Gradient of the whole objective, in blocks.
BlockVector linear_gradient(const LinearModel& model, const Dataset& train, const VectorXd* sample_weight = nullptr,
                            const RowSum* rows = nullptr);

}  // namespace mtif
