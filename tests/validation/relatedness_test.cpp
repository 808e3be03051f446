// Task-level influence: the Newton leave-one-task-out estimator equals
// brute-force retraining for the squared loss; the first-order matrix is the
// sum of the row scores.
#include <gtest/gtest.h>

#include <omp.h>

#include <functional>
#include <random>
#include <stdexcept>
#include <string>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/validation.hpp"
#include "support/dense_reference.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

using test::Shape;

class RelatednessShapes : public ::testing::TestWithParam<Shape> {};

// Dense retraining without task l: its rows get weight 0, which leaves theta_l
// with only its penalty, so it becomes 0.
MatrixXd dense_loto(const LinearModel& model, const TrainTest& data, const Targets& targets) {
  MatrixXd out(data.train.num_tasks(), targets.size());
  VectorXd base = target_losses(model, data.test, targets);
  for (int l = 0; l < data.train.num_tasks(); ++l) {
    VectorXd weight = VectorXd::Ones(data.train.num_rows());
    weight.segment(data.train.task_begin[l], data.train.task_rows(l)).setZero();
    LinearModel refit = test::unstack(test::dense_squared_fit(data.train, model.config, weight), model);
    out.row(l) = (target_losses(refit, data.test, targets) - base).transpose();
  }
  return out;
}

TEST_P(RelatednessShapes, NewtonAndRetrainEqualDenseRetraining) {
  const Shape& s = GetParam();
  TrainTest data = test::make_data(s.tasks, s.features, s.rows);
  LinearConfig config;
  config.lambda_task = 0.4;
  config.lambda_shared = 0.2;
  LinearModel model = fit_linear(data.train, config);
  Targets targets = task_targets(model, data.test);
  MatrixXd truth = dense_loto(model, data, targets);
  const double scale = truth.cwiseAbs().maxCoeff();
  Relatedness newton = relatedness_by_newton(model, data.train, data.test, targets);
  Relatedness retrain = relatedness_by_retraining(model, data.train, data.test, targets);
  EXPECT_LT((newton.matrix - truth).cwiseAbs().maxCoeff(), 1e-8 * scale);
  EXPECT_LT((retrain.matrix - truth).cwiseAbs().maxCoeff(), 1e-8 * scale);
}

