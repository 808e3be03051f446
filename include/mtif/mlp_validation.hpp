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

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtif/mlp_influence.hpp"
#include "mtif/mlp_model.hpp"
#include "mtif/validation.hpp"

namespace mtif {

// How the refits of one protocol ended: each refit's reason to stop and the
// largest |gradient| of its own objective at the end, tallied (issue 13: every
// refit says why it stopped). Shared by all copies of a protocol; thread-safe.
class RefitStops {
 public:
  void add(const std::string& reason, long iterations, double gradient_max_abs);
  long count() const;
  // "12 refits: 10 gradient tolerance, 2 iteration limit (200); largest final max |gradient| 3.1e-07"
  std::string summary() const;
  nlohmann::json json() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, long> by_reason_;
  long refits_ = 0, most_iterations_ = 0;
  double largest_gradient_ = 0;
};

struct MlpRetrainProtocol {
  std::string optimizer = "lbfgs";  // lbfgs (full batch, strong Wolfe line search) | adam | sgd (minibatch)
  long steps = 200;                 // L-BFGS iterations, or optimiser steps
  std::shared_ptr<RefitStops> stops = std::make_shared<RefitStops>();  // how each refit under it ended
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
