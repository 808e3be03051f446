#include <gtest/gtest.h>

#include "mtif/linear_curvature.hpp"
#include "mtif/linear_model.hpp"
#include "support/dense_reference.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

TEST(LinearModel, SquaredFitEqualsDenseSolve) {
  TrainTest data = test::make_data(5, 7, {30, 8, 60, 20, 45});
  LinearConfig config;
  config.lambda_task = 0.3;
  config.lambda_shared = 2.0;
  LinearModel model = fit_linear(data.train, config);
  VectorXd dense = test::dense_squared_fit(data.train, config, VectorXd::Ones(data.train.num_rows()));
  LinearModel expected = test::unstack(dense, model);
  EXPECT_LT((model.gamma - expected.gamma).cwiseAbs().maxCoeff(), 1e-11);
  for (int k = 0; k < model.num_tasks(); ++k)
    EXPECT_LT((model.theta[k] - expected.theta[k]).cwiseAbs().maxCoeff(), 1e-11);
  EXPECT_TRUE(model.report.converged);
  EXPECT_LT(model.report.gradient_max_abs, 1e-11);
}

// A feature in units of 1e6 beside one in ordinary units (sweep seed 58's
// scales): rounding alone leaves max |gradient| near 7e-6, so the fit must
// stop on the Newton decrement, and say so, instead of taking no-op steps up
// to the iteration limit and reporting "did not converge".
TEST(LinearModel, FitAtFeatureScale1e6StopsOnTheNewtonDecrement) {
  RawRows raw;
  raw.feature_names = {"x"};
  raw.task_names = {"t0", "t1"};
  raw.task = {0, 0, 0, 1, 1, 1};
  raw.values = {0.7e6, -1.2e6, 0.4e6, 0.5, -0.9, 1.4};
  raw.y = {0.9, -1.5, 0.2, 0.4, -1.1, 1.2};
  const Dataset train = make_dataset(raw, "regression case");
  LinearConfig config;
  config.lambda_task = 3.06427;
  config.lambda_shared = 7.3834e-05;
  const LinearModel model = fit_linear(train, config);
  EXPECT_TRUE(model.report.converged) << describe(model.report);
  EXPECT_EQ(model.report.stop, FitStop::NewtonDecrement) << describe(model.report);
  EXPECT_LT(model.report.iterations, 10) << describe(model.report);
}

TEST(LinearModel, LogisticFitReachesTightGradient) {
  TrainTest data = test::make_data(4, 6, {80}, 20, LossKind::Logistic);
  LinearConfig config;
  config.loss = LossKind::Logistic;
  config.lambda_task = 0.01;
  config.lambda_shared = 0.01;
  LinearModel model = fit_linear(data.train, config);
  EXPECT_TRUE(model.report.converged);
  EXPECT_LT(model.report.gradient_max_abs, 1e-10);
  EXPECT_GT(model.report.iterations, 2);  // really iterated
  // A warm start at the optimum needs no step at all.
  LinearModel again = fit_linear(data.train, config, nullptr, &model);
  EXPECT_EQ(again.report.iterations, 0);
}

TEST(LinearModel, PenaltiesMoveBetweenPooledAndIndependent) {
  TrainTest data = test::make_data(3, 4, {50});
  LinearConfig pooled;
  pooled.lambda_task = 1e8;
  LinearModel m = fit_linear(data.train, pooled);
  for (const auto& t : m.theta) EXPECT_LT(t.norm(), 1e-6 * m.gamma.norm());
  LinearConfig independent;
  independent.lambda_shared = 1e8;
  LinearModel i = fit_linear(data.train, independent);
  EXPECT_LT(i.gamma.norm(), 1e-6 * i.theta[0].norm());
}

TEST(LinearModel, ZeroWeightEqualsDroppingTheRowWithSameNormalisation) {
  TrainTest data = test::make_data(2, 3, {20});
  VectorXd w = VectorXd::Ones(data.train.num_rows());
  w(4) = 0;
  LinearModel weighted = fit_linear(data.train, LinearConfig{}, &w);
  // Objective with the row at weight 0 must not depend on that row's label.
  Dataset changed = data.train;
  changed.y(4) += 100;
  LinearModel weighted_changed = fit_linear(changed, LinearConfig{}, &w);
  EXPECT_LT((weighted.gamma - weighted_changed.gamma).norm(), 1e-12);
}

TEST(LinearModel, JsonRoundTripIsExact) {
  TrainTest data = test::make_data(3, 4, {25});
  LinearModel m = fit_linear(data.train, LinearConfig{});
  LinearModel back = linear_model_from_json(nlohmann::json::parse(to_json(m).dump()));
  EXPECT_EQ(back.gamma, m.gamma);
  for (int k = 0; k < m.num_tasks(); ++k) EXPECT_EQ(back.theta[k], m.theta[k]);
  EXPECT_EQ(back.task_names, m.task_names);
  EXPECT_EQ(back.config.lambda_task, m.config.lambda_task);
  EXPECT_THROW(linear_model_from_json(nlohmann::json{{"format", "other"}}), std::runtime_error);
}

// A model file with a field of the wrong type or a missing field names the file and the field.
TEST(LinearModel, JsonErrorsNameTheFileAndTheField) {
  TrainTest data = test::make_data(2, 3, {10});
  nlohmann::json j = to_json(fit_linear(data.train, LinearConfig{}));
  auto message = [](const nlohmann::json& bad) {
    try {
      linear_model_from_json(bad, "m.json");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json wrong_type = j;
  wrong_type["lambda_task"] = "x";
  EXPECT_EQ(message(wrong_type), "m.json: field \"lambda_task\": type must be number, but is string");
  nlohmann::json missing = j;
  missing.erase("gamma");
  EXPECT_EQ(message(missing), "m.json: missing field \"gamma\"");
  nlohmann::json bad_theta = j;
  bad_theta["theta"][0][1] = nullptr;
  EXPECT_EQ(message(bad_theta).rfind("m.json: field \"theta\": ", 0), 0u);
  EXPECT_EQ(message(nlohmann::json::array()).rfind("m.json: not an mtif linear model file", 0), 0u);
}

TEST(LinearCurvature, GradientIsZeroAtFitAndMatchesFiniteDifferences) {
  TrainTest data = test::make_data(2, 3, {15}, 10, LossKind::Logistic);
  LinearConfig config;
  config.loss = LossKind::Logistic;
  LinearModel m = fit_linear(data.train, config);
  m.gamma(0) += 0.3;  // move off the optimum
  BlockVector g = linear_gradient(m, data.train);
  const double h = 1e-6;
  LinearModel plus = m, minus = m;
  plus.theta[1](2) += h;
  minus.theta[1](2) -= h;
  double fd = (linear_objective(plus, data.train) - linear_objective(minus, data.train)) / (2 * h);
  EXPECT_NEAR(g.theta[1](2), fd, 1e-7);
}

}  // namespace
}  // namespace mtif
