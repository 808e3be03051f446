// First-order MTIF scores for the shared-bottom network (mtif-math.md 3 and 5):
// the same task part / shared part split as the linear model, with any
// BlockInverse (exact dense blocks for small networks, CG on the Schur
// complement otherwise). Per-row gradient dot products are Jacobian-vector
// products of the outputs, computed for all rows at once: per-row gradient
// vectors are never formed.
#pragma once

#include "mtif/block_inverse.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

// One target per task with test rows: the gradient of its mean test loss.
struct MlpTargets {
  std::vector<int> task;
  std::vector<BlockVector> gradient;
};
MlpTargets mlp_task_targets(const MlpModel& model, const Dataset& test);

InfluenceScores mlp_influence(const MlpModel& model, const Dataset& train, const MlpCurvature& curvature,
                              const BlockInverse& solver, const MlpTargets& targets, bool with_parts = true);

}  // namespace mtif
