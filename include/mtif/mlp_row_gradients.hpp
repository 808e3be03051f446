// Per-row loss gradients of the shared-bottom network, kept factored per
// linear layer (issue 3, "fast scoring").
//
// For a linear layer z = W a + b, the gradient of row r's loss with respect
// to W is delta_r a_r^T, with delta_r = dl_r/dz_r. Its dot product with a
// direction V is therefore delta_r^T V a_r (plus delta_r . b_V for the bias):
// one matrix product covers all rows and all directions, and no per-row
// gradient vector is ever formed. One backward pass gives every delta_r at
// once, because row r's loss depends only on row r's activations.
#pragma once

#include <memory>
#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/dataset.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

class MlpRowGradients {
 public:
  MlpRowGradients(const MlpModel& model, const Dataset& data);

  ~MlpRowGradients();
  Index num_rows() const { return rows_; }
  // g_r . dirs[j] for every row r (stored order) and direction j: n x D.
  MatrixXd dot(const std::vector<BlockVector>& dirs) const;
  // The same restricted to task k's head: rows of task k against head
  // directions theta_dirs (d_k x D): n_k x D.
  MatrixXd head_dot(int k, const MatrixXd& theta_dirs) const;

 private:
  struct Layer {
    MatrixXd input;  // a_r per row: n x in
    MatrixXd delta;  // dl_r/dz_r per row: n x out
  };
  std::vector<Layer> trunk_;
  MatrixXd features_;    // trunk output h_r: n x H (the heads' input)
  MatrixXd head_delta_;  // dl_r/df_r: n x out
  std::vector<Index> task_begin_;
  Index rows_ = 0;
  // Any other network: per-row products by double backward (the .cpp says how).
  struct Generic;
  std::shared_ptr<const Generic> generic_;
};

}  // namespace mtif
