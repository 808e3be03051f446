// Data selection (mtif-math.md 7): the selection rules, the metrics, and a
// synthetic check where the harmful rows are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/selection.hpp"
#include "mtif/synthetic.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

TEST(Selection, HarmfulRowsAreNegativeCandidatesMostNegativeFirstWithinBudget) {
  VectorXd score(6);
  score << 0.5, -0.1, -0.3, -0.2, 0.0, -0.4;
  std::vector<char> candidate{1, 1, 1, 1, 1, 0};  // row 5 is not a candidate
  EXPECT_EQ(select_harmful(score, candidate, 2), (std::vector<Index>{2, 3}));
  EXPECT_EQ(select_harmful(score, candidate, 10), (std::vector<Index>{2, 3, 1}));
  EXPECT_TRUE(select_harmful(score, candidate, 0).empty());
}

TEST(Selection, RandomDrawsAreSeededDistinctCandidates) {
  std::vector<char> candidate(100, 0);
  for (int r = 0; r < 100; r += 2) candidate[r] = 1;
  auto a = select_random(candidate, 10, 7), b = select_random(candidate, 10, 7), c = select_random(candidate, 10, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::sort(a.begin(), a.end());
  EXPECT_EQ(std::unique(a.begin(), a.end()), a.end());
  for (Index r : a) EXPECT_TRUE(candidate[r]);
  EXPECT_EQ(select_random(candidate, 80, 1).size(), 50u);  // never more than the candidates
}

TEST(Selection, TasksAreDroppedMostHarmfulFirstWithinBudgetOrTheWorstAlone) {
  TrainTest data = test::make_data(4, 3, {10, 20, 30, 40});
  MatrixXd R(4, 2);  // sources x targets
  R << -1, -1,  //
      -3, 0,    //
      0.5, -2,  //
      -4, -4;
  std::vector<char> allowed{1, 1, 1, 1};
  // effects: -2, -3, -1.5, -8 -> order 3, 1, 0, 2; budget 60 rows: 3 (40) fits, 1 (20) fits, 0 (10) not.
  EXPECT_EQ(select_tasks(R, {0, 1}, allowed, data.train, 60), (std::vector<int>{3, 1}));
  EXPECT_EQ(select_tasks(R, {0, 1}, allowed, data.train, 5), (std::vector<int>{3}));  // none fits: the worst alone
  allowed[3] = 0;
  EXPECT_EQ(select_tasks(R, {0}, allowed, data.train, 100), (std::vector<int>{1, 0}));
  EXPECT_EQ(rows_of_tasks(data.train, {0}).size(), 10u);
}

TEST(Selection, MetricsMatchTheirDefinitions) {
  TrainTest data = test::make_data(2, 3, {50}, 40);
  LinearModel model = fit_linear(data.train, LinearConfig{});
  SplitEvaluation e = evaluate(model, data.test);
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(e.rmse(k), std::sqrt(2 * e.loss(k)), 1e-12);  // loss = (y - f)^2 / 2

  TrainTest bin = test::make_data(2, 3, {80}, 60, LossKind::Logistic);
  LinearConfig config;
  config.loss = LossKind::Logistic;
  LinearModel lm = fit_linear(bin.train, config);
  SplitEvaluation b = evaluate(lm, bin.test);
  // AUC by counting pairs.
  VectorXd f = lm.predict(bin.test);
  for (int k = 0; k < 2; ++k) {
    double pairs = 0, wins = 0;
    for (Index i = bin.test.task_begin[k]; i < bin.test.task_begin[k + 1]; ++i)
      for (Index j = bin.test.task_begin[k]; j < bin.test.task_begin[k + 1]; ++j)
        if (bin.test.y(i) == 1 && bin.test.y(j) == 0) pairs += 1, wins += f(i) > f(j) ? 1 : f(i) == f(j) ? 0.5 : 0;
    EXPECT_NEAR(b.auc(k), wins / pairs, 1e-12);
    EXPECT_GE(b.accuracy(k), 0.5);
  }
}

// Several output columns (softmax heads): accuracy of the arg max by hand, no AUC.
TEST(Selection, ClassScoresAreJudgedByTheirArgMax) {
  RawRows raw;
  raw.feature_names = {"x"};
  raw.task_names = {"a", "b"};
  raw.values = {0, 0, 0, 0, 0};
  raw.y = {0, 2, 1, 1, 0};
  raw.task = {0, 0, 0, 1, 1};
  Dataset data = make_dataset(raw, "classes");
  MatrixXd scores(5, 3);
  scores << 0.9, 0.1, 0.0,   // a: predicts 0, right
            0.0, 0.2, 0.8,   // a: predicts 2, right
            0.5, 0.1, 0.4,   // a: predicts 0, wrong (1)
            0.1, 0.7, 0.2,   // b: predicts 1, right
            0.2, 0.3, 0.5;   // b: predicts 2, wrong (0)
  const VectorXd row_loss = (VectorXd(5) << 1, 2, 3, 4, 6).finished();
  SplitEvaluation e = evaluate_outputs(row_loss, scores, data, false);
  EXPECT_NEAR(e.accuracy(0), 2.0 / 3.0, 1e-15);
  EXPECT_NEAR(e.accuracy(1), 0.5, 1e-15);
  EXPECT_NEAR(e.loss(0), 2.0, 1e-15);
  EXPECT_NEAR(e.loss(1), 5.0, 1e-15);
  EXPECT_TRUE(std::isnan(e.auc(0)) && std::isnan(e.rmse(1)));
}

TEST(Selection, SourceSummariesAddUp) {
  VectorXd score(5);
  score << 1, -2, 3, -4, 0.5;
  auto s = summarise_sources(score, {0, 0, 1, 1, 1}, 2);
  EXPECT_DOUBLE_EQ(s[0].total, -1);
  EXPECT_DOUBLE_EQ(s[1].helpful, 3.5);
  EXPECT_DOUBLE_EQ(s[1].harmful, -4);
  EXPECT_EQ(s[1].harmful_rows, 1);
  EXPECT_EQ(s[1].rows, 3);
}

// Known truth: 6 tasks, the last conflicts with the others, 10% of labels are
// corrupted. Scored against a validation split (an independent draw of test
// rows), dropping the rows MTIF calls harmful must (a) find harmful rows far
// above their base rate, and (b) lower the validation loss, as predicted.
TEST(Selection, SyntheticHarmfulRowsAreFoundAndDroppingThemHelps) {
  SyntheticConfig c;
  c.tasks = 6;
  c.features = 8;
  c.train_rows = {100};
  c.test_rows_per_task = 400;
  c.label_noise = 0.1;
  c.noise_std = 0.3;
  c.conflicting_tasks = 1;
  c.seed = 11;
  SyntheticData s = generate_synthetic(c);
  const Dataset& train = s.data.train;
  const Dataset& valid = s.data.test;  // used to score and to judge: the check is of the mechanism, not generalisation
  LinearModel model = fit_linear(train, LinearConfig{});
  BlockSchurSolver solver(linear_block_hessian(model, train));
  Targets targets = task_targets(model, valid);
  InfluenceScores scores = linear_influence(model, train, solver, targets, ScoreMode::FirstOrder, false);
  std::vector<int> all{0, 1, 2, 3, 4, 5};
  VectorXd score = combined_score(scores.total, all);

  std::vector<char> harmful(train.num_rows());
  for (Index r = 0; r < train.num_rows(); ++r)
    harmful[r] = s.corrupted[r] || scores.train_task[r] == s.conflicting_tasks[0];
  const double base_rate = double(std::count(harmful.begin(), harmful.end(), 1)) / double(harmful.size());

  std::vector<Index> dropped = select_harmful(score, candidate_rows(train, -1, true), 30);
  ASSERT_EQ(dropped.size(), 30u);
  PrecisionRecall pr = precision_recall(dropped, harmful);
  EXPECT_GT(pr.precision, 2.5 * base_rate) << "base rate " << base_rate;

  LinearModel pruned = refit_without(model, train, dropped);
  LinearModel random = refit_without(model, train, select_random(candidate_rows(train, -1, true), 30, 1));
  const double full = mean_over(evaluate(model, valid).loss, all);
  EXPECT_LT(mean_over(evaluate(pruned, valid).loss, all), full);
  EXPECT_LT(mean_over(evaluate(pruned, valid).loss, all), mean_over(evaluate(random, valid).loss, all));
}

}  // namespace
}  // namespace mtif

namespace mtif {
namespace {

TEST(Selection, AlternateHalvesKeepEveryTaskAndSplitItsRows) {
  TrainTest data = test::make_data(3, 2, {5, 6, 1});
  auto [a, b] = split_alternate(data.train);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(a.task_rows(k), (data.train.task_rows(k) + 1) / 2);  // 1st, 3rd, ... rows
    EXPECT_EQ(b.task_rows(k), data.train.task_rows(k) / 2);
  }
  EXPECT_EQ(a.y(0), data.train.y(0));
  EXPECT_EQ(b.y(0), data.train.y(1));
  VectorXd x(4), y(4);
  x << -1, -1, 1, 0;
  y << -2, 1, -1, -1;
  EXPECT_EQ(negative_in_both(x, y), (std::vector<char>{1, 0, 0, 0}));
}

}  // namespace
}  // namespace mtif
