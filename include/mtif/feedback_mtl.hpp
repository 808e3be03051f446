// Output-level feedback multitask learning (after Xi, Gao, Xu, Guo and Jin,
// 2024), for classification tasks.
//
//   encoder   shared MLP h = enc(x)
//   heads     per task t: `head_layers` hidden layers of width `head_width`,
//             then a linear output with the task's classes
//   feedback  iteration 0 runs every head without feedback; iteration k >= 1
//             adds fb_t = sum_{j != t} A_tj p_j^{(k-1)} (A_tj: a learned
//             linear "amplifier" from task j's class probabilities to the head
//             width, initialised at zero) to the pre-activation of one hidden
//             layer of head t;
//   gate      which layer: a Gumbel-softmax sample g_t over the hidden layers
//             (learnable logits, temperature annealed tau_start -> tau_end),
//             fb_t enters layer l with weight g_t[l]; at prediction the gate
//             is softmax(logits / tau_end), without noise.
//   loss      cross-entropy of the row's task, averaged over the K iterations
//             (supervise_all_iterations; else the last iteration's only),
//             plus convergence_weight * mean_t |p_t^{(K-1)} - p_t^{(K-2)}|^2
//             (for K >= 3: the change between the last two iterations, so the
//             loop settles while the first feedback step may still move the
//             outputs), plus weight decay on the weights.
//
// Every row feeds all heads, so the model runs on any engine data set: the
// loss uses the head of the row's own task, and the other heads' outputs on
// the same input are the feedback (natural when the tasks are several
// outputs of one input, e.g. Fashion-MNIST class and group).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mtif/dataset.hpp"
#include "mtif/early_stopping.hpp"

namespace mtif {

struct FeedbackConfig {
  std::vector<int> encoder{64};
  int head_width = 32;
  int head_layers = 2;               // hidden layers per head = gate positions
  int iterations = 3;                // K: iteration 0 (no feedback) .. K-1
  double convergence_weight = 0.1;
  // true: the cross-entropy is averaged over all K iterations' outputs (deep
  // supervision: the fed-back p_j^(k) are trained predictions from the start);
  // false: only the last iteration is supervised.
  bool supervise_all_iterations = true;
  double weight_decay = 1e-4;
  int epochs = 30;
  int batch_size = 64;
  double learning_rate = 3e-3;       // Adam
  double tau_start = 1.0, tau_end = 0.5;
  std::uint64_t seed = 0;
};

struct FeedbackImpl;

class FeedbackModel {
 public:
  FeedbackModel();
  ~FeedbackModel();
  FeedbackModel(FeedbackModel&&) noexcept;
  FeedbackModel& operator=(FeedbackModel&&) noexcept;

  const FeedbackConfig& config() const;
  int num_tasks() const;
  const std::vector<int>& classes() const;  // per task

  // T x T feedback mask: cut(t, j) = true removes j's feedback into t. nullptr: keep all.
  using Cut = Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic>;
  VectorXd task_mean_loss(const Dataset& data, const Cut* cut = nullptr) const;  // cross-entropy per task
  VectorXd task_accuracy(const Dataset& data, const Cut* cut = nullptr) const;
  // Mean |p^{(K-1)} - p^{(K-2)}|^2 over rows and tasks: how settled the loop is.
  double output_change(const Dataset& data) const;

  // T x L: the gate distribution of each task over its head's hidden layers
  // (softmax of the logits, no noise; rows sum to 1).
  MatrixXd gates() const;
  // T x T, entry (j, t) = rise of task t's mean test loss when the feedback
  // from task j into task t is cut (source j, target t); diagonal 0.
  MatrixXd feedback_relatedness(const Dataset& test) const;

  const std::vector<double>& loss_history() const;  // mean training loss per epoch
  const EpochSelection& selection() const;           // epoch selection (best_epoch 0: none)
  FeedbackImpl& impl() const { return *impl_; }

 private:
  std::unique_ptr<FeedbackImpl> impl_;
};

// Classes of task t: 1 + its largest training label.
// With stopping.validation, scores it after every epoch and keeps the best epoch.
FeedbackModel train_feedback(const Dataset& train, const FeedbackConfig& config, const EarlyStopping& stopping = {});

// Model file (format "mtif-feedback-1"): configuration, task and feature
// names, classes per task and every parameter (encoder, heads, amplifiers,
// gate logits). A loaded model predicts, gates and cuts as the saved one did.
nlohmann::json feedback_to_json(const FeedbackModel& model, const std::vector<std::string>& task_names,
                                const std::vector<std::string>& feature_names);
struct LoadedFeedback {
  FeedbackModel model;
  std::vector<std::string> task_names, feature_names;
};
LoadedFeedback feedback_from_json(const nlohmann::json& j);

}  // namespace mtif
