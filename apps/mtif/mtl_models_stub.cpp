// Builds without LibTorch (MTIF_WITH_TORCH=OFF: sanitizer and fuzz builds).
#include <stdexcept>

#include "mtl_models.hpp"

namespace mtif::cli {
namespace {
[[noreturn]] void unavailable() {
  throw std::runtime_error("this mtif was built without LibTorch: vmtl and feedback are unavailable (rebuild with "
                           "-DMTIF_WITH_TORCH=ON after scripts/setup.sh)");
}
}  // namespace
bool is_mtl_model(const std::string& name) { return name == "vmtl" || name == "feedback"; }
void mtl_fit(const DataOptions&, const ModelOptions&, const OutputOptions&) { unavailable(); }
void mtl_relatedness(const DataOptions&, const ModelOptions&, const OutputOptions&, const std::string&,
                     const std::string&) {
  unavailable();
}
}  // namespace mtif::cli
