// Small generated data sets for tests.
#pragma once

#include "mtif/synthetic.hpp"

#include <ostream>

namespace mtif::test {

// A data shape for parameterised tests: tasks, features, train rows per task.
struct Shape {
  const char* name;
  int tasks, features;
  std::vector<int> rows;
};
inline void PrintTo(const Shape& s, std::ostream* os) { *os << s.name; }

// Synthetic data of a given shape; rows may differ per task.
TrainTest make_data(int tasks, int features, std::vector<int> rows, int test_rows = 30,
                    LossKind loss = LossKind::Squared, std::uint64_t seed = 1);

}  // namespace mtif::test
