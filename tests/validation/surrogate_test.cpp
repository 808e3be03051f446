// Surrogate-model task affinity: the ridge surrogate recovers additive subset
// losses, its held-out R^2 is measured on subsets it never saw, and the linear
// model's subset losses (Newton, gradient estimate) agree with refits where
// they are exact.
#include <gtest/gtest.h>

#include <functional>

#include "mtif/surrogate.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

// A subset's indicators as 0/1.
VectorXd as_vector(const std::vector<bool>& mask) {
  VectorXd v(mask.size());
  for (std::size_t l = 0; l < mask.size(); ++l) v(l) = mask[l] ? 1.0 : 0.0;
  return v;
}

TEST(Surrogate, RecoversAdditiveSubsetLosses) {
  const int K = 7, T = 3;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  MatrixXd beta(K, T);
  for (Index i = 0; i < beta.size(); ++i) beta.data()[i] = normal(rng);
  const VectorXd intercept = VectorXd::LinSpaced(T, 1.0, 2.0);
  SubsetLossFunction additive = [&](const TaskSubsets& keep) {
    MatrixXd out(keep.size(), T);
    for (std::size_t s = 0; s < keep.size(); ++s) out.row(s) = intercept.transpose() + as_vector(keep[s]).transpose() * beta;
    return out;
  };
  SurrogateConfig config;
  config.subsets = 60;
  config.ridge = 1e-10;
  config.validate_subsets = 20;
  SurrogateResult r = relatedness_by_surrogate(K, additive, config);
  // R = -beta: removing l changes the loss by -beta (the project's sign).
  EXPECT_LT((r.relatedness.matrix + beta).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_LT((r.surrogate.intercept - intercept).cwiseAbs().maxCoeff(), 1e-6);
  for (int t = 0; t < T; ++t) EXPECT_GT(r.held_out_r2(t), 1 - 1e-9);
  EXPECT_EQ(r.relatedness.method, "surrogate");
  EXPECT_EQ(r.losses.rows(), 60);
  EXPECT_EQ(r.held_out_losses.rows(), 20);
}

TEST(Surrogate, RidgeShrinksTowardZero) {
  const int K = 5;
  SubsetLossFunction one_task = [&](const TaskSubsets& keep) {
    MatrixXd out(keep.size(), 1);
    for (std::size_t s = 0; s < keep.size(); ++s) out(s, 0) = keep[s][2] ? -1.0 : 0.0;
    return out;
  };
  SurrogateConfig config;
  config.subsets = 40;
  config.ridge = 1e-10;
  const double free = relatedness_by_surrogate(K, one_task, config).relatedness.matrix(2, 0);
  config.ridge = 1.0;
  const double shrunk = relatedness_by_surrogate(K, one_task, config).relatedness.matrix(2, 0);
  EXPECT_NEAR(free, 1.0, 1e-6);  // task 2 lowers the loss by 1: removing it raises it
  EXPECT_GT(shrunk, 0.0);
  EXPECT_LT(shrunk, 0.5 * free);
}

// A loss that is no additive function of the subset: with as many subsets as
// parameters the surrogate interpolates the fitting subsets (R^2 = 1 there),
// and only subsets it never saw show that it does not generalise.
TEST(Surrogate, HeldOutR2IsMeasuredOnHeldOutSubsetsOnly) {
  const int K = 10;
  SubsetLossFunction arbitrary = [&](const TaskSubsets& keep) {
    MatrixXd out(keep.size(), 1);
    for (std::size_t s = 0; s < keep.size(); ++s) {
      std::uint64_t code = 0;
      for (int l = 0; l < K; ++l) code = 2 * code + (keep[s][l] ? 1 : 0);
      out(s, 0) = std::uniform_real_distribution<double>(0, 1)(*std::make_unique<std::mt19937_64>(code));
    }
    return out;
  };
  SurrogateConfig config;
  config.subsets = K + 1;
  config.ridge = 1e-12;
  config.validate_subsets = 200;
  SurrogateResult r = relatedness_by_surrogate(K, arbitrary, config);
  EXPECT_GT(r.fitted_r2(0), 1 - 1e-6);
  EXPECT_LT(r.held_out_r2(0), 0.5);
  // The reported value is the R^2 of the held-out subsets' own losses.
  const MatrixXd again = arbitrary(r.held_out);
  EXPECT_DOUBLE_EQ(r.held_out_r2(0), r_squared(again, r.surrogate.predict(r.held_out))(0));
  EXPECT_EQ(r.held_out.size(), 200u);
}

TEST(Surrogate, RefusesBadSettings) {
  SubsetLossFunction zero = [](const TaskSubsets& keep) { return MatrixXd::Zero(keep.size(), 1).eval(); };
  SurrogateConfig config;
  config.subsets = 1;
  EXPECT_THROW(relatedness_by_surrogate(3, zero, config), std::invalid_argument);
  config.subsets = 10;
  config.keep_fraction = 0;
  EXPECT_THROW(relatedness_by_surrogate(3, zero, config), std::invalid_argument);
  config.keep_fraction = 1.5;
  EXPECT_THROW(relatedness_by_surrogate(3, zero, config), std::invalid_argument);
}

TEST(Surrogate, RandomSubsetsAreNeverEmpty) {
  std::mt19937_64 rng(1);
  TaskSubsets subsets = random_task_subsets(2, 500, 0.1, rng);
  for (const auto& mask : subsets) EXPECT_TRUE(mask[0] || mask[1]);
}

class LinearSubsetLosses : public ::testing::Test {
 protected:
  TrainTest data = test::make_data(6, 3, {30, 25, 40, 20, 35, 30});
  LinearModel model;
  Targets targets;
  TaskSubsets subsets;
  void SetUp() override {
    LinearConfig config;
    config.lambda_task = 0.3;
    config.lambda_shared = 0.2;
    model = fit_linear(data.train, config);
    targets = task_targets(model, data.test);
    std::mt19937_64 rng(5);
    subsets = random_task_subsets(data.train.num_tasks(), 12, 0.5, rng);
  }
};

TEST_F(LinearSubsetLosses, NewtonEqualsRefitsForTheSquaredLoss) {
  MatrixXd newton = linear_subset_losses(model, data.train, data.test, targets, subsets, SubsetLossMethod::Newton);
  MatrixXd refit = linear_subset_losses(model, data.train, data.test, targets, subsets, SubsetLossMethod::Retrain);
  EXPECT_LT((newton - refit).cwiseAbs().maxCoeff(), 1e-8 * refit.cwiseAbs().maxCoeff());
}

// With a projection as wide as the parameters (P square, invertible) the
// projected Newton fit is the refit: same objective, same losses.
TEST_F(LinearSubsetLosses, ProjectedFitIsTheRefitWhenProjectionIsSquare) {
  const int K = data.train.num_tasks();
  GradientEstimateConfig square;
  square.projection_dim = static_cast<int>(data.train.num_features() * (K + 1));
  for (const auto& keep : subsets) {
    VectorXd weight = VectorXd::Ones(data.train.num_rows());
    for (int l = 0; l < K; ++l)
      if (!keep[l]) weight.segment(data.train.task_begin[l], data.train.task_rows(l)).setZero();
    LinearModel projected = projected_subset_fit(model, data.train, keep, square);
    LinearModel refit = fit_linear(data.train, model.config, &weight, &model);
    const double objective = linear_objective(refit, data.train, &weight);
    EXPECT_NEAR(linear_objective(projected, data.train, &weight), objective, 1e-10 * objective);
    VectorXd a = target_losses(projected, data.test, targets), b = target_losses(refit, data.test, targets);
    EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-8 * b.cwiseAbs().maxCoeff());
  }
  // linear_subset_losses takes the refit itself there.
  MatrixXd estimate = linear_subset_losses(model, data.train, data.test, targets, subsets, SubsetLossMethod::Gradient, square);
  MatrixXd refit = linear_subset_losses(model, data.train, data.test, targets, subsets, SubsetLossMethod::Retrain);
  EXPECT_LT((estimate - refit).cwiseAbs().maxCoeff(), 1e-8 * refit.cwiseAbs().maxCoeff());
}

