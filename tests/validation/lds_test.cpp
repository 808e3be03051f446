// The linear datamodeling score on the linear model, whose refits are exact.
#include <gtest/gtest.h>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/validation.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

TEST(Lds, HighForMtifScoresAndLowForShuffledOnes) {
  TrainTest data = test::make_data(4, 6, {60, 40, 80, 50}, 30, LossKind::Squared, 5);
  LinearModel model = fit_linear(data.train, LinearConfig{});
  BlockSchurSolver solver(linear_block_hessian(model, data.train));
  Targets targets = task_targets(model, data.test);
  InfluenceScores scores = linear_influence(model, data.train, solver, targets, ScoreMode::FirstOrder, false);
  RefitLosses refit = [&](const VectorXd& w) {
    return target_losses(fit_linear(data.train, model.config, &w, &model), data.test, targets);
  };
  VectorXd base = target_losses(model, data.test, targets);
  LdsResult lds = linear_datamodeling_score(scores.total, data.train, base, refit, 0.5, 20, 3);
  ASSERT_EQ(lds.per_target.size(), 4);
  EXPECT_GT(lds.mean, 0.8);
  ScoreMatrix shuffled = scores.total.colwise().reverse();
  EXPECT_LT(linear_datamodeling_score(shuffled, data.train, base, refit, 0.5, 20, 3).mean, 0.5);
}

TEST(Lds, RejectsBadArguments) {
  TrainTest data = test::make_data(2, 3, {10, 10});
  ScoreMatrix scores = ScoreMatrix::Zero(20, 2);
  RefitLosses refit = [](const VectorXd&) { return VectorXd::Zero(2); };
  EXPECT_THROW(linear_datamodeling_score(scores, data.train, VectorXd::Zero(2), refit, 1.0, 10, 1),
               std::invalid_argument);
  EXPECT_THROW(linear_datamodeling_score(scores, data.train, VectorXd::Zero(2), refit, 0.5, 2, 1),
               std::invalid_argument);
}

}  // namespace
}  // namespace mtif