TEST_P(RelatednessShapes, MtifIsSumOfRowScores) {
  const Shape& s = GetParam();
  TrainTest data = test::make_data(s.tasks, s.features, s.rows);
  LinearModel model = fit_linear(data.train, LinearConfig{});
  Targets targets = task_targets(model, data.test);
  BlockSchurSolver solver(linear_block_hessian(model, data.train));
  InfluenceScores scores = linear_influence(model, data.train, solver, targets, ScoreMode::FirstOrder);
  Relatedness r = relatedness_by_mtif(model, data.train, data.test, targets);
  for (int l = 0; l < data.train.num_tasks(); ++l)
    for (int t = 0; t < targets.size(); ++t) {
      double sum = 0;
      for (Index row = 0; row < scores.total.rows(); ++row)
        if (scores.train_task[row] == l) sum += scores.total(row, t);
      EXPECT_NEAR(r.matrix(l, t), sum, 1e-12 * std::max(1.0, std::abs(sum)));
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RelatednessShapes,
                         ::testing::Values(Shape{"TwoTasks", 2, 5, {30}}, Shape{"ManyTasks", 10, 4, {20}},
                                           Shape{"MoreFeaturesThanRows", 4, 15, {6}},
                                           Shape{"VeryDifferentSizes", 3, 6, {4, 150, 30}}),
                         [](const auto& info) { return std::string(info.param.name); });

// The generator's conflicting task hurts the others: removing it lowers their loss.
TEST(Relatedness, ConflictingTaskHasNegativeRow) {
  TrainTest data = test::make_data(5, 6, {150});
  LinearModel model = fit_linear(data.train, LinearConfig{});
  Targets targets = task_targets(model, data.test);
  Relatedness r = relatedness_by_retraining(model, data.train, data.test, targets);
  const int conflicting = 4;  // make_data puts the conflicting task last
  for (int t = 0; t < targets.size(); ++t) {
    if (targets.task[t] == conflicting) continue;
    EXPECT_LT(r.matrix(conflicting, t), 0.0) << "target " << t;
    EXPECT_GT(r.matrix(0, t), 0.0) << "target " << t;  // a related task helps
  }
}

TEST(Stats, PearsonAndSpearman) {
  VectorXd a(5), b(5);
  a << 1, 2, 3, 4, 5;
  b << 2, 4, 6, 8, 10;
  EXPECT_NEAR(pearson(a, b), 1.0, 1e-15);
  b << 1, 4, 9, 16, 25;  // monotone, not linear
  EXPECT_NEAR(spearman(a, b), 1.0, 1e-15);
  EXPECT_LT(pearson(a, b), 0.99);
  b << 5, 4, 3, 2, 1;
  EXPECT_NEAR(spearman(a, b), -1.0, 1e-15);
}

TEST(Stats, TiesShareAverageRank) {
  VectorXd v(4);
  v << 10, 20, 20, 5;
  VectorXd r = average_ranks(v);
  EXPECT_DOUBLE_EQ(r(3), 0.0);
  EXPECT_DOUBLE_EQ(r(0), 1.0);
  EXPECT_DOUBLE_EQ(r(1), 2.5);
  EXPECT_DOUBLE_EQ(r(2), 2.5);
}

TEST(Stats, CompareScoresSplitsWithinAndBetween) {
  MatrixXd pred(2, 2), actual(2, 2);
  pred << 1, 2, 3, 4;
  actual << 1, 2, 3, 5;
  AgreementSplit a = compare_scores(pred, actual, {0, 1}, {0, 1});
  EXPECT_EQ(a.within_task.count, 2);
  EXPECT_EQ(a.between_task.count, 2);
  EXPECT_DOUBLE_EQ(a.within_task.max_abs_error, 1.0);  // (1,1): 4 vs 5
  EXPECT_DOUBLE_EQ(a.between_task.max_abs_error, 0.0);
}

// Newton removal of a whole subset equals a dense refit without the subset's
// rows (squared loss), for random subsets incl. the empty one.
TEST(SubsetRemoval, EqualsDenseRefitsForRandomSubsets) {
  TrainTest data = test::make_data(6, 4, {25});
  LinearConfig config;
  config.lambda_task = 0.3;
  config.lambda_shared = 0.2;
  LinearModel model = fit_linear(data.train, config);
  Targets targets = task_targets(model, data.test);
  const int K = data.train.num_tasks();
  std::mt19937 rng(7);
  std::bernoulli_distribution coin(0.4);
  std::vector<std::vector<bool>> subsets(8, std::vector<bool>(K, false));
  for (std::size_t s = 1; s < subsets.size(); ++s)
    for (int l = 0; l < K; ++l) subsets[s][l] = coin(rng);
  MatrixXd newton = subset_removal_losses(model, data.train, data.test, targets, subsets);
  for (std::size_t s = 0; s < subsets.size(); ++s) {
    VectorXd weight = VectorXd::Ones(data.train.num_rows());
    for (int l = 0; l < K; ++l)
      if (subsets[s][l]) weight.segment(data.train.task_begin[l], data.train.task_rows(l)).setZero();
    LinearModel refit = test::unstack(test::dense_squared_fit(data.train, config, weight), model);
    VectorXd truth = target_losses(refit, data.test, targets);
    for (int t = 0; t < targets.size(); ++t)
      EXPECT_NEAR(newton(s, t), truth(t), 1e-10 * std::abs(truth(t))) << "subset " << s << " target " << t;
  }
  EXPECT_THROW(subset_removal_losses(model, data.train, data.test, targets, {std::vector<bool>(K + 1)}),
               std::invalid_argument);
}

TEST(RowSpec, ParsesListsAndRanges) {
  EXPECT_EQ(parse_row_spec("0-2,5,4", 10), (std::vector<Index>{0, 1, 2, 4, 5}));
  EXPECT_EQ(parse_row_spec("all", 3), (std::vector<Index>{0, 1, 2}));
  EXPECT_EQ(parse_row_spec("3,3,1-3", 5), (std::vector<Index>{1, 2, 3}));
  EXPECT_THROW(parse_row_spec("0-10", 5), std::invalid_argument);
  EXPECT_THROW(parse_row_spec("a", 5), std::invalid_argument);
  EXPECT_THROW(parse_row_spec("3-1", 5), std::invalid_argument);
  EXPECT_THROW(parse_row_spec("-1", 5), std::invalid_argument);
  EXPECT_THROW(parse_row_spec("", 5), std::invalid_argument);
}

// Regression case from the randomized sweep, seed 58: one task whose feature
// is in units of 1e6, lambda_shared 7.4e-5. Without the task only the shared
// penalty is left, so the refit is w = 0; the Newton step formed N without
// the task as N minus its curvature (1e12 beside 7.4e-5) and kept no digit.
Dataset one_feature_rows(const std::vector<int>& task, const std::vector<double>& x, const std::vector<double>& y) {
  RawRows raw;
  raw.feature_names = {"x"};
  raw.task_names = {"t0", "t1"};
  raw.task = task;
  raw.values = x;
  raw.y = y;
  return make_dataset(raw, "regression case");
}

TEST(NewtonLoto, OnlyTaskAtFeatureScale1e6) {
  LinearConfig config;
  config.lambda_task = 3.06427;
  config.lambda_shared = 7.3834e-05;
  Dataset train = one_feature_rows({0, 0, 0}, {0.7e6, -1.2e6, 0.4e6}, {0.9, -1.5, 0.2});
  Dataset test = one_feature_rows({0}, {1.1e6}, {1.0});
  train.task_names.resize(1);
  test.task_names.resize(1);
  LinearModel model = fit_linear(train, config);
  Targets targets = task_targets(model, test);
  const double expected = task_mean_loss(zero_linear_model(train, config), test)(0) - task_mean_loss(model, test)(0);
  Relatedness newton = relatedness_by_newton(model, train, test, targets);
  EXPECT_NEAR(newton.matrix(0, 0), expected, 1e-10 * std::abs(expected));
}

// The same scale beside a task in ordinary units.
struct BesideAnOrdinaryTask {
  LinearConfig config = [] {
    LinearConfig c;
    c.lambda_task = 3.06427;
    c.lambda_shared = 7.3834e-05;
    return c;
  }();
  Dataset train = one_feature_rows({0, 0, 0, 1, 1, 1}, {0.7e6, -1.2e6, 0.4e6, 0.5, -0.9, 1.4},
                                   {0.9, -1.5, 0.2, 0.4, -1.1, 1.2});
  Dataset test = one_feature_rows({0, 1}, {1.1e6, 0.8}, {1.0, 0.6});
  LinearModel model = fit_linear(train, config);
  Targets targets = task_targets(model, test);
};

// Removing the 1e6 task leaves the other; Newton = retraining.
TEST(NewtonLoto, TaskAtFeatureScale1e6BesideAnOrdinaryTask) {
  const BesideAnOrdinaryTask p;
  const auto& [config, train, test, model, targets] = p;
  Relatedness newton = relatedness_by_newton(model, train, test, targets);
  Relatedness retrain = relatedness_by_retraining(model, train, test, targets);
  EXPECT_LT((newton.matrix - retrain.matrix).cwiseAbs().maxCoeff(), 1e-8 * retrain.matrix.cwiseAbs().maxCoeff());
}

// Subset removal at the same scales: each of the four subsets (none, the 1e6
// task, the ordinary task, both) equals retraining without it. Removing the 1e6
// task takes its 1e12 curvature out of N; the solver's task Schur parts keep
// the digits that N minus that curvature would lose (the LOTO case above).
TEST(SubsetRemoval, TaskAtFeatureScale1e6EqualsRetraining) {
  const BesideAnOrdinaryTask p;
  const auto& [config, train, test, model, targets] = p;
  const std::vector<std::vector<bool>> subsets = {{false, false}, {true, false}, {false, true}, {true, true}};
  MatrixXd newton = subset_removal_losses(model, train, test, targets, subsets);
  for (std::size_t s = 0; s < subsets.size(); ++s) {
    VectorXd weight = VectorXd::Ones(train.num_rows());
    for (int l = 0; l < 2; ++l)
      if (subsets[s][l]) weight.segment(train.task_begin[l], train.task_rows(l)).setZero();
    // Retrained to the objective's rounding: with lambda_shared 7e-5 the default
    // gradient tolerance leaves gamma off by 3e-13, visible at x = 1.1e6; a dense
    // solve of the 1e12-beside-7e-5 system keeps fewer digits still.
    LinearConfig to_rounding = config;
    to_rounding.gradient_tolerance = 0.0;
    LinearModel refit = fit_linear(train, to_rounding, &weight, &model);
    ASSERT_TRUE(refit.report.converged) << "subset " << s << ": " << describe(refit.report);
    for (int l = 0; l < 2; ++l)
      if (subsets[s][l]) refit.theta[l].setZero();  // as subset_removal_losses: its parameters leave with it
    VectorXd truth = target_losses(refit, test, targets);
    for (int t = 0; t < targets.size(); ++t)
      EXPECT_NEAR(newton(s, t), truth(t), 1e-8 * std::abs(truth(t))) << "subset " << s << " target " << t;
  }
}

// Brute-force refits run on OpenMP threads. A refit whose block factorisation
// throws must come back as an error naming the task: an exception that leaves
// an OpenMP region calls std::terminate, which ended the whole process (found
// by the randomized sweep; the loops in refit.cpp and relatedness.cpp now
// catch inside the region). A regression shows as a crash of the test binary.
//
// Leave-one-out has no such input: a row whose removal would leave a block
// singular is the only one in some direction, and there the unpenalised (or
// task-own) parameters fit it exactly, so its residual is 0, the gradient
// without it stays 0, and the refit takes no Newton step.
//
// Feature b is seen by task t0 only and the shared weights have no penalty, so
// without t0 nothing fixes gamma_b: the refit's Schur complement N is singular
// and its factorisation throws, on one of several threads.
Dataset b_seen_by_one_task() {
  RawRows raw;
  raw.feature_names = {"a", "b"};
  raw.task_names = {"t0", "t1"};
  raw.task = {0, 0, 0, 1, 1, 1};
  raw.values = {1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 0.0, -1.0, 0.0};
  raw.y = {0.5, -0.2, 0.9, 0.1, 0.9, -0.3};
  return make_dataset(raw, "regression case");
}

std::string message_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(RefitErrors, RetrainRelatednessNamesTheTaskWhoseRefitFailed) {
  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(4);  // the failing refit runs beside the others
  const Dataset train = b_seen_by_one_task();
  LinearConfig config;
  config.lambda_task = 0.3;
  config.lambda_shared = 0.0;  // the CLI refuses 0; the library and model files do not
  const LinearModel model = fit_linear(train, config);
  ASSERT_TRUE(model.report.converged);
  const Targets targets = task_targets(model, train);
  const std::string message = message_of([&] { relatedness_by_retraining(model, train, train, targets); });
  EXPECT_NE(message.find("the refit without task t0"), std::string::npos) << message;
  EXPECT_NE(message.find("not positive definite"), std::string::npos) << message;
  // The Newton estimates refuse the same removal instead of a minimum-norm step
  // that picks one of the many minimisers.
  const std::string newton = message_of([&] { relatedness_by_newton(model, train, train, targets); });
  EXPECT_NE(newton.find("the Newton step without task t0"), std::string::npos) << newton;
  const std::string subset = message_of([&] { subset_removal_losses(model, train, train, targets, {{true, false}}); });
  EXPECT_NE(subset.find("the Newton step without task subset 0"), std::string::npos) << subset;
  omp_set_num_threads(threads_before);
}

}  // namespace
}  // namespace mtif
