// Internal: LibTorch helpers shared by the VMTL and feedback models.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "mtif/dataset.hpp"

namespace mtif {

// Gumbel-softmax over the last dimension: softmax((logits + g) / tau) with
// g = -log(-log(u)), u ~ U(0,1) from torch's global generator. Logits of
// -infinity (masked entries) get weight 0.
torch::Tensor gumbel_softmax(const torch::Tensor& logits, double tau);

// Seeds torch's global generator for a repeatable draw and puts the
// previous state back on destruction, so that scoring a model in the middle
// of training (epoch selection) does not restart the training's noise.
class SeededDraws {
 public:
  explicit SeededDraws(std::uint64_t seed) : generator_(at::detail::getDefaultCPUGenerator()) {
    saved_ = generator_.get_state();
    torch::manual_seed(seed);
  }
  ~SeededDraws() { generator_.set_state(saved_); }
  SeededDraws(const SeededDraws&) = delete;
  SeededDraws& operator=(const SeededDraws&) = delete;

 private:
  at::Generator generator_;
  torch::Tensor saved_;
};

// Features and integer labels of a Dataset as double / long tensors.
torch::Tensor features_tensor(const Dataset& data);
torch::Tensor labels_tensor(const Dataset& data);

}  // namespace mtif
