// Reader for NumPy's .npy format (versions 1.0, 2.0 and 3.0), strict about
// its header, and the .npy form of a multitask data set.
//
// Every problem is a DataError of one line that starts with the file name and,
// where it applies, the byte offset in the file ("X.npy: byte 23: ...") or the
// row and column of a bad value.
#pragma once

#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mtif/csv_reader.hpp"
#include "mtif/dataset.hpp"

namespace mtif {

// What the header of a .npy file says, checked against the file's size.
struct NpyHeader {
  std::string path;
  char kind = 'f';          // 'f' float, 'i' signed integer, 'u' unsigned integer
  int item_size = 8;        // bytes per element
  std::vector<Index> shape; // one or two dimensions
  size_t data_offset = 0;   // byte where the data starts

  Index rows() const { return shape.empty() ? 0 : shape[0]; }
  Index cols() const { return shape.size() == 2 ? shape[1] : 1; }
  std::string shape_text() const;  // "(3, 4)" or "(3,)" as NumPy writes it
};

NpyHeader read_npy_header(const std::string& path);
// The same from an open stream (read from its byte 0; the fuzzer passes memory):
// `path` names it in messages. The path-based reader is this on an std::ifstream.
NpyHeader read_npy_header(std::istream& in, const std::string& path);

// Rows [row_begin, row_end) of a 1-D (as one column) or 2-D array, converted to
// double. Only those rows are read from the file.
using NpyRows = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
NpyRows read_npy_rows(const NpyHeader& header, Index row_begin, Index row_end);
// The same rows converted into out (row-major, (row_end - row_begin) x cols doubles).
void read_npy_values(const NpyHeader& header, Index row_begin, Index row_end, double* out);
// Both from `in`, the stream the header was read from (the overloads above open header.path).
NpyRows read_npy_rows(const NpyHeader& header, std::istream& in, Index row_begin, Index row_end);
void read_npy_values(const NpyHeader& header, std::istream& in, Index row_begin, Index row_end, double* out);

// The files of a data set folder: on disk in `dir`, or, with in_memory, the
// bytes in `files` (name -> contents; the fuzzer), read by the same code.
// Messages name them dir/NAME either way.
struct NpyFolder {
  std::string dir;
  bool in_memory = false;
  std::map<std::string, std::string> files;

  std::string path(const std::string& name) const;
  bool has(const std::string& name) const;
  std::unique_ptr<std::istream> open(const std::string& name) const;  // DataError when it cannot
};

// A data set stored as .npy files in one folder (documented in README, "Data"):
//   X.npy      n x d, float32 or float64, C order    features x1..xd
//   y.npy      n (or n x 1), float or integer         target
//   task.npy   n (or n x 1), integer task id 0..K-1
//   tasks.txt  optional: line i+1 is the label of task id i (default: the id)
// `tasks_of`, when given, fixes the task labels (a test folder uses the
// training folder's tasks, and its ids must be below their count).
// `row_begin`/`row_end` (end < 0: to the end) read only those rows of X.npy and
// y.npy -- one MPI rank's share -- renumbered from 0 like slice_file_rows, with
// task_size holding the whole set's n_k (task.npy is read whole for them).
Dataset read_npy_dataset(const std::string& dir, const Dataset* tasks_of = nullptr, Index row_begin = 0,
                         Index row_end = -1);
Dataset read_npy_dataset(const NpyFolder& folder, const Dataset* tasks_of = nullptr, Index row_begin = 0,
                         Index row_end = -1);

// Rows of the data set in `dir` (from the header of X.npy).
Index npy_dataset_rows(const std::string& dir);

// Training and test folders; every training task must have rows.
TrainTest read_npy_train_test(const std::string& train_dir, const std::string& test_dir, Index row_begin = 0,
                              Index row_end = -1);

}  // namespace mtif
