#include "mtif/selection.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace mtif {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Task of every training row, in file order.
std::vector<int> file_row_tasks(const Dataset& train) {
  std::vector<int> task(train.num_rows());
  for (int k = 0; k < train.num_tasks(); ++k)
    for (Index i = train.task_begin[k]; i < train.task_begin[k + 1]; ++i) task[train.file_row[i]] = k;
  return task;
}

// AUC by the rank-sum (Mann-Whitney) formula, ties counted half.
double auc(const VectorXd& f, const VectorXd& y) {
  std::vector<Index> order(f.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return f(a) < f(b); });
  double positive_rank_sum = 0, positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && f(order[j]) == f(order[i])) ++j;
    const double rank = 0.5 * double(i + 1 + j);  // average 1-based rank of the tie group
    for (size_t m = i; m < j; ++m)
      if (y(order[m]) == 1.0) positive_rank_sum += rank, positives += 1;
    i = j;
  }
  const double negatives = double(f.size()) - positives;
  if (positives == 0 || negatives == 0) return kNaN;
  return (positive_rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

}  // namespace

std::vector<char> candidate_rows(const Dataset& train, int target_task, bool include_own) {
  const std::vector<int> task = file_row_tasks(train);
  std::vector<char> out(task.size(), 1);
  if (target_task >= 0 && !include_own)
    for (size_t r = 0; r < task.size(); ++r) out[r] = task[r] != target_task;
  return out;
}

VectorXd combined_score(const ScoreMatrix& scores, const std::vector<int>& columns) {
  VectorXd out = VectorXd::Zero(scores.rows());
  for (int c : columns) out += scores.col(c);
  return out;
}

VectorXd combined_transfer_score(const ScoreMatrix& scores, const std::vector<int>& columns,
                                 const std::vector<int>& column_task, const std::vector<int>& row_task) {
  VectorXd out = VectorXd::Zero(scores.rows());
  for (Index r = 0; r < scores.rows(); ++r)
    for (int c : columns)
      if (column_task[c] != row_task[r]) out(r) += scores(r, c);
  return out;
}

std::pair<Dataset, Dataset> split_alternate(const Dataset& data) {
  std::vector<Index> odd, even;  // positions 1, 3, ... and 0, 2, ... inside each task
  for (int k = 0; k < data.num_tasks(); ++k)
    for (Index i = data.task_begin[k]; i < data.task_begin[k + 1]; ++i)
      ((i - data.task_begin[k]) % 2 ? odd : even).push_back(i);
  return {drop_rows(data, odd), drop_rows(data, even)};
}

std::vector<char> negative_in_both(const VectorXd& a, const VectorXd& b) {
  std::vector<char> out(a.size());
  for (Index r = 0; r < a.size(); ++r) out[r] = a(r) < 0 && b(r) < 0;
  return out;
}

std::vector<Index> select_harmful(const VectorXd& score, const std::vector<char>& candidate, Index max_rows) {
  std::vector<Index> rows;
  for (Index r = 0; r < score.size(); ++r)
    if (candidate[r] && score(r) < 0) rows.push_back(r);
  // Most negative first; ties by row index so the choice is deterministic.
  std::stable_sort(rows.begin(), rows.end(), [&](Index a, Index b) { return score(a) < score(b); });
  if (Index(rows.size()) > max_rows) rows.resize(std::max<Index>(max_rows, 0));
  return rows;
}

std::vector<Index> select_random(const std::vector<char>& candidate, Index count, std::uint64_t seed) {
  std::vector<Index> pool;
  for (Index r = 0; r < Index(candidate.size()); ++r)
    if (candidate[r]) pool.push_back(r);
  std::mt19937_64 rng(seed);
  count = std::min<Index>(count, pool.size());
  // Partial Fisher-Yates: the first `count` entries are a uniform sample.
  for (Index i = 0; i < count; ++i) {
    std::uniform_int_distribution<Index> pick(i, Index(pool.size()) - 1);
    std::swap(pool[i], pool[pick(rng)]);
  }
  pool.resize(count);
  return pool;
}

std::vector<Index> select_largest(const VectorXd& value, const std::vector<char>& candidate, Index count) {
  std::vector<Index> rows;
  for (Index r = 0; r < value.size(); ++r)
    if (candidate[r]) rows.push_back(r);
  std::stable_sort(rows.begin(), rows.end(), [&](Index a, Index b) { return value(a) > value(b); });
  if (Index(rows.size()) > count) rows.resize(std::max<Index>(count, 0));
  return rows;
}

