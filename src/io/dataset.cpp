#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "mtif/dataset.hpp"

namespace mtif {

int Dataset::task_of_row(Index stored_row) const {
  auto it = std::upper_bound(task_begin.begin(), task_begin.end(), stored_row);
  return static_cast<int>(it - task_begin.begin()) - 1;
}

std::vector<Index> Dataset::stored_row_of_file_row() const {
  std::vector<Index> inverse(file_row.size());
  for (size_t i = 0; i < file_row.size(); ++i) inverse[file_row[i]] = static_cast<Index>(i);
  return inverse;
}

Dataset make_dataset_layout(const RawRows& raw, std::string source) {
  const Index n = static_cast<Index>(raw.y.size());
  const Index d = static_cast<Index>(raw.feature_names.size());
  const int K = static_cast<int>(raw.task_names.size());
  Dataset data;
  data.source = std::move(source);
  data.feature_names = raw.feature_names;
  data.task_names = raw.task_names;
  data.task_begin.assign(K + 1, 0);
  for (int t : raw.task) ++data.task_begin[t + 1];
  std::partial_sum(data.task_begin.begin(), data.task_begin.end(), data.task_begin.begin());

  data.X.resize(n, d);
  data.y.resize(n);
  data.file_row.resize(n);
  std::vector<Index> next(data.task_begin.begin(), data.task_begin.end() - 1);
  for (Index i = 0; i < n; ++i) {
    const Index row = next[raw.task[i]]++;
    data.file_row[row] = i;
    data.y(row) = raw.y[i];
  }
  return data;
}

void fill_rows(Dataset& data, const std::vector<Index>& stored_row, Index first, Index count, const double* rows) {
  // X is column-major and the input row-major: copy blocks of rows column by column, so reads
  // stay in cache and writes run along the columns (a row at a time strides n doubles per value).
  constexpr Index kBlock = 256;
  const Index d = data.num_features();
  for (Index b = 0; b < count; b += kBlock) {
    const Index e = std::min(count, b + kBlock);
    for (Index j = 0; j < d; ++j) {
      double* column = data.X.col(j).data();
      for (Index i = b; i < e; ++i) column[stored_row[first + i]] = rows[i * d + j];
    }
  }
}

Dataset make_dataset(const RawRows& raw, std::string source) {
  Dataset data = make_dataset_layout(raw, std::move(source));
  fill_rows(data, data.stored_row_of_file_row(), 0, data.num_rows(), raw.values.data());
  return data;
}

void add_intercept(Dataset& data) {
  data.X.conservativeResize(Eigen::NoChange, data.X.cols() + 1);
  data.X.col(data.X.cols() - 1).setOnes();
  data.feature_names.push_back("(intercept)");
}

Dataset drop_rows(const Dataset& data, const std::vector<Index>& stored_rows) {
  std::vector<char> drop(data.num_rows(), 0);
  for (Index r : stored_rows) {
    if (r < 0 || r >= data.num_rows()) throw std::out_of_range("drop_rows: row index out of range");
    drop[r] = 1;
  }
  Dataset out;
  out.source = data.source;
  out.feature_names = data.feature_names;
  out.task_names = data.task_names;
  const Index kept = data.num_rows() - std::count(drop.begin(), drop.end(), 1);
  out.X.resize(kept, data.num_features());
  out.y.resize(kept);
  out.task_begin.assign(data.num_tasks() + 1, 0);
  Index row = 0;
  for (int k = 0; k < data.num_tasks(); ++k) {
    out.task_begin[k] = row;
    for (Index i = data.task_begin[k]; i < data.task_begin[k + 1]; ++i) {
      if (drop[i]) continue;
      out.X.row(row) = data.X.row(i);
      out.y(row) = data.y(i);
      out.file_row.push_back(data.file_row[i]);
      ++row;
    }
  }
  out.task_begin[data.num_tasks()] = row;
  // The result is a data set of its own: renumber file rows 0..kept-1, keeping their order.
  std::vector<Index> order(out.file_row.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return out.file_row[a] < out.file_row[b]; });
  for (size_t rank = 0; rank < order.size(); ++rank) out.file_row[order[rank]] = static_cast<Index>(rank);
  return out;
}

Dataset slice_file_rows(const Dataset& data, Index begin, Index end) {
  if (begin < 0 || end > data.num_rows() || begin > end) throw std::out_of_range("slice_file_rows: bad row range");
  Dataset out;
  out.source = data.source;
  out.feature_names = data.feature_names;
  out.task_names = data.task_names;
  out.X.resize(end - begin, data.num_features());
  out.y.resize(end - begin);
  out.task_begin.assign(data.num_tasks() + 1, 0);
  Index row = 0;
  for (int k = 0; k < data.num_tasks(); ++k) {
    out.task_begin[k] = row;
    out.task_size.push_back(data.task_n(k));
    for (Index i = data.task_begin[k]; i < data.task_begin[k + 1]; ++i) {
      if (data.file_row[i] < begin || data.file_row[i] >= end) continue;
      out.X.row(row) = data.X.row(i);
      out.y(row) = data.y(i);
      out.file_row.push_back(data.file_row[i] - begin);
      ++row;
    }
  }
  out.task_begin[data.num_tasks()] = row;
  return out;
}

}  // namespace mtif