// A narrower projection optimises over a subspace through the fit (w = 0 is
// in it): its objective lies between the refit's and the fit's.
TEST_F(LinearSubsetLosses, ProjectedFitObjectiveLiesBetweenRefitAndFit) {
  const int K = data.train.num_tasks();
  GradientEstimateConfig narrow;
  narrow.projection_dim = 8;
  for (const auto& keep : subsets) {
    VectorXd weight = VectorXd::Ones(data.train.num_rows());
    for (int l = 0; l < K; ++l)
      if (!keep[l]) weight.segment(data.train.task_begin[l], data.train.task_rows(l)).setZero();
    const double projected = linear_objective(projected_subset_fit(model, data.train, keep, narrow), data.train, &weight);
    const double refit = linear_objective(fit_linear(data.train, model.config, &weight, &model), data.train, &weight);
    const double at_fit = linear_objective(model, data.train, &weight);
    EXPECT_GT(projected, refit + 1e-9 * refit);  // a real approximation
    EXPECT_LT(projected, at_fit);
  }
}

TEST_F(LinearSubsetLosses, GradientEstimateConvergesForTheLogisticLoss) {
  TrainTest logistic = test::make_data(4, 3, {40, 40, 40, 40}, 30, LossKind::Logistic);
  LinearConfig config;
  config.loss = LossKind::Logistic;
  LinearModel fit = fit_linear(logistic.train, config);
  Targets t = task_targets(fit, logistic.test);
  std::mt19937_64 rng(2);
  TaskSubsets keep = random_task_subsets(4, 6, 0.5, rng);
  GradientEstimateConfig full_dim;
  full_dim.projection_dim = static_cast<int>(logistic.train.num_features() * 5);  // square: Newton must reach the refit
  for (const auto& mask : keep) {
    VectorXd weight = VectorXd::Ones(logistic.train.num_rows());
    for (int l = 0; l < 4; ++l)
      if (!mask[l]) weight.segment(logistic.train.task_begin[l], logistic.train.task_rows(l)).setZero();
    const double refit = linear_objective(fit_linear(logistic.train, config, &weight, &fit), logistic.train, &weight);
    const double projected = linear_objective(projected_subset_fit(fit, logistic.train, mask, full_dim), logistic.train, &weight);
    EXPECT_NEAR(projected, refit, 1e-10 * refit);
  }
}

