#include "mtif/synthetic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "mtif/output.hpp"

namespace mtif {
namespace {

VectorXd unit_normal(std::mt19937_64& rng, Index d) {
  std::normal_distribution<double> normal;
  VectorXd v(d);
  for (Index j = 0; j < d; ++j) v(j) = normal(rng);
  return v.normalized();
}

// Weights with the given cosine to `shared`, of norm sqrt(d) so that signals
// have unit variance per feature.
VectorXd task_weights(std::mt19937_64& rng, const VectorXd& shared, double cosine) {
  VectorXd other = unit_normal(rng, shared.size());
  other = (other - other.dot(shared) * shared).normalized();
  return std::sqrt(double(shared.size())) * (cosine * shared + std::sqrt(std::max(0.0, 1 - cosine * cosine)) * other);
}

struct Generated {
  RawRows rows;
  std::vector<char> corrupted;
};

Generated draw_rows(std::mt19937_64& rng, const SyntheticConfig& c, const std::vector<VectorXd>& weights,
                    const std::vector<int>& rows_per_task, bool with_noise) {
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  Generated g;
  for (int j = 0; j < c.features; ++j) g.rows.feature_names.push_back(fmt::format("x{}", j + 1));
  for (int k = 0; k < c.tasks; ++k) g.rows.task_names.push_back(fmt::format("task{}", k));
  // Draw task by task, then shuffle so the file interleaves tasks.
  std::vector<std::tuple<int, std::vector<double>, double, char>> drawn;
  for (int k = 0; k < c.tasks; ++k) {
    for (int i = 0; i < rows_per_task[k]; ++i) {
      VectorXd x(c.features);
      for (int j = 0; j < c.features; ++j) x(j) = normal(rng) / std::sqrt(double(c.features));
      double f = x.dot(weights[k]);
      bool corrupt = with_noise && uniform(rng) < c.label_noise;
      double y;
      if (c.loss == LossKind::Squared) {
        y = (corrupt ? -3.0 * f : f) + c.noise_std * normal(rng);
      } else {
        y = uniform(rng) < 1.0 / (1.0 + std::exp(-3.0 * f)) ? 1.0 : 0.0;
        if (corrupt) y = 1.0 - y;
      }
      drawn.emplace_back(k, std::vector<double>(x.data(), x.data() + x.size()), y, corrupt);
    }
  }
  std::shuffle(drawn.begin(), drawn.end(), rng);
  for (auto& [k, x, y, corrupt] : drawn) {
    g.rows.task.push_back(k);
    g.rows.values.insert(g.rows.values.end(), x.begin(), x.end());
    g.rows.y.push_back(y);
    g.corrupted.push_back(corrupt);
  }
  return g;
}

}  // namespace

SyntheticData generate_synthetic(const SyntheticConfig& c) {
  if (c.tasks < 1 || c.features < 1 || c.test_rows_per_task < 1)
    throw std::invalid_argument("synthetic data needs at least one task, feature and test row");
  std::vector<int> rows_per_task(c.tasks, c.train_rows.empty() ? 100 : c.train_rows[0]);
  if (c.train_rows.size() > 1) {
    if (int(c.train_rows.size()) != c.tasks)
      throw std::invalid_argument("give one train row count, or one per task");
    rows_per_task = c.train_rows;
  }
  std::mt19937_64 rng(c.seed);
  VectorXd shared = unit_normal(rng, c.features);
  std::vector<VectorXd> weights;
  SyntheticData out;
  for (int k = 0; k < c.tasks; ++k) {
    bool conflicting = k >= c.tasks - c.conflicting_tasks;
    if (conflicting) out.conflicting_tasks.push_back(k);
    weights.push_back(task_weights(rng, shared, conflicting ? -c.similarity : c.similarity));
  }
  Generated train = draw_rows(rng, c, weights, rows_per_task, true);
  Generated test = draw_rows(rng, c, weights, std::vector<int>(c.tasks, c.test_rows_per_task), false);
  out.corrupted = train.corrupted;
  out.description = fmt::format(
      "synthetic {} data: {} tasks x {} features, seed {}; task weights at cosine {} to a shared direction; "
      "{} conflicting task(s) at cosine -{}; {:.0f}% of training labels corrupted",
      loss_name(c.loss), c.tasks, c.features, c.seed, c.similarity, c.conflicting_tasks, c.similarity,
      100 * c.label_noise);
  out.data.train = make_dataset(train.rows, "synthetic train");
  out.data.test = make_dataset(test.rows, "synthetic test");
  return out;
}

void write_dataset_csv(const Dataset& data, const std::string& path) {
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "task,y");
  for (const auto& f : data.feature_names) fmt::format_to(std::back_inserter(buf), ",{}", csv_quote(f));
  buf.push_back('\n');
  auto stored = data.stored_row_of_file_row();
  for (Index fr = 0; fr < data.num_rows(); ++fr) {
    Index i = stored[fr];
    fmt::format_to(std::back_inserter(buf), "{},{}", csv_quote(data.task_names[data.task_of_row(i)]), data.y(i));
    for (Index j = 0; j < data.num_features(); ++j) fmt::format_to(std::back_inserter(buf), ",{}", data.X(i, j));
    buf.push_back('\n');
    if (buf.size() > (1 << 20)) file.write(buf);
  }
  file.write(buf);
  file.commit();
}

}  // namespace mtif
