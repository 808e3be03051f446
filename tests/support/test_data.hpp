// Small generated data sets for tests.
#pragma once

#include "mtif/synthetic.hpp"

namespace mtif::test {

// Synthetic data of a given shape; rows may differ per task.
TrainTest make_data(int tasks, int features, std::vector<int> rows, int test_rows = 30,
                    LossKind loss = LossKind::Squared, std::uint64_t seed = 1);

}  // namespace mtif::test
