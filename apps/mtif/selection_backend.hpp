// What `mtif select` and `mtif sources` need from a fitted model, so the same
// selection logic and summaries serve the linear model (cmd_select.cpp) and
// the shared-bottom network (network.cpp).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mtif/linear_influence.hpp"
#include "mtif/selection.hpp"
#include "mtif/validation.hpp"
#include "options.hpp"

namespace mtif::cli {

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

  nlohmann::json timings = nlohmann::json::object();
  nlohmann::json warnings = nlohmann::json::array();
};

// --model mlp (network.cpp, in the plugin; network_loader.cpp forwards to it).
std::unique_ptr<SelectionBackend> network_selection_backend(const DataOptions& data, const ModelOptions& model,
                                                            bool quiet);

}  // namespace mtif::cli
