// Internal: LibTorch helpers shared by the VMTL and feedback models.
#pragma once

#include <torch/torch.h>

#include "mtif/dataset.hpp"

namespace mtif {

// Gumbel-softmax over the last dimension: softmax((logits + g) / tau) with
// g = -log(-log(u)), u ~ U(0,1) from torch's global generator. Logits of
// -infinity (masked entries) get weight 0.
torch::Tensor gumbel_softmax(const torch::Tensor& logits, double tau);

// Features and integer labels of a Dataset as double / long tensors.
torch::Tensor features_tensor(const Dataset& data);
torch::Tensor labels_tensor(const Dataset& data);

}  // namespace mtif
