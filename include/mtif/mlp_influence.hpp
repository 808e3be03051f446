// First-order MTIF scores for the shared-bottom network (mtif-math.md 3 and 5):
// the same task part / shared part split as the linear model, with any
// BlockInverse (exact dense blocks for small networks, CG on the Schur
// complement, LiSSA or EK-FAC otherwise). Per-row gradient dot products come
// from MlpRowGradients (delta_r^T V a_r per linear layer, all rows and all
// targets in one product): per-row gradient vectors are never formed.
#pragma once

#include "mtif/block_inverse.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/mlp_model.hpp"
#include "mtif/mlp_row_gradients.hpp"

namespace mtif {

// One target per task with test rows: the gradient of its mean test loss.
struct MlpTargets {
  std::vector<int> task;
  std::vector<BlockVector> gradient;
  std::vector<Index> test_row;  // per-row targets: the test row (file order); empty for task targets
};
MlpTargets mlp_task_targets(const MlpModel& model, const Dataset& test);
// One target per test row (its own loss), in file order: --targets rows.
MlpTargets mlp_row_targets(const MlpModel& model, const Dataset& test);

// What each target measures (the V_t the scores predict changes of): its task's mean test
// loss, or for row targets its test row's loss.
VectorXd mlp_target_losses(const MlpModel& model, const Dataset& test, const MlpTargets& targets);

InfluenceScores mlp_influence(const MlpModel& model, const Dataset& train, const MlpRowGradients& rows,
                              const BlockInverse& solver, const MlpTargets& targets, bool with_parts = true);

}  // namespace mtif
