// What `mtif select` and `mtif sources` need from a fitted model, so the same
// selection logic and summaries serve the linear model (LinearSelection below)
// and the shared-bottom network (src/models/plugin/network.cpp).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/selection.hpp"
#include "mtif/validation.hpp"

namespace mtif {

class SelectionBackend {
 public:
  virtual ~SelectionBackend() = default;
  virtual const TrainTest& data() const = 0;
  virtual bool squared() const = 0;
  // First-order scores of every training row (file order) against the mean
  // loss of each task with rows in `eval`; `tasks` receives each column's task.
  virtual InfluenceScores scores(const Dataset& eval, std::vector<int>& tasks) = 0;
  // Refit without the file rows (weight 0, warm start) and judge it on `valid`
  // and on the test split. No rows: the full data under the same protocol.
  virtual std::pair<SplitEvaluation, SplitEvaluation> judge(const std::string& method, const std::vector<Index>& rows,
                                                            const Dataset& valid) = 0;
  virtual VectorXd row_training_loss() const = 0;  // at the fit, file order
  // Leave-one-task-out on `valid`: K sources x the tasks with validation rows.
  virtual Relatedness task_matrix(const Dataset& valid) = 0;
  virtual std::string task_matrix_name() const = 0;  // how task_matrix is computed
  virtual std::string removal() const = 0;           // how a refit without rows is done
  // How the refits ended, where they can stop short (networks); null where a
  // refit that does not converge is an error instead (the linear model).
  virtual nlohmann::json refit_stops() const { return nullptr; }

  nlohmann::json timings = nlohmann::json::object();
  nlohmann::json warnings = nlohmann::json::array();
};

// The linear model behind the selection interface: exact refits (Newton,
// warm-started) and the Newton leave-one-task-out matrix (exact for squared loss).
class LinearSelection final : public SelectionBackend {
 public:
  LinearSelection(TrainTest data, LinearModel model, std::unique_ptr<BlockSchurSolver> solver);
  const TrainTest& data() const override { return data_; }
  bool squared() const override;
  InfluenceScores scores(const Dataset& eval, std::vector<int>& tasks) override;
  std::pair<SplitEvaluation, SplitEvaluation> judge(const std::string& method, const std::vector<Index>& rows,
                                                    const Dataset& valid) override;
  VectorXd row_training_loss() const override;
  Relatedness task_matrix(const Dataset& valid) override;
  std::string task_matrix_name() const override { return "Newton leave-one-task-out on the validation split"; }
  std::string removal() const override { return "weight 0, refit warm-started; 1/n_k kept"; }

 private:
  TrainTest data_;
  LinearModel model_;
  std::unique_ptr<BlockSchurSolver> solver_;
};

// Combined first-order score of every training row (file order) against the
// validation loss of the target task(s) in `valid` (target < 0: all tasks).
// With a target task the candidates are other tasks' rows (unless
// include_own), so the plain sum is their transfer; for all tasks each row
// counts only its effect on the other tasks unless include_own.
VectorXd selection_score(SelectionBackend& model, const Dataset& valid, int target, bool include_own);

}  // namespace mtif
