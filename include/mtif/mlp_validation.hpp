// Ground truth for networks by retraining (mtif-math.md 6). A network has no
// closed-form optimum, so the protocol is part of the answer and is stated in
// every output: each refit starts from the full model's parameters (warm
// start) and runs the same optimiser with the same seed for a fixed number of
// steps; the reference is the full data run through the very same protocol,
// so whatever the protocol itself changes cancels in the difference.
//
// Removing a row sets its weight to 0 with the 1/n_k of its task kept, as for
// the linear model. Minibatch protocols keep the batch order of the full run
// (a removed row still occupies its slot with weight 0), so the only
// difference between two runs is the removed row.
#pragma once

#include <string>
#include <vector>

#include "mtif/mlp_influence.hpp"
#include "mtif/mlp_model.hpp"
#include "mtif/validation.hpp"

namespace mtif {

struct MlpRetrainProtocol {
  std::string optimizer = "lbfgs";  // lbfgs (full batch, strong Wolfe line search) | adam | sgd (minibatch)
  long steps = 200;                 // L-BFGS iterations, or optimiser steps
  std::string describe() const;
};

// The network refitted with sample weights (stored order) under the protocol, from `start`.
MlpModel mlp_retrain(const MlpModel& start, const Dataset& train, const VectorXd& weight,
                     const MlpRetrainProtocol& protocol);

// Target losses after retraining with these weights (stored order).
RefitLosses mlp_refit_losses(const MlpModel& start, const Dataset& train, const Dataset& test,
                             const MlpTargets& targets, const MlpRetrainProtocol& protocol);

// rows: train rows in file order. Result: rows.size() x T actual changes,
// relative to the full data retrained under the same protocol.
MatrixXd mlp_leave_one_out(const MlpModel& start, const Dataset& train, const Dataset& test,
                           const MlpTargets& targets, const std::vector<Index>& rows,
                           const MlpRetrainProtocol& protocol);

// Brute-force leave-one-task-out: K sources x T targets.
Relatedness mlp_relatedness_by_retraining(const MlpModel& start, const Dataset& train, const Dataset& test,
                                          const MlpTargets& targets, const MlpRetrainProtocol& protocol);

}  // namespace mtif
