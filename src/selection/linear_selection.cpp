#include "mtif/selection_backend.hpp"

#include <stdexcept>

namespace mtif {

LinearSelection::LinearSelection(TrainTest data, LinearModel model, std::unique_ptr<BlockSchurSolver> solver)
    : data_(std::move(data)), model_(std::move(model)), solver_(std::move(solver)) {}

bool LinearSelection::squared() const { return model_.config.loss == LossKind::Squared; }

InfluenceScores LinearSelection::scores(const Dataset& eval, std::vector<int>& tasks) {
  Targets targets = task_targets(model_, eval);
  tasks = targets.task;
  return linear_influence(model_, data_.train, *solver_, targets, ScoreMode::FirstOrder, false);
}

std::pair<SplitEvaluation, SplitEvaluation> LinearSelection::judge(const std::string& method,
                                                                   const std::vector<Index>& rows,
                                                                   const Dataset& valid) {
  LinearModel m = rows.empty() ? model_ : refit_without(model_, data_.train, rows);
  if (!m.report.converged) throw std::runtime_error(method + ": the refit " + describe(m.report));
  return {evaluate(m, valid), evaluate(m, data_.test)};
}

VectorXd LinearSelection::row_training_loss() const { return mtif::row_training_loss(model_, data_.train); }

Relatedness LinearSelection::task_matrix(const Dataset& valid) {
  return relatedness_by_newton(model_, data_.train, valid, task_targets(model_, valid));
}

VectorXd selection_score(SelectionBackend& model, const Dataset& valid, int target, bool include_own) {
  std::vector<int> tasks;
  InfluenceScores scores = model.scores(valid, tasks);
  std::vector<int> columns;
  for (int t = 0; t < int(tasks.size()); ++t)
    if (target < 0 || tasks[t] == target) columns.push_back(t);
  if (columns.empty()) throw std::invalid_argument("the validation data has no rows of the target task(s)");
  return target < 0 && !include_own ? combined_transfer_score(scores.total, columns, tasks, scores.train_task)
                                    : combined_score(scores.total, columns);
}

}  // namespace mtif
