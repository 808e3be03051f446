// A list of training rows given as indices (from Python), checked like a row list.
#pragma once

#include <vector>

#include "mtif/linear_model.hpp"

namespace mtif {

// Throws std::invalid_argument "row R is outside 0..n-1" for the first index out of range.
void check_row_indices(const std::vector<Index>& rows, Index n);

}  // namespace mtif
