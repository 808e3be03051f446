// Epoch selection on a validation split. The Adam-trained networks (the
// shared-bottom MLP, VMTL, feedback MTL) take the same EarlyStopping, so a
// comparison between them can give every model one protocol: train, score
// the validation rows after every epoch, keep the best epoch's weights.
#pragma once

#include <limits>
#include <vector>

#include "mtif/dataset.hpp"

namespace mtif {

struct EarlyStopping {
  // Rows of the training tasks held out from training (never the test split).
  // nullptr: no selection, the last epoch's weights are kept.
  const Dataset* validation = nullptr;
  // Stop after this many epochs without a better validation score; 0 runs every epoch.
  int patience = 0;
};

// What the selection did. The score of an epoch is the mean over tasks of the
// validation accuracy; ties (frequent with few validation rows) go to the
// lower mean validation loss, then to the earlier epoch.
struct EpochSelection {
  int best_epoch = 0;  // 1-based epoch whose weights were kept; 0: no validation given
  double best_accuracy = std::numeric_limits<double>::quiet_NaN();
  double best_loss = std::numeric_limits<double>::quiet_NaN();
  int epochs_run = 0;
  std::vector<double> accuracy, loss;  // validation curves, one entry per epoch run
};

}  // namespace mtif
