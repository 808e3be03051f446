#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>

#include "mtif/progress.hpp"
#include "mtif/validation.hpp"

namespace mtif {

namespace {
// Stored-order weights with round((1 - keep) n_k) rows of every task set to 0.
VectorXd random_subset_weight(const Dataset& train, double keep_fraction, std::mt19937_64& rng) {
  VectorXd weight = VectorXd::Ones(train.num_rows());
  for (int k = 0; k < train.num_tasks(); ++k) {
    std::vector<Index> rows(train.task_rows(k));
    std::iota(rows.begin(), rows.end(), train.task_begin[k]);
    std::shuffle(rows.begin(), rows.end(), rng);
    const auto removed = static_cast<size_t>(std::lround((1.0 - keep_fraction) * double(rows.size())));
    for (size_t i = 0; i < std::min(removed, rows.size() - 1); ++i) weight(rows[i]) = 0;
  }
  return weight;
}
}  // namespace

LdsResult linear_datamodeling_score(const ScoreMatrix& scores, const Dataset& train, const VectorXd& full_losses,
                                    const RefitLosses& refit, double keep_fraction, int subsets,
                                    std::uint64_t seed) {
  if (!(keep_fraction > 0 && keep_fraction < 1)) throw std::invalid_argument("LDS: keep fraction must be in (0, 1)");
  if (subsets < 3) throw std::invalid_argument("LDS: need at least 3 subsets for a rank correlation");
  const Index T = scores.cols();
  LdsResult out;
  out.predicted.setZero(subsets, T);
  out.actual.resize(subsets, T);
  std::mt19937_64 rng(seed);
  Progress progress("LDS subset refits", subsets);
  for (int s = 0; s < subsets; ++s) {
    VectorXd weight = random_subset_weight(train, keep_fraction, rng);
    for (Index i = 0; i < train.num_rows(); ++i)
      if (weight(i) == 0) out.predicted.row(s) += scores.row(train.file_row[i]);
    out.actual.row(s) = (refit(weight) - full_losses).transpose();
    progress.add();
  }
  out.per_target.resize(T);
  for (Index t = 0; t < T; ++t) out.per_target(t) = spearman(out.predicted.col(t), out.actual.col(t));
  out.mean = T ? out.per_target.mean() : 0.0;
  return out;
}

}  // namespace mtif
