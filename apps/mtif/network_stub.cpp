// Builds without LibTorch (MTIF_WITH_TORCH=OFF: sanitizer and fuzz builds).
#include <stdexcept>

#include "network.hpp"
#include "selection_backend.hpp"

namespace mtif::cli {
namespace {
[[noreturn]] void unavailable() {
  throw std::runtime_error("this mtif was built without LibTorch: --model mlp is unavailable (rebuild with "
                           "-DMTIF_WITH_TORCH=ON after scripts/setup.sh)");
}
}  // namespace
void network_fit(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&) { unavailable(); }
void network_influence(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                       const std::string&, const std::string&) {
  unavailable();
}
void network_loo(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&, const std::string&,
                 const std::string&) {
  unavailable();
}
void network_relatedness(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                         const std::string&, bool, const NetworkTrajectory&) {
  unavailable();
}
void network_lds(const DataOptions&, const ModelOptions&, const OutputOptions&, int, double, std::uint64_t,
                 const std::string&) {
  unavailable();
}
std::unique_ptr<SelectionBackend> network_selection_backend(const DataOptions&, const ModelOptions&, bool) {
  unavailable();
}
}  // namespace mtif::cli
