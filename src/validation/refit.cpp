#include <stdexcept>
#include <string>

#include "mtif/progress.hpp"
#include "mtif/validation.hpp"

namespace mtif {

MatrixXd leave_one_out(const LinearModel& full, const Dataset& train, const Dataset& test, const Targets& targets,
                       const std::vector<Index>& rows) {
  const VectorXd base = target_losses(full, test, targets);
  const std::vector<Index> stored = train.stored_row_of_file_row();
  MatrixXd out(rows.size(), targets.size());
  std::string error;
  Progress progress("leave-one-out refits", rows.size());
#pragma omp parallel for schedule(dynamic)
  for (Index i = 0; i < Index(rows.size()); ++i) {
    VectorXd weight = VectorXd::Ones(train.num_rows());
    weight(stored[rows[i]]) = 0.0;
    // An exception must not leave the OpenMP region (std::terminate): a Newton
    // step's block factorisation throws on a numerically singular Hessian.
    try {
      LinearModel refit = fit_linear(train, full.config, &weight, &full);
      if (!refit.report.converged) {
#pragma omp critical
        error = "refit without train row " + std::to_string(rows[i]) + " " + describe(refit.report);
      }
      out.row(i) = (target_losses(refit, test, targets) - base).transpose();
    } catch (const std::exception& e) {
#pragma omp critical
      error = "refit without train row " + std::to_string(rows[i]) + ": " + e.what();
    }
    progress.add();
  }
  if (!error.empty()) throw std::runtime_error(error);
  return out;
}

}  // namespace mtif
