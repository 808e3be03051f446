// The neural models (--model mlp|vmtl|feedback) live in a plugin,
// libmtif_network.so, loaded with dlopen only when a command needs them:
// linking LibTorch into `mtif` itself cost every run about 1 CPU second and
// 160 MB of start-up (294 shared libraries and LibTorch's operator
// registration), while most runs are linear. The plugin hands `mtif` this
// table of entry points; everything else it uses (options, output, the core
// library) it takes from the `mtif` executable, which exports its symbols.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

// Bump when the table or any entry's signature changes: a stale plugin is
// refused with a message instead of being called with the wrong arguments.
constexpr int kNetworkPluginAbi = 5;
constexpr const char* kNetworkPluginFile = "libmtif_network.so";
constexpr const char* kNetworkPluginSymbol = "mtif_network_plugin";

struct NetworkPlugin {
  int abi;
  void (*network_fit)(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&);
  void (*network_influence)(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                            const std::string&, const std::string&);
  void (*network_loo)(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                      const std::string&, const std::string&);
  void (*network_relatedness)(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                              const std::string&, bool, const NetworkTrajectory&);
  void (*network_lds)(const DataOptions&, const ModelOptions&, const OutputOptions&, int, double, std::uint64_t,
                      const std::string&, const std::string&);
  void (*mtl_fit)(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&);
  void (*mtl_relatedness)(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                          const std::string&);
  std::unique_ptr<SelectionBackend> (*network_selection_backend)(const DataOptions&, const ModelOptions&, bool);
};

}  // namespace mtif::cli
