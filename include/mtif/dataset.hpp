// A multitask data set: features, targets and a task id per row.
//
// Rows are stored grouped by task (all rows of task 0, then task 1, ...), so
// the rows of one task are a contiguous block X.middleRows(begin, n_k) that the
// per-task linear algebra uses without copying. `file_row` maps each stored row
// back to its position in the input file, which is what every output reports.
#pragma once

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace mtif {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

struct Dataset {
  std::string source;                      // file name or generator description
  std::vector<std::string> feature_names;  // one per column of X
  std::vector<std::string> task_names;     // task id -> label; shared by train and test
  MatrixXd X;                              // rows grouped by task
  VectorXd y;
  std::vector<Index> task_begin;           // size K+1; task k owns [task_begin[k], task_begin[k+1])
  std::vector<Index> file_row;             // stored row -> 0-based row index in file order
  // n_k of the whole training set when this Dataset holds only some of its
  // rows (one MPI rank's slice); empty: every row is here. The objective's
  // 1/n_k uses it, so slices and the whole set describe the same objective.
  std::vector<Index> task_size;

  int num_tasks() const { return static_cast<int>(task_names.size()); }
  Index num_rows() const { return X.rows(); }
  Index num_features() const { return X.cols(); }
  Index task_rows(int k) const { return task_begin[k + 1] - task_begin[k]; }  // rows held here
  Index task_n(int k) const { return task_size.empty() ? task_rows(k) : task_size[k]; }  // n_k of the objective
  auto task_X(int k) const { return X.middleRows(task_begin[k], task_rows(k)); }
  auto task_y(int k) const { return y.segment(task_begin[k], task_rows(k)); }
  int task_of_row(Index stored_row) const;

  // Stored row index of each file row (inverse of file_row).
  std::vector<Index> stored_row_of_file_row() const;
};

// One row of raw input before grouping: used by readers and generators.
struct RawRows {
  std::vector<std::string> feature_names;
  std::vector<double> values;  // row-major, feature_names.size() per row
  std::vector<double> y;
  std::vector<int> task;       // index into task_names
  std::vector<std::string> task_names;
};

// Groups rows by task (stable: rows keep their file order inside a task).
Dataset make_dataset(const RawRows& raw, std::string source);
// The same grouping with X sized but not filled (raw.values is not read), for readers that
// produce the features in pieces; fill_rows then copies `count` row-major rows, file rows
// first .. first + count - 1, to their stored rows (stored_row = stored_row_of_file_row()).
Dataset make_dataset_layout(const RawRows& raw, std::string source);
void fill_rows(Dataset& data, const std::vector<Index>& stored_row, Index first, Index count, const double* rows);

// Appends a constant-1 column named "(intercept)" (mtif-math.md 1.1: it is a
// feature like any other and is penalised like any other).
void add_intercept(Dataset& data);

// Copy of `data` without the rows whose stored index is listed (sorted or not).
// Task ids and names are kept, so a task may end up with zero rows.
Dataset drop_rows(const Dataset& data, const std::vector<Index>& stored_rows);

// The rows whose file row lies in [begin, end), renumbered from 0 (file row
// begin becomes 0), with task_size set to the n_k of `data`: one process's
// share of a training set split by rows.
Dataset slice_file_rows(const Dataset& data, Index begin, Index end);

struct TrainTest {
  Dataset train;
  Dataset test;
};

}  // namespace mtif
