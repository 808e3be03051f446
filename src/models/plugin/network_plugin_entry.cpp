// The one symbol libmtif_network.so exports (the rest of the plugin is built
// with hidden visibility, so its own definitions of network_fit & co. are
// not confused with the loader's functions of the same names in `mtif`).
#include "mtl_models.hpp"
#include "network.hpp"
#include "network_plugin.hpp"

extern "C" __attribute__((visibility("default"))) const mtif::cli::NetworkPlugin* mtif_network_plugin() {
  using namespace mtif::cli;
  static const NetworkPlugin table{kNetworkPluginAbi,    &network_fit, &network_influence, &network_loo,
                                   &network_relatedness, &network_lds, &mtl_fit,           &mtl_relatedness,
                                   &network_selection_backend};
  return &table;
}