std::vector<int> select_tasks(const MatrixXd& task_matrix, const std::vector<int>& columns,
                              const std::vector<char>& allowed_task, const Dataset& train, Index max_rows) {
  std::vector<int> harmful;
  VectorXd effect = VectorXd::Zero(task_matrix.rows());
  for (int c : columns) effect += task_matrix.col(c);
  for (int l = 0; l < int(effect.size()); ++l)
    if (allowed_task[l] && effect(l) < 0) harmful.push_back(l);
  std::stable_sort(harmful.begin(), harmful.end(), [&](int a, int b) { return effect(a) < effect(b); });
  std::vector<int> out;
  Index used = 0;
  for (int l : harmful) {
    if (used + train.task_rows(l) > max_rows) continue;
    out.push_back(l);
    used += train.task_rows(l);
  }
  if (out.empty() && !harmful.empty()) out.push_back(harmful.front());
  return out;
}

std::vector<Index> rows_of_tasks(const Dataset& train, const std::vector<int>& tasks) {
  std::vector<Index> rows;
  for (int k : tasks)
    for (Index i = train.task_begin[k]; i < train.task_begin[k + 1]; ++i) rows.push_back(train.file_row[i]);
  std::sort(rows.begin(), rows.end());
  return rows;
}

VectorXd row_training_loss(const LinearModel& model, const Dataset& train) {
  const VectorXd f = model.predict(train);
  VectorXd out(train.num_rows());
  for (Index i = 0; i < train.num_rows(); ++i)
    out(train.file_row[i]) = loss_value(model.config.loss, f(i), train.y(i));
  return out;
}

SplitEvaluation evaluate(const LinearModel& model, const Dataset& data) {
  const VectorXd f = model.predict(data);
  VectorXd row_loss(data.num_rows());
  for (Index i = 0; i < data.num_rows(); ++i) row_loss(i) = loss_value(model.config.loss, f(i), data.y(i));
  return evaluate_outputs(row_loss, f, data, model.config.loss == LossKind::Squared);
}

SplitEvaluation evaluate_outputs(const VectorXd& row_loss, const MatrixXd& outputs, const Dataset& data, bool squared) {
  const int K = data.num_tasks();
  SplitEvaluation e;
  e.loss = e.rmse = e.accuracy = e.auc = VectorXd::Constant(K, kNaN);
  for (int k = 0; k < K; ++k) {
    const Index b = data.task_begin[k], n = data.task_rows(k);
    if (n == 0) continue;
    e.loss(k) = row_loss.segment(b, n).mean();
    const VectorXd yk = data.task_y(k);
    if (squared) {
      e.rmse(k) = std::sqrt((outputs.col(0).segment(b, n) - yk).squaredNorm() / double(n));
    } else if (outputs.cols() == 1) {
      const VectorXd fk = outputs.col(0).segment(b, n);
      double correct = 0;
      for (Index i = 0; i < n; ++i) correct += (fk(i) > 0) == (yk(i) == 1.0);
      e.accuracy(k) = correct / double(n);
      e.auc(k) = auc(fk, yk);
    } else {
      double correct = 0;
      for (Index i = 0; i < n; ++i) {
        Index predicted = 0;
        outputs.row(b + i).maxCoeff(&predicted);
        correct += double(predicted) == yk(i);
      }
      e.accuracy(k) = correct / double(n);
    }
  }
  return e;
}

double mean_over(const VectorXd& per_task, const std::vector<int>& tasks) {
  double sum = 0;
  int count = 0;
  for (int k : tasks)
    if (std::isfinite(per_task(k))) sum += per_task(k), ++count;
  return count ? sum / count : kNaN;
}

LinearModel refit_without(const LinearModel& full, const Dataset& train, const std::vector<Index>& file_rows) {
  const std::vector<Index> stored = train.stored_row_of_file_row();
  VectorXd weight = VectorXd::Ones(train.num_rows());
  for (Index r : file_rows) weight(stored[r]) = 0;
  return fit_linear(train, full.config, &weight, &full);
}

PrecisionRecall precision_recall(const std::vector<Index>& flagged, const std::vector<char>& truly_harmful) {
  PrecisionRecall pr;
  pr.flagged = Index(flagged.size());
  pr.harmful = std::count(truly_harmful.begin(), truly_harmful.end(), 1);
  for (Index r : flagged) pr.hits += truly_harmful[r] == 1;
  pr.precision = pr.flagged ? double(pr.hits) / double(pr.flagged) : kNaN;
  pr.recall = pr.harmful ? double(pr.hits) / double(pr.harmful) : kNaN;
  return pr;
}

std::vector<SourceSummary> summarise_sources(const VectorXd& score, const std::vector<int>& row_task, int num_tasks) {
  std::vector<SourceSummary> out(num_tasks);
  for (int k = 0; k < num_tasks; ++k) out[k].task = k;
  for (Index r = 0; r < score.size(); ++r) {
    SourceSummary& s = out[row_task[r]];
    ++s.rows;
    s.total += score(r);
    if (score(r) > 0) s.helpful += score(r);
    if (score(r) < 0) s.harmful += score(r), ++s.harmful_rows;
  }
  return out;
}

}  // namespace mtif
