// The subcommands' path for --model vmtl|feedback and relatedness --method
// vmtl|feedback. Built with LibTorch into the plugin (mtl_models.cpp); network_loader.cpp
// forwards to it and says what is missing when the plugin is not there.
#pragma once

#include <string>

#include "options.hpp"

namespace mtif::cli {

bool is_mtl_model(const std::string& name);  // vmtl | feedback
void mtl_fit(const DataOptions& data, const ModelOptions& model, const OutputOptions& out, const std::string& save);
// method: vmtl | feedback (trains that model whatever --model says).
void mtl_relatedness(const DataOptions& data, const ModelOptions& model, const OutputOptions& out,
                     const std::string& method, const std::string& matrix_path);

}  // namespace mtif::cli
