#include "support/test_data.hpp"

namespace mtif::test {

TrainTest make_data(int tasks, int features, std::vector<int> rows, int test_rows, LossKind loss, std::uint64_t seed) {
  SyntheticConfig c;
  c.tasks = tasks;
  c.features = features;
  c.train_rows = std::move(rows);
  c.test_rows_per_task = test_rows;
  c.loss = loss;
  c.seed = seed;
  c.conflicting_tasks = tasks > 2 ? 1 : 0;
  return generate_synthetic(c).data;
}

}  // namespace mtif::test
