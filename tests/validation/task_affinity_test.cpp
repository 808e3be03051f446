// TAG lookahead affinity and gradient cosine on the linear model: the
// trajectory is real gradient descent (it reaches the fitted objective), one
// step of TAG equals a hand computation, and both baselines see a conflicting task.
#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include "mtif/linear_curvature.hpp"
#include "mtif/task_affinity.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

Targets all_tasks(const LinearModel& model, const Dataset& test) { return task_targets(model, test); }

// The full (K d + d) x (K d + d) Hessian of a block Hessian, for a dense eigenvalue.
MatrixXd dense(const BlockHessian& h) {
  const int K = h.num_tasks();
  const Index d = h.C.rows();
  MatrixXd H = MatrixXd::Zero((K + 1) * d, (K + 1) * d);
  for (int k = 0; k < K; ++k) {
    H.block(k * d, k * d, d, d) = h.A[k];
    H.block(k * d, K * d, d, d) = h.B[k];
    H.block(K * d, k * d, d, d) = h.B[k].transpose();
  }
  H.block(K * d, K * d, d, d) = h.C;
  return H;
}

TEST(TaskAffinity, PowerIterationFindsTheLargestEigenvalue) {
  TrainTest data = test::make_data(4, 5, {30, 50, 20, 40});
  LinearConfig config;
  config.lambda_task = 0.3;
  config.lambda_shared = 0.1;
  LinearModel model = fit_linear(data.train, config);
  BlockHessian h = linear_block_hessian(model, data.train);
  double expected = Eigen::SelfAdjointEigenSolver<MatrixXd>(dense(h)).eigenvalues().maxCoeff();
  EXPECT_NEAR(block_hessian_max_eigenvalue(h, 500), expected, 1e-6 * expected);
}

TEST(TaskAffinity, TrajectoryReachesTheFittedObjective) {
  TrainTest data = test::make_data(3, 4, {40});
  LinearConfig config;
  LinearModel model = fit_linear(data.train, config);
  TrajectoryInfo info;
  relatedness_by_gradcos(config, data.train, all_tasks(model, data.test), {3000, 0}, &info);
  EXPECT_NEAR(info.final_objective, model.report.objective, 1e-8 * model.report.objective);
  EXPECT_LT(info.final_gradient_max_abs, 1e-6);
}

// One step from the zero model: Z[i][j] = 1 - L_j(-eta X_j g_i) / L_j(0) with
// g_i = (1/n_i) X_i^T (0 - y_i) for the squared loss, by hand.
TEST(TaskAffinity, OneTagStepMatchesAHandComputation) {
  TrainTest data = test::make_data(3, 4, {25, 35, 30});
  LinearConfig config;
  LinearModel model = fit_linear(data.train, config);
  const double eta = 0.05;
  Relatedness tag = relatedness_by_tag(config, data.train, all_tasks(model, data.test), {1, eta});
  const Dataset& tr = data.train;
  for (int i = 0; i < 3; ++i) {
    VectorXd g = tr.task_X(i).transpose() * (-tr.task_y(i)) / double(tr.task_rows(i));
    for (int j = 0; j < 3; ++j) {
      double before = 0.5 * tr.task_y(j).squaredNorm() / double(tr.task_rows(j));
      double after = 0.5 * (tr.task_X(j) * (-eta * g) - tr.task_y(j)).squaredNorm() / double(tr.task_rows(j));
      EXPECT_NEAR(tag.matrix(i, j), 1.0 - after / before, 1e-12) << i << " on " << j;
    }
  }
}

// make_data's last task points against the others (mtif generate --conflicting 1).
TEST(TaskAffinity, BothBaselinesSeeTheConflictingTask) {
  TrainTest data = test::make_data(5, 6, {150}, 50, LossKind::Squared, 3);
  LinearConfig config;
  LinearModel model = fit_linear(data.train, config);
  Targets targets = all_tasks(model, data.test);
  Relatedness tag = relatedness_by_tag(config, data.train, targets, {100, 0});
  Relatedness cos = relatedness_by_gradcos(config, data.train, targets, {100, 0});
  const int bad = 4;
  for (int j = 0; j < bad; ++j) {
    EXPECT_LT(cos.matrix(bad, j), 0) << "gradient cosine of the conflicting task with task " << j;
    EXPECT_LT(tag.matrix(bad, j), 0) << "a step on the conflicting task raises task " << j << "'s loss";
    for (int i = 0; i < bad; ++i)
      if (i != j) {
        EXPECT_GT(cos.matrix(i, j), 0);
        EXPECT_GT(tag.matrix(i, j), 0);
      }
  }
}

TEST(TaskAffinity, LogisticLossRunsAndIsFinite) {
  TrainTest data = test::make_data(3, 4, {60}, 30, LossKind::Logistic);
  LinearConfig config;
  config.loss = LossKind::Logistic;
  LinearModel model = fit_linear(data.train, config);
  Relatedness tag = relatedness_by_tag(config, data.train, all_tasks(model, data.test), {50, 0});
  EXPECT_TRUE(tag.matrix.allFinite());
  EXPECT_GT(tag.matrix.diagonal().minCoeff(), 0);  // a step on a task lowers its own loss
}

}  // namespace
}  // namespace mtif
