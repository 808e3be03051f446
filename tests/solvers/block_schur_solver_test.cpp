#include <gtest/gtest.h>

#include <random>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

// A random SPD block-arrowhead Hessian and its dense form.
struct Arrowhead {
  BlockHessian blocks;
  MatrixXd dense;
};

Arrowhead random_arrowhead(const std::vector<int>& task_dims, int p, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  int total = p;
  for (int d : task_dims) total += d;
  MatrixXd G(total, total + 3);
  for (Index i = 0; i < G.size(); ++i) G.data()[i] = normal(rng);
  MatrixXd full = G * G.transpose() + 0.5 * MatrixXd::Identity(total, total);
  // Keep only the arrowhead pattern: zero the blocks between different tasks.
  Arrowhead a;
  a.dense = MatrixXd::Zero(total, total);
  int offset = 0;
  for (int d : task_dims) {
    a.blocks.A.push_back(full.block(offset, offset, d, d) + 5 * MatrixXd::Identity(d, d));
    a.blocks.B.push_back(full.block(offset, total - p, d, p) * 0.3);
    a.blocks.C_task.push_back(MatrixXd::Zero(p, p));
    offset += d;
  }
  a.blocks.C = full.bottomRightCorner(p, p) + 5 * MatrixXd::Identity(p, p);
  offset = 0;
  for (size_t k = 0; k < task_dims.size(); ++k) {
    int d = task_dims[k];
    a.dense.block(offset, offset, d, d) = a.blocks.A[k];
    a.dense.block(offset, total - p, d, p) = a.blocks.B[k];
    a.dense.block(total - p, offset, p, d) = a.blocks.B[k].transpose();
    offset += d;
  }
  a.dense.bottomRightCorner(p, p) = a.blocks.C;
  return a;
}

TEST(BlockSchurSolver, ApplyEqualsDenseInverse) {
  std::vector<int> dims{3, 1, 5, 2};
  const int p = 4;
  Arrowhead a = random_arrowhead(dims, p, 11);
  BlockSchurSolver solver(a.blocks);
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  BlockVector v;
  VectorXd stacked(a.dense.rows());
  int offset = 0;
  for (int d : dims) {
    VectorXd t(d);
    for (int i = 0; i < d; ++i) t(i) = normal(rng);
    v.theta.push_back(t);
    stacked.segment(offset, d) = t;
    offset += d;
  }
  v.gamma.resize(p);
  for (int i = 0; i < p; ++i) v.gamma(i) = normal(rng);
  stacked.tail(p) = v.gamma;
  VectorXd expected = a.dense.ldlt().solve(stacked);
  BlockVector got = solver.apply(v);
  offset = 0;
  for (size_t k = 0; k < dims.size(); ++k) {
    EXPECT_LT((got.theta[k] - expected.segment(offset, dims[k])).norm(), 1e-12 * expected.norm());
    offset += dims[k];
  }
  EXPECT_LT((got.gamma - expected.tail(p)).norm(), 1e-12 * expected.norm());
  EXPECT_TRUE(solver.warnings().empty());
}

TEST(BlockSchurSolver, RefusesIndefiniteBlock) {
  Arrowhead a = random_arrowhead({2, 2}, 2, 5);
  a.blocks.A[1](0, 0) = -10;
  EXPECT_THROW(BlockSchurSolver{a.blocks}, std::runtime_error);
}

TEST(BlockSchurSolver, WarnsAboutCollinearFeaturesWithTinyPenalty) {
  TrainTest data = test::make_data(2, 3, {40});
  data.train.X.col(2) = data.train.X.col(0) * 2.0;  // exactly collinear
  LinearConfig config;
  config.lambda_task = 1e-13;
  config.lambda_shared = 1e-13;
  LinearModel model = fit_linear(data.train, config);
  BlockSchurSolver solver(linear_block_hessian(model, data.train), data.train.task_names);
  ASSERT_FALSE(solver.warnings().empty());
  EXPECT_NE(solver.warnings()[0].find("condition estimate"), std::string::npos);
  EXPECT_NE(solver.warnings()[0].find("task0"), std::string::npos);
  EXPECT_LT(solver.conditioning().task_rcond[0], BlockSchurSolver::kWarnRcond);
  // A healthy penalty gives no warning.
  BlockSchurSolver fine(linear_block_hessian(fit_linear(data.train, LinearConfig{}), data.train));
  EXPECT_TRUE(fine.warnings().empty());
}

// The linear model's A_k = B_k + lambda_task I lets the solver partial out by
// lambda_task A_k^-1 instead of I - B_k^T A_k^-1. With data far above the task
// penalty and fewer rows than features (a singular Gram matrix) the
// subtraction keeps few digits on the task's rows (measured 1.6e-4 and
// 5e-4 relative error); the ridge form keeps about eps cond(A_k) (3e-10).
TEST(BlockSchurSolver, PartialsOutTheLinearModelWithoutCancellation) {
  TrainTest data = test::make_data(2, 8, {3, 3});
  LinearConfig config;
  config.lambda_task = 1e-7;
  config.lambda_shared = 1e-7;
  LinearModel model = fit_linear(data.train, config);
  BlockHessian h = linear_block_hessian(model, data.train);
  ASSERT_EQ(h.task_ridge, config.lambda_task);
  BlockSchurSolver solver(h);
  const Index d = data.train.num_features();
  using MatrixL = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
  for (int k = 0; k < 2; ++k) {
    const MatrixL expected =
        (long double)config.lambda_task * h.A[k].cast<long double>().inverse();  // I - B^T A^-1, B = A - lambda I
    // Applied to the task's own rows (as exact mode does): there P x ~ lambda / |x|^2 x is small
    // and the subtraction's rounding, of size eps |x|, is not.
    const MatrixXd X = data.train.task_X(k).transpose();
    const MatrixXd got = solver.partialling_matrix(k, d) * X;
    const MatrixL want = expected * X.cast<long double>();
    const double error = double((got.cast<long double>() - want).norm() / want.norm());
    EXPECT_LT(error, 1e-8) << "task " << k;
    // The same operation on two different vectors: (gamma_side - task_side) + lambda A^-1 task_side.
    const MatrixXd t = MatrixXd::Random(d, 2), g = MatrixXd::Random(d, 2);
    const MatrixL q_expected = g.cast<long double>() - (MatrixL::Identity(d, d) - expected) * t.cast<long double>();
    const MatrixXd q = solver.partial_out(k, t, g);
    EXPECT_LT(double((q.cast<long double>() - q_expected).norm() / q_expected.norm()), 1e-8) << "task " << k;
  }
}

}  // namespace
}  // namespace mtif
