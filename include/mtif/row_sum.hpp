// Sums over training rows that may live in several processes.
//
// A training set can be split by rows across the processes of an MPI launch
// (each holds a Dataset slice, see slice_file_rows). Every quantity that the
// linear model sums over rows -- the objective, the gradient, the Gram blocks
// of the Hessian -- is first summed over the local rows, then combined with a
// RowSum so that every process ends up with the same total. The default
// (nullptr everywhere it is taken) is one process holding every row.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace mtif {

class RowSum {
 public:
  virtual ~RowSum() = default;
  // Replaces `values` (count doubles) by their sum over all processes. The
  // result must be identical on every process and reproducible run to run.
  virtual void sum(double* values, size_t count) const = 0;
};

// Sums a list of equally sized matrices (or vectors) in one call.
template <typename Matrix>
void sum_over_rows(const RowSum* rows, std::vector<Matrix>& blocks) {
  if (!rows || blocks.empty()) return;
  size_t total = 0;
  for (const auto& b : blocks) total += static_cast<size_t>(b.size());
  std::vector<double> buffer(total);
  size_t at = 0;
  for (const auto& b : blocks) {
    Eigen::Map<Matrix>(buffer.data() + at, b.rows(), b.cols()) = b;
    at += static_cast<size_t>(b.size());
  }
  rows->sum(buffer.data(), total);
  at = 0;
  for (auto& b : blocks) {
    b = Eigen::Map<const Matrix>(buffer.data() + at, b.rows(), b.cols());
    at += static_cast<size_t>(b.size());
  }
}

}  // namespace mtif
