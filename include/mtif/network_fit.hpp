// A network brought to the weights that influence explains: the built-in MLP
// trained (or loaded), or a user's TorchScript module at its own weights,
// polished, or trained from them. One place for the command line and the
// Python module, so that both attribute the same model for the same settings.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mtif/dataset.hpp"
#include "mtif/mlp_model.hpp"

namespace mtif {

struct NetworkSpec {
  std::string model = "mlp";           // mlp | torchscript
  MlpConfig config;                    // architecture (mlp), loss head, weight decay, training settings
  TorchScriptSpec module;              // torchscript: the file, method and parameter patterns
  std::string module_weights = "as-is";  // torchscript: as-is | polish | train
  int polish_steps = 0;                // full-batch L-BFGS iterations after training (0: none)
};

struct FittedNetwork {
  MlpModel model;
  double max_abs_gradient = 0;         // of the objective, at the weights used
  std::vector<std::string> warnings;   // one line each (e.g. far from a stationary point)
  std::vector<std::pair<std::string, double>> timings;  // seconds: load_s, train_s, polish_s
};

// Above this the weights are reported as not stationary (one warning line).
inline constexpr double kStationaryGradient = 1e-4;

// Trains / loads as the spec says. `before_step` watches the optimiser's run
// (task affinity along the trajectory) without changing it; it needs a
// training run (mlp, or torchscript with module_weights = train).
FittedNetwork fit_network(const NetworkSpec& spec, const Dataset& train,
                          std::function<void(long, const MlpModel&)> before_step = {});

// The stationarity check of a model from elsewhere (e.g. loaded from a file).
void check_stationary(FittedNetwork& fitted, const Dataset& train, const std::string& advice);

}  // namespace mtif
