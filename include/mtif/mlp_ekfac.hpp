// EK-FAC (George et al. 2018, as used for influence by Grosse et al. 2023)
// for the shared trunk's linear layers, behind the one BlockInverse interface.
//
// Each trunk layer's Gauss-Newton block is approximated in the eigenbasis of
// two Kronecker factors, A = E[a a^T] (layer inputs, with a 1 for the bias)
// and S = E[delta delta^T] (pre-activation gradients of the GGN's
// pseudo-losses: Lambda_r^{1/2} pushed back through the network), with the
// eigenvalues replaced by the exact second moments of the per-row gradients in
// that basis. Its inverse is then two small rotations and a division.
//
// Heads stay exact: A_k = sum_r [h_r,1][h_r,1]^T (x) Lambda_r + (wd + damping) I.
// Like every layer-wise Kronecker method this is block-diagonal: the
// head-trunk coupling B_k and the cross-layer blocks of C are dropped, so N^-1
// is approximated by C_EKFAC^-1 and border() returns zero. Weight decay and
// damping are added to the corrected eigenvalues, which is exact in that basis.
//
// Any other network (a TorchScript module): every nn.Linear and nn.Conv2d
// call on shared weights found in its graph is a layer (Conv2d by its image
// patches, KFC: Grosse & Martens 2016), the factors are accumulated in row
// chunks, and the heads' blocks come from exact Gauss-Newton products. Shared
// parameters that no such layer covers (norms, embeddings, a weight used
// twice) keep only weight decay and damping, (wd + damping) I: their
// curvature is ignored, and warnings() names them.
#pragma once

#include <vector>

#include "mtif/block_inverse.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

struct EkfacTimings {
  double factors_s = 0;  // forward/backward passes and the factor sums
  double eigen_s = 0;    // eigendecompositions
  double correction_s = 0;  // the eigenvalue correction pass
};

class MlpEkfacSolver : public BlockInverse {
 public:
  MlpEkfacSolver(const MlpModel& model, const Dataset& train, double damping);

  int num_tasks() const override { return static_cast<int>(head_factors_.size()); }
  MatrixXd solve_task(int k, const MatrixXd& rhs) const override { return head_factors_[k].solve(rhs); }
  MatrixXd border(int k, const MatrixXd& gamma_side) const override;    // zero (dropped coupling)
  MatrixXd border_t(int k, const MatrixXd& task_side) const override;   // zero (dropped coupling)
  MatrixXd solve_schur(const MatrixXd& rhs) const override;             // C_EKFAC^-1 rhs
  const EkfacTimings& timings() const { return timings_; }
  std::vector<std::string> warnings() const override { return warnings_; }

  struct Layer {
    std::string name;
    Index in = 0, out = 0;  // W is out x in (a Conv2d's in = channels x kernel area); W row-major in gamma
    Index weight_offset = 0, bias_offset = -1;  // in gamma; -1: no bias (then the last column is unused)
    MatrixXd input_basis;   // Q_A: (in+1) x (in+1)
    MatrixXd grad_basis;    // Q_S: out x out
    MatrixXd eigenvalues;   // corrected, plus wd + damping: out x (in+1)
  };
  const std::vector<Layer>& layers() const { return layers_; }  // trunk layers, input first

 private:
  void factor_builtin_mlp(const MlpModel& model, const Dataset& train, double damping);
  void factor_network(const MlpModel& model, const Dataset& train, double damping);

  std::vector<Layer> layers_;
  std::vector<std::pair<Index, Index>> uncovered_;  // (offset, size) in gamma: (wd + damping) I
  double shift_ = 0;
  Index shared_size_ = 0;
  std::vector<std::string> warnings_;
  std::vector<Index> head_sizes_;
  std::vector<Eigen::LDLT<MatrixXd>> head_factors_;
  EkfacTimings timings_;
};

}  // namespace mtif
