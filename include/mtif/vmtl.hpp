// Variational multitask learning with Gumbel-softmax priors (VMTL; Shen,
// Zhen, Worring and Shao, NeurIPS 2021) for classification tasks that share
// one label space (e.g. Rotated MNIST: one task per rotation angle), or, with
// VmtlConfig::regression, regression tasks with one real target (e.g. the
// rotation angle of each digit, one task per digit class).
//
//   encoder    shared Bayesian MLP, mean-field Gaussian weights, sampled with
//              the local reparameterisation trick; its last layer gives
//              q(z|x) = N(mu(x), diag var(x)) for the representation z.
//   classifier one Bayesian linear layer per task, q(w_t) mean-field Gaussian,
//              applied to relu(z): C logits, or one output for regression.
//   priors     p(w_t)   = sum_{j != t} alpha_tj q(w_j)             (stop-gradient)
//              p(z|x)   = sum_{j != t} beta_tj  q(z | xbar_j(x))   (stop-gradient)
//              with xbar_j(x) the attention-weighted average of task j's
//              training inputs of x's class (for regression: of all its
//              rows, there are no classes). alpha_t, beta_t are
//              Gumbel-softmax samples over learnable logits; the temperature
//              goes linearly from tau_start to tau_end over training.
//
// The choices the paper leaves open, and ours (README "VMTL and feedback MTL"):
//   * KL(q || mixture) has no closed form. We use the convexity bound
//     KL(q || sum_j a_j p_j) <= sum_j a_j KL(q || p_j): closed form,
//     non-negative, keeps the ELBO a lower bound, and its gradient in a moves
//     weight to the tasks whose posteriors are closest (a moment-matched
//     Gaussian instead rewards spreading weight to widen the prior).
//   * attention: softmax over the class-c rows r of task j of
//     <m(x), m(x_r)> / sqrt(d), m = mean output of the first encoder layer
//     (no gradient).
//   * MC samples: train_samples per step for the likelihood, test_samples
//     averaged probabilities (regression: averaged outputs) at prediction.
//   * regression: the likelihood term is the squared error on targets
//     standardised with the training rows' mean and standard deviation (one
//     scale for all tasks, so the regressors' posteriors are comparable and
//     can serve as each other's priors); predictions are mapped back.
//   * the encoder weights get no weight-space prior: the paper puts its prior
//     on z, which the representation KL covers.
//   * the variance of q(z|x) is the weight noise plus a learnable noise level
//     per dimension of z, shared with the prior components (not detached);
//     the representation KL is averaged over z's dimensions, weight 1e-3
//     (1e-2 diverged on Rotated MNIST; README "Known gaps").
//
// LibTorch stays behind this header (pimpl), as for MlpModel.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mtif/dataset.hpp"
#include "mtif/early_stopping.hpp"

namespace mtif {

struct VmtlConfig {
  std::vector<int> hidden{64, 32};  // encoder widths; the last is the width of z
  int classes = 0;                  // 0: 1 + the largest training label (ignored for regression)
  bool regression = false;          // squared error on a real target instead of cross-entropy on class ids
  int epochs = 60;
  int batch_size = 32;              // rows per task per step
  double learning_rate = 3e-3;      // Adam
  int train_samples = 3;            // Monte Carlo samples of (z, w) per step
  int test_samples = 20;            // samples averaged at prediction
  double tau_start = 1.0, tau_end = 0.5;
  double kl_w_weight = 1.0;         // classifier KL weight after warm-up (times 1/n_t, the ELBO scale)
  double kl_z_weight = 1e-3;        // representation KL weight (per row and dimension of z); 1e-2 diverged in our runs
  double warmup_fraction = 0.3;     // classifier KL weight rises linearly over this share of the steps
  double init_sigma = 0.05;         // initial posterior standard deviation of every weight
  std::uint64_t seed = 0;
};

// Temperature at `step` of `steps` (linear from start to end; end at the last step).
double annealed_temperature(long step, long steps, double start, double end);

// One Gumbel-softmax sample: softmax((logits + g) / tau), g iid Gumbel(0, 1)
// from a generator seeded with `seed`. Entries with logit -infinity get 0.
std::vector<double> gumbel_softmax_sample(const std::vector<double>& logits, double tau, std::uint64_t seed);

struct VmtlImpl;  // LibTorch side, src/models/vmtl_model.cpp

// The loss terms at the current parameters, per task, with the noiseless
// weights softmax(logits) and the final temperature.
struct VmtlTerms {
  VectorXd cross_entropy;  // the likelihood term: squared error on the standardised target for regression
  VectorXd kl_classifier, kl_representation;
};

class VmtlModel {
 public:
  VmtlModel();
  ~VmtlModel();
  VmtlModel(VmtlModel&&) noexcept;
  VmtlModel& operator=(VmtlModel&&) noexcept;

  const VmtlConfig& config() const;
  int num_tasks() const;
  int num_classes() const;  // 1 for regression
  bool is_regression() const;

  // Class probabilities of each row (its task's classifier), averaged over
  // config().test_samples draws of the weights; seeded, so repeatable.
  // Classification only.
  MatrixXd predict_proba(const Dataset& data) const;
  // Regression only: each row's prediction in the target's units, the mean
  // of config().test_samples sampled outputs; seeded, so repeatable.
  VectorXd predict(const Dataset& data) const;
  // Per task, NaN without rows. Accuracy: classification only.
  VectorXd task_accuracy(const Dataset& data) const;
  // Classification: mean -log p(y|x) of the averaged probabilities.
  // Regression: mean squared error of predict() in the target's units.
  VectorXd task_mean_loss(const Dataset& data) const;

  // T x T, row t = the weights of task t's prior over the other tasks:
  // softmax of the logits without noise, diagonal 0, each row sums to 1
  // (with one task: the 1 x 1 matrix 0).
  MatrixXd alpha() const;  // classifier prior
  MatrixXd beta() const;   // representation prior

  VmtlTerms terms(const Dataset& train) const;
  const std::vector<double>& loss_history() const;  // mean training loss per epoch
  const EpochSelection& selection() const;           // epoch selection (best_epoch 0: none)

  VmtlImpl& impl() const { return *impl_; }

 private:
  std::unique_ptr<VmtlImpl> impl_;
};

// Trains on all tasks; every row's target is a class id 0..classes-1 (a
// finite real number for regression). With stopping.validation, scores it
// after every epoch and keeps the best epoch (classification: best mean
// accuracy, ties to the lower loss; regression: lowest mean squared error).
VmtlModel train_vmtl(const Dataset& train, const VmtlConfig& config, const EarlyStopping& stopping = {});

// Model file (format "mtif-vmtl-1"): configuration, task and feature names,
// target scaling and every parameter (posterior means and scales, prior
// logits, noise level). A loaded model predicts and exports alpha / beta as
// the saved one did; terms() needs the training rows and refuses it.
nlohmann::json vmtl_to_json(const VmtlModel& model, const std::vector<std::string>& task_names,
                            const std::vector<std::string>& feature_names);
struct LoadedVmtl {
  VmtlModel model;
  std::vector<std::string> task_names, feature_names;
};
LoadedVmtl vmtl_from_json(const nlohmann::json& j);

}  // namespace mtif
