// The subcommands' path for --model mlp|torchscript (the shared-bottom network
// and the user's TorchScript module). Built with LibTorch into the plugin
// (network.cpp); network_loader.cpp, in `mtif`, forwards to it and says what is
// missing when the plugin is not there. The entry points take the CLI's option
// structs (apps/mtif/options.hpp): they are the neural models' half of the commands.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mtif/selection_backend.hpp"
#include "options.hpp"

namespace mtif::cli {

void network_fit(const DataOptions& data, const ModelOptions& model, const OutputOptions& out, const std::string& save);
void network_influence(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                       const std::string& scores_path, const std::string& targets, const std::string& mode);
void network_loo(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                 const std::string& rows, const std::string& loo_path, const std::string& targets);
// tag/gradcos for the network: measured along the fit's own training run.
struct NetworkTrajectory {
  long every = 1;             // before every s-th optimiser step
  double lookahead_rate = 0;  // TAG's lookahead step; 0: the fit's learning rate
};

void network_relatedness(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                         const std::string& method, const std::string& matrix_path, bool validate,
                         const NetworkTrajectory& trajectory);
void network_lds(const DataOptions& data, const ModelOptions& model, const OutputOptions& out, int subsets,
                 double keep, std::uint64_t seed, const std::string& lds_path, const std::string& targets);
// mtif select / sources on the network (network.cpp).
std::unique_ptr<SelectionBackend> network_selection_backend(const DataOptions& data, const ModelOptions& model,
                                                            bool quiet);

}  // namespace mtif::cli
