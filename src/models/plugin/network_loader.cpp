// `mtif`'s side of the neural models: the functions of network.hpp and
// mtl_models.hpp, forwarded to libmtif_network.so, which is loaded on first
// use (see network_plugin.hpp for why it is a plugin).
#include <dlfcn.h>
#include <fmt/format.h>
#include <limits.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "mtl_models.hpp"
#include "network.hpp"
#include "network_plugin.hpp"

namespace mtif::cli {

namespace {

// Beside the executable (build tree and install alike), unless MTIF_PLUGIN_DIR says otherwise.
std::filesystem::path plugin_path() {
  if (const char* dir = std::getenv("MTIF_PLUGIN_DIR")) return std::filesystem::path(dir) / kNetworkPluginFile;
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return kNetworkPluginFile;
  self[n] = '\0';
  return std::filesystem::path(self).parent_path() / kNetworkPluginFile;
}

const NetworkPlugin& plugin() {
  static const NetworkPlugin* loaded = [] {
    const std::filesystem::path path = plugin_path();
    if (!std::filesystem::exists(path))
      throw std::runtime_error(fmt::format(
          "the neural models (--model mlp|vmtl|feedback) are not in this build: {} is missing (build with LibTorch: "
          "-DMTIF_WITH_TORCH=ON after scripts/setup.sh)", path.string()));
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) throw std::runtime_error(fmt::format("cannot load {}: {}", path.string(), ::dlerror()));
    using Entry = const NetworkPlugin* (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, kNetworkPluginSymbol));
    if (!entry) throw std::runtime_error(fmt::format("{} has no {} (not an mtif plugin?)", path.string(),
                                                     kNetworkPluginSymbol));
    const NetworkPlugin* table = entry();
    if (table->abi != kNetworkPluginAbi)
      throw std::runtime_error(fmt::format("{} is from another mtif build (plugin ABI {}, this mtif {}): rebuild",
                                           path.string(), table->abi, kNetworkPluginAbi));
    return table;  // the handle stays open for the life of the process
  }();
  return *loaded;
}

}  // namespace

bool is_mtl_model(const std::string& name) { return name == "vmtl" || name == "feedback"; }

void network_fit(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                 const std::string& save) {
  plugin().network_fit(data, model, out, save);
}
void network_influence(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                       const std::string& scores_path, const std::string& targets, const std::string& mode) {
  plugin().network_influence(data, model, out, scores_path, targets, mode);
}
void network_loo(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                 const std::string& rows, const std::string& loo_path, const std::string& targets) {
  plugin().network_loo(data, model, out, rows, loo_path, targets);
}
void network_relatedness(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                         const std::string& method, const std::string& matrix_path, bool validate,
                         const NetworkTrajectory& trajectory) {
  plugin().network_relatedness(data, model, out, method, matrix_path, validate, trajectory);
}
void network_lds(const DataOptions& data, const ModelOptions& model, const OutputOptions& out, int subsets,
                 double keep, std::uint64_t seed, const std::string& lds_path, const std::string& targets) {
  plugin().network_lds(data, model, out, subsets, keep, seed, lds_path, targets);
}
void mtl_fit(const DataOptions& data, const ModelOptions& model, const OutputOptions& out, const std::string& save) {
  plugin().mtl_fit(data, model, out, save);
}
void mtl_relatedness(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                     const std::string& method, const std::string& matrix_path) {
  plugin().mtl_relatedness(data, model, out, method, matrix_path);
}

std::unique_ptr<SelectionBackend> network_selection_backend(const DataOptions& data, const ModelOptions& model,
                                                            bool quiet) {
  return plugin().network_selection_backend(data, model, quiet);
}

}  // namespace mtif::cli
