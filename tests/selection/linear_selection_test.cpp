// The linear model behind mtif select / sources (src/selection/linear_selection.cpp).
#include "mtif/selection_backend.hpp"

#include <gtest/gtest.h>

#include "mtif/linear_curvature.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

LinearSelection make_selection(const TrainTest& data, const LinearModel& model) {
  return LinearSelection(data, model, std::make_unique<BlockSchurSolver>(linear_block_hessian(model, data.train)));
}

TEST(LinearSelection, JudgesTheRefitWithoutTheRowsOnValidationAndTest) {
  TrainTest data = test::make_data(3, 2, {30, 25, 20}, 20);
  LinearModel model = fit_linear(data.train, LinearConfig{});
  LinearSelection selection = make_selection(data, model);
  const Dataset& valid = data.test;
  // No rows: the fit itself.
  auto [valid_full, test_full] = selection.judge("none", {}, valid);
  EXPECT_EQ(valid_full.loss, evaluate(model, valid).loss);
  // Rows dropped: the same refit as refit_without, judged on both splits.
  const std::vector<Index> rows{0, 7, 40};
  LinearModel refit = refit_without(model, data.train, rows);
  auto [valid_without, test_without] = selection.judge("some", rows, valid);
  EXPECT_EQ(valid_without.loss, evaluate(refit, valid).loss);
  EXPECT_EQ(test_without.loss, evaluate(refit, data.test).loss);
  EXPECT_NE(valid_without.loss, valid_full.loss);
}

TEST(LinearSelection, ScoreOfATargetTaskIsItsColumnAndAllTasksCountOnlyTransfer) {
  TrainTest data = test::make_data(3, 2, {30, 25, 20}, 20);
  LinearModel model = fit_linear(data.train, LinearConfig{});
  LinearSelection selection = make_selection(data, model);
  std::vector<int> tasks;
  InfluenceScores scores = selection.scores(data.test, tasks);
  ASSERT_EQ(tasks, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(selection_score(selection, data.test, 1, false), combined_score(scores.total, {1}));
  EXPECT_EQ(selection_score(selection, data.test, -1, true), combined_score(scores.total, {0, 1, 2}));
  EXPECT_EQ(selection_score(selection, data.test, -1, false),
            combined_transfer_score(scores.total, {0, 1, 2}, tasks, scores.train_task));
  EXPECT_THROW(selection_score(selection, data.test, 5, false), std::invalid_argument);
}

}  // namespace
}  // namespace mtif