// Single removals add up in the prediction: for leave-one-task-out subsets the
// prediction from the LOTO matrix is the LOTO loss itself.
TEST_F(LinearSubsetLosses, MatrixPredictionsReproduceLeaveOneTaskOut) {
  Relatedness loto = relatedness_by_newton(model, data.train, data.test, targets);
  const int K = data.train.num_tasks();
  TaskSubsets keep(K, std::vector<bool>(K, true));
  for (int l = 0; l < K; ++l) keep[l][l] = false;
  const VectorXd base = target_losses(model, data.test, targets);
  MatrixXd actual = linear_subset_losses(model, data.train, data.test, targets, keep, SubsetLossMethod::Newton);
  MatrixXd predicted = predicted_subset_losses(loto.matrix, base, keep);
  EXPECT_LT((predicted - actual).cwiseAbs().maxCoeff(), 1e-10);
  VectorXd rho = subset_spearman(loto.matrix, base, keep, actual);
  for (int t = 0; t < rho.size(); ++t) EXPECT_NEAR(rho(t), 1.0, 1e-12);
}

// On exact subset losses a task helps itself: the surrogate's diagonal is positive, as LOTO's is.
TEST_F(LinearSubsetLosses, SurrogateOnNewtonLossesHasLotoSignOnTheDiagonal) {
  SubsetLossFunction newton = [&](const TaskSubsets& keep) {
    return linear_subset_losses(model, data.train, data.test, targets, keep, SubsetLossMethod::Newton);
  };
  SurrogateConfig config;
  config.subsets = 100;
  SurrogateResult r = relatedness_by_surrogate(data.train.num_tasks(), newton, config);
  Relatedness loto = relatedness_by_newton(model, data.train, data.test, targets);
  for (int k = 0; k < data.train.num_tasks(); ++k) {
    EXPECT_GT(loto.matrix(k, k), 0.0);
    EXPECT_GT(r.relatedness.matrix(k, k), 0.0) << "task " << k;
  }
}

TEST_F(LinearSubsetLosses, RefusesMasksOfTheWrongLength) {
  TaskSubsets bad{std::vector<bool>(data.train.num_tasks() + 1, true)};
  EXPECT_THROW(linear_subset_losses(model, data.train, data.test, targets, bad, SubsetLossMethod::Retrain),
               std::invalid_argument);
  EXPECT_THROW(parse_subset_loss_method("exact"), std::invalid_argument);
}

}  // namespace
}  // namespace mtif
