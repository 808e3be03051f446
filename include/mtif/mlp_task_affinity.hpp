// Task-level relatedness baselines for the shared-bottom network (mtif-math.md
// 1.2), the counterparts of task_affinity.hpp for the linear model, measured
// along the network's REAL training run: the fit's own optimiser (Adam or SGD,
// minibatches, the fit's seed) is observed before every `every`-th step
// through MlpTrainOptions::before_step, so the fit comes out identical to a
// plain train_mlp and the baselines cost only their own extra passes.
//
// At an observed step, with the parameters as they stand:
//  * g_i = gradient of task i's mean TRAINING loss (all of task i's rows, no
//    weight decay) with respect to the shared trunk gamma, by autograd;
//  * TAG lookahead affinity (Fifty et al. 2021, their eq. 3): a plain gradient
//    step on the trunk only, gamma' = gamma - eta g_i (heads unchanged), and
//    Z[i][j] = 1 - L_j(gamma') / L_j(gamma) with L_j task j's mean training
//    loss over all its rows; Z > 0: a step for task i lowers task j's loss;
//  * gradient cosine: cos(g_i, g_j).
// Each matrix is the mean over the observed steps. Full-batch task losses
// instead of the step's minibatch (the paper uses the minibatch): the same
// rows at every step, so the averages measure the trajectory, not batch noise.
// eta defaults to the fit's learning rate. Entry [i][j] = source i on target
// j, as Relatedness::matrix; only rankings are comparable with loss changes.
#pragma once

#include <memory>

#include "mtif/mlp_model.hpp"

namespace mtif {

struct MlpAffinityOptions {
  long every = 1;             // observe every s-th optimiser step (steps 0, s, 2s, ...)
  double lookahead_rate = 0;  // eta of the TAG lookahead; 0: the fit's learning rate
  bool lookahead = true;      // false: gradient cosine only (skips the K lookahead passes)
};

class MlpTaskAffinity {
 public:
  MlpTaskAffinity(const Dataset& train, const MlpConfig& config, const MlpAffinityOptions& options);
  ~MlpTaskAffinity();
  MlpTaskAffinity(const MlpTaskAffinity&) = delete;
  MlpTaskAffinity& operator=(const MlpTaskAffinity&) = delete;

  // For MlpTrainOptions::before_step: measures at every `every`-th step.
  void observe(long step, const MlpModel& model);

  MatrixXd tag() const;      // K x K mean lookahead affinity (zero without lookahead)
  MatrixXd gradcos() const;  // K x K mean cosine
  long observed_steps() const;
  double lookahead_rate() const;
  double seconds() const;    // time spent observing (not the fit's own steps)

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mtif
