// Internal: LibTorch parameter tensors to and from JSON, for the model files
// of VMTL and feedback MTL ("mtif fit --save", "--model-file").
#pragma once

#include <fmt/format.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtif {

// [{"shape": [...], "values": [...]}, ...] in the order given (row-major values).
inline nlohmann::json tensors_to_json(const std::vector<torch::Tensor>& tensors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tensors) {
    torch::Tensor c = t.detach().to(torch::kFloat64).contiguous();
    out.push_back({{"shape", c.sizes().vec()},
                   {"values", std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel())}});
  }
  return out;
}

// Copies saved values into `into` (same order), which must already have the
// saved shapes: the model file's configuration built them. `what` names the
// file's model in the errors.
inline void tensors_from_json(const nlohmann::json& saved, const std::vector<torch::Tensor>& into,
                              const std::string& what) {
  if (!saved.is_array() || saved.size() != into.size())
    throw std::runtime_error(fmt::format("{}: expected {} parameter tensors, the file has {}", what, into.size(),
                                         saved.is_array() ? saved.size() : 0));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < into.size(); ++i) {
    const auto shape = saved[i].at("shape").get<std::vector<int64_t>>();
    const auto values = saved[i].at("values").get<std::vector<double>>();
    if (shape != into[i].sizes().vec() || int64_t(values.size()) != into[i].numel())
      throw std::runtime_error(fmt::format("{}: parameter tensor {} does not match the model's configuration", what, i));
    into[i].copy_(torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64)).reshape(shape));
  }
}

}  // namespace mtif
