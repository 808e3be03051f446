// Internal: keeps the parameters of the best validation epoch (see
// include/mtif/early_stopping.hpp) for the LibTorch trainers.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "mtif/early_stopping.hpp"

namespace mtif {

class BestWeights {
 public:
  BestWeights(std::vector<torch::Tensor> parameters, int patience)
      : parameters_(std::move(parameters)), patience_(patience) {}

  // Scores one finished epoch (mean validation accuracy and loss over tasks);
  // copies the parameters when the epoch is the best so far. Returns false
  // once `patience` epochs in a row brought no improvement.
  bool record(double accuracy, double loss) {
    auto& s = selection_;
    ++s.epochs_run;
    s.accuracy.push_back(accuracy);
    s.loss.push_back(loss);
    if (is_better(accuracy, loss)) {
      s.best_epoch = s.epochs_run;
      s.best_accuracy = accuracy;
      s.best_loss = loss;
      torch::NoGradGuard no_grad;
      best_.clear();
      for (const auto& p : parameters_) best_.push_back(p.detach().clone());
    }
    return patience_ <= 0 || s.epochs_run - s.best_epoch < patience_;
  }

  // Writes the best epoch's values back into the parameters (in place, so
  // every holder of these tensors sees them). No-op before any record.
  void restore() {
    if (best_.empty()) return;
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i].copy_(best_[i]);
  }

  const EpochSelection& selection() const { return selection_; }

 private:
  bool is_better(double accuracy, double loss) const {
    const auto& s = selection_;
    if (s.best_epoch == 0) return true;
    if (std::isnan(loss)) return false;  // a diverged epoch never wins
    if (accuracy != s.best_accuracy) return accuracy > s.best_accuracy;
    return loss < s.best_loss;
  }

  std::vector<torch::Tensor> parameters_, best_;
  int patience_;
  EpochSelection selection_;
};

}  // namespace mtif
