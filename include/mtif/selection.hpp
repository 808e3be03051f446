// Data selection against negative transfer (mtif-math.md 7) and the
// instance-level view of relatedness: which rows of which source tasks help or
// hurt a target task.
//
// Scores are loss_change_if_removed against VALIDATION targets (one column per
// target task): negative = removing the row lowers the target's validation
// loss, so the row hurts it. A selection drops the most harmful candidate rows
// (negative combined score only) up to a budget; the baselines drop the same
// number of rows by another rule. Rows are dropped by giving them weight 0
// and refitting (the objective keeps its 1/n_k, as the scores assume).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"

namespace mtif {

// Which training rows (file order) may be dropped: with a target task, the
// rows of the other tasks (and its own when include_own); with none (-1), every row.
std::vector<char> candidate_rows(const Dataset& train, int target_task, bool include_own);

// Sum of each row's scores over the chosen target columns: the predicted change
// of the summed target losses when the row alone is removed (file order).
VectorXd combined_score(const ScoreMatrix& scores, const std::vector<int>& columns);
// The same, counting for each row only the targets of OTHER tasks than its
// own (column_task[c] != row_task[r]): its transfer to the other tasks, the
// reading of mtif-math.md 7 for "all tasks" (each target ranks the rows of
// the other tasks). A row's effect on its own task's validation loss is left
// out because it mostly fits that split's noise.
VectorXd combined_transfer_score(const ScoreMatrix& scores, const std::vector<int>& columns,
                                 const std::vector<int>& column_task, const std::vector<int>& row_task);

// The rows of each task of `data` split alternately (1st, 3rd, ... / 2nd, 4th, ...
// in stored order) into two halves with the same tasks.
std::pair<Dataset, Dataset> split_alternate(const Dataset& data);
// 1 where both scores are negative.
std::vector<char> negative_in_both(const VectorXd& a, const VectorXd& b);

// Candidates with a negative score, most negative first, at most max_rows.
std::vector<Index> select_harmful(const VectorXd& score, const std::vector<char>& candidate, Index max_rows);
// `count` candidates drawn uniformly without replacement (seeded).
std::vector<Index> select_random(const std::vector<char>& candidate, Index count, std::uint64_t seed);
// The `count` candidates with the largest value (e.g. per-row training loss).
std::vector<Index> select_largest(const VectorXd& value, const std::vector<char>& candidate, Index count);
// Whole source tasks by a task matrix (K sources x T targets): the tasks among
// `allowed` whose summed effect over the columns is negative, most harmful
// first, while the rows dropped stay within max_rows. If not even the most
// harmful task fits, it is dropped alone (the returned rows say how many).
std::vector<int> select_tasks(const MatrixXd& task_matrix, const std::vector<int>& columns,
                              const std::vector<char>& allowed_task, const Dataset& train, Index max_rows);
std::vector<Index> rows_of_tasks(const Dataset& train, const std::vector<int>& tasks);  // file rows

// Per-row training loss at the fit (file order).
VectorXd row_training_loss(const LinearModel& model, const Dataset& train);

// A model judged on one data split: per-task mean loss and metric (RMSE for
// the squared loss; accuracy and AUC for the logistic loss), NaN for a task
// without rows there.
struct SplitEvaluation {
  VectorXd loss, rmse, accuracy, auc;
};
SplitEvaluation evaluate(const LinearModel& model, const Dataset& data);
// The same from any model's per-row losses and outputs (stored order). One
// output column: a regression value (squared) or a binary logit (accuracy at
// 0, AUC); several: class scores (accuracy of the arg max, no AUC).
SplitEvaluation evaluate_outputs(const VectorXd& row_loss, const MatrixXd& outputs, const Dataset& data, bool squared);
// Mean over the listed tasks (skipping NaN).
double mean_over(const VectorXd& per_task, const std::vector<int>& tasks);

// Refit without the listed file rows (weight 0), warm-started from `full`.
LinearModel refit_without(const LinearModel& full, const Dataset& train, const std::vector<Index>& file_rows);

// Precision and recall of a set of flagged rows against the truly harmful ones.
struct PrecisionRecall {
  Index flagged = 0, harmful = 0, hits = 0;
  double precision = 0, recall = 0;
};
PrecisionRecall precision_recall(const std::vector<Index>& flagged, const std::vector<char>& truly_harmful);

// Instance-level relatedness for one target column: per source task the sum
// of its rows' scores, the sums of the helpful (> 0) and harmful (< 0) ones
// and how many rows hurt.
struct SourceSummary {
  int task = 0;
  Index rows = 0, harmful_rows = 0;
  double total = 0, helpful = 0, harmful = 0;
};
std::vector<SourceSummary> summarise_sources(const VectorXd& score, const std::vector<int>& row_task, int num_tasks);

}  // namespace mtif
