// The shared-bottom network, its curvature products and the CG solver,
// checked against dense computations on a network small enough to form the
// whole Hessian.
#include <gtest/gtest.h>

#include "mtif/iterative_solvers.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_ekfac.hpp"
#include "mtif/mlp_influence.hpp"
#include "mtif/validation.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

MlpConfig small_config() {
  MlpConfig c;
  c.hidden = {6};
  c.head = HeadKind::Binary;
  c.weight_decay = 1e-2;
  c.learning_rate = 0.05;
  c.epochs = 40;
  c.batch_size = 32;
  c.seed = 3;
  return c;
}

struct Fixture {
  TrainTest data = test::make_data(3, 5, {40, 25, 50}, 30, LossKind::Logistic, 2);
  MlpModel model = train_mlp(data.train, small_config());
};

BlockVector random_blocks(const MlpModel& m, unsigned seed) {
  std::srand(seed);
  BlockVector v;
  for (int k = 0; k < m.num_tasks(); ++k) v.theta.push_back(VectorXd::Random(m.head_size(k)));
  v.gamma = VectorXd::Random(m.shared_size());
  return v;
}

double max_diff(const BlockVector& a, const BlockVector& b) {
  double d = (a.gamma - b.gamma).cwiseAbs().maxCoeff();
  for (size_t k = 0; k < a.theta.size(); ++k) d = std::max(d, (a.theta[k] - b.theta[k]).cwiseAbs().maxCoeff());
  return d;
}

TEST(MlpModel, TrainingLowersObjectiveAndIsReproducible) {
  Fixture f;
  MlpConfig untrained = small_config();
  untrained.epochs = 0;
  MlpModel start = train_mlp(f.data.train, untrained);
  EXPECT_LT(f.model.objective(f.data.train), 0.8 * start.objective(f.data.train));
  MlpModel again = train_mlp(f.data.train, small_config());
  EXPECT_EQ(max_diff(again.parameters(), f.model.parameters()), 0.0);
  MlpConfig other = small_config();
  other.seed = 4;
  EXPECT_GT(max_diff(train_mlp(f.data.train, other).parameters(), f.model.parameters()), 1e-3);
}

TEST(MlpModel, GradientMatchesFiniteDifferences) {
  Fixture f;
  BlockVector g = f.model.objective_gradient(f.data.train);
  BlockVector w = f.model.parameters();
  const double h = 1e-6;
  MlpModel probe = f.model;
  for (int j : {0, 3}) {
    BlockVector plus = w, minus = w;
    plus.gamma(j) += h;
    minus.gamma(j) -= h;
    probe.set_parameters(plus);
    double up = probe.objective(f.data.train);
    probe.set_parameters(minus);
    double down = probe.objective(f.data.train);
    EXPECT_NEAR(g.gamma(j), (up - down) / (2 * h), 1e-7);
  }
}

TEST(MlpCurvature, HessianProductMatchesFiniteDifferenceOfGradients) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::Hessian, 0.0);
  BlockVector v = random_blocks(f.model, 1);
  BlockVector hv = curvature.apply(v);
  const double h = 1e-5;
  BlockVector w = f.model.parameters(), plus = w, minus = w;
  plus.gamma += h * v.gamma;
  minus.gamma -= h * v.gamma;
  for (size_t k = 0; k < w.theta.size(); ++k) {
    plus.theta[k] += h * v.theta[k];
    minus.theta[k] -= h * v.theta[k];
  }
  MlpModel probe = f.model;
  probe.set_parameters(plus);
  BlockVector gp = probe.objective_gradient(f.data.train);
  probe.set_parameters(minus);
  BlockVector gm = probe.objective_gradient(f.data.train);
  EXPECT_LT((hv.gamma - (gp.gamma - gm.gamma) / (2 * h)).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(MlpCurvature, AnalyticHeadBlockEqualsProducts) {
  Fixture f;
  for (auto kind : {CurvatureKind::Hessian, CurvatureKind::GaussNewton}) {
    MlpCurvature curvature(f.model, f.data.train, kind, 0.01);
    BlockHessian dense = exact_block_hessian(curvature);
    for (int k = 0; k < 3; ++k)
      EXPECT_LT((curvature.head_block(k) - dense.A[k]).cwiseAbs().maxCoeff(), 1e-12);
  }
}

TEST(CgSolver, SchurSolveEqualsExactBlockSolver) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-3);
  BlockSchurSolver exact(exact_block_hessian(curvature));
  CgSolver cg(curvature, CgOptions{500, 1e-12});
  MatrixXd rhs = MatrixXd::Random(f.model.shared_size(), 2);
  MatrixXd x_cg = cg.solve_schur(rhs), x_exact = exact.solve_schur(rhs);
  EXPECT_LT((x_cg - x_exact).norm(), 1e-8 * x_exact.norm());
  ASSERT_EQ(cg.reports().size(), 2u);
  EXPECT_TRUE(cg.reports()[0].converged);
  EXPECT_TRUE(cg.warnings().empty());
}

TEST(CgSolver, ReportsNonConvergence) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-3);
  CgSolver cg(curvature, CgOptions{2, 1e-14});
  cg.solve_schur(MatrixXd::Random(f.model.shared_size(), 1));
  ASSERT_FALSE(cg.warnings().empty());
  EXPECT_NE(cg.warnings()[0].find("did not converge"), std::string::npos);
}

TEST(MlpInfluence, CgScoresEqualExactScores) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-3);
  BlockSchurSolver exact(exact_block_hessian(curvature));
  CgSolver cg(curvature, CgOptions{500, 1e-12});
  MlpTargets targets = mlp_task_targets(f.model, f.data.test);
  MlpRowGradients rows(f.model, f.data.train);
  InfluenceScores a = mlp_influence(f.model, f.data.train, rows, exact, targets);
  InfluenceScores b = mlp_influence(f.model, f.data.train, rows, cg, targets);
  EXPECT_LT((a.total - b.total).cwiseAbs().maxCoeff(), 1e-7 * a.total.cwiseAbs().maxCoeff());
  EXPECT_LT((a.task_part + a.shared_part - a.total).cwiseAbs().maxCoeff(), 1e-12 * a.total.cwiseAbs().maxCoeff());
}

// The scores are a^T H^-1 g / n_l: compare one entry with the dense solve.
TEST(MlpInfluence, ScoreEqualsDenseFormula) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-3);
  BlockSchurSolver exact(exact_block_hessian(curvature));
  MlpTargets targets = mlp_task_targets(f.model, f.data.test);
  InfluenceScores s = mlp_influence(f.model, f.data.train, MlpRowGradients(f.model, f.data.train), exact, targets);
  // Gradient of one training row's loss: objective gradient with only that row weighted.
  const Index stored = 7;
  const int l = f.data.train.task_of_row(stored);
  VectorXd weight = VectorXd::Zero(f.data.train.num_rows());
  weight(stored) = double(f.data.train.task_rows(l));  // undo the 1/n_l of the objective
  BlockVector g = f.model.objective_gradient(f.data.train, &weight);
  BlockVector penalty = f.model.parameters();  // remove wd * w, which objective_gradient includes
  g.gamma -= f.model.config().weight_decay * penalty.gamma;
  for (int k = 0; k < 3; ++k) g.theta[k] -= f.model.config().weight_decay * penalty.theta[k];
  BlockVector u = exact.apply(g);
  for (size_t t = 0; t < targets.task.size(); ++t) {
    double expected = targets.gradient[t].gamma.dot(u.gamma);
    for (int k = 0; k < 3; ++k) expected += targets.gradient[t].theta[k].dot(u.theta[k]);
    expected /= double(f.data.train.task_rows(l));
    EXPECT_NEAR(s.total(f.data.train.file_row[stored], t), expected, 1e-10 * std::abs(expected) + 1e-14);
  }
}

// The factored per-layer dot products against autograd's gradient of one row's loss.
TEST(MlpRowGradients, DotEqualsPerRowGradient) {
  Fixture f;
  MlpRowGradients rows(f.model, f.data.train);
  std::vector<BlockVector> dirs{random_blocks(f.model, 5), random_blocks(f.model, 6)};
  MatrixXd dots = rows.dot(dirs);
  ASSERT_EQ(dots.rows(), f.data.train.num_rows());
  BlockVector w = f.model.parameters();
  for (Index stored : {Index(0), Index(41), Index(110)}) {
    const int l = f.data.train.task_of_row(stored);
    VectorXd weight = VectorXd::Zero(f.data.train.num_rows());
    weight(stored) = double(f.data.train.task_rows(l));
    BlockVector g = f.model.objective_gradient(f.data.train, &weight);
    g.gamma -= f.model.config().weight_decay * w.gamma;
    for (int k = 0; k < 3; ++k) g.theta[k] -= f.model.config().weight_decay * w.theta[k];
    for (int j = 0; j < 2; ++j) {
      double expected = g.gamma.dot(dirs[j].gamma);
      for (int k = 0; k < 3; ++k) expected += g.theta[k].dot(dirs[j].theta[k]);
      EXPECT_NEAR(dots(stored, j), expected, 1e-11 * (1 + std::abs(expected)));
    }
    MatrixXd head = rows.head_dot(l, dirs[0].theta[l]);
    EXPECT_NEAR(head(stored - f.data.train.task_begin[l], 0), g.theta[l].dot(dirs[0].theta[l]), 1e-11);
  }
}

TEST(LissaSolver, ScoresEqualExactScores) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-2);
  BlockSchurSolver exact(exact_block_hessian(curvature));
  LissaOptions options;
  options.depth = 20000;
  options.tolerance = 1e-9;
  LissaSolver lissa(curvature, options);
  MlpTargets targets = mlp_task_targets(f.model, f.data.test);
  MlpRowGradients rows(f.model, f.data.train);
  InfluenceScores a = mlp_influence(f.model, f.data.train, rows, exact, targets);
  InfluenceScores b = mlp_influence(f.model, f.data.train, rows, lissa, targets);
  EXPECT_TRUE(lissa.warnings().empty()) << lissa.warnings()[0];
  EXPECT_LT((a.total - b.total).cwiseAbs().maxCoeff(), 1e-6 * a.total.cwiseAbs().maxCoeff());
}

TEST(LissaSolver, ReportsDivergenceWhenScaleIsTooSmall) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-2);
  LissaOptions options;
  options.scale = 1e-3;  // far below lambda_max(N) / 2: the series grows
  LissaSolver lissa(curvature, options);
  MatrixXd x = lissa.solve_schur(MatrixXd::Random(f.model.shared_size(), 1));
  ASSERT_EQ(lissa.reports().size(), 1u);
  EXPECT_TRUE(lissa.reports()[0].diverged);
  ASSERT_FALSE(lissa.warnings().empty());
  EXPECT_NE(lissa.warnings()[0].find("diverged"), std::string::npos);
  EXPECT_TRUE(x.allFinite());
}

// EK-FAC drops the head-trunk coupling and cross-layer blocks, so it is an
// approximation: its scores must still rank like the exact ones.
TEST(MlpEkfacSolver, ScoresCorrelateWithExactScores) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-3);
  BlockSchurSolver exact(exact_block_hessian(curvature));
  MlpEkfacSolver ekfac(f.model, f.data.train, 1e-3);
  MlpTargets targets = mlp_task_targets(f.model, f.data.test);
  MlpRowGradients rows(f.model, f.data.train);
  InfluenceScores a = mlp_influence(f.model, f.data.train, rows, exact, targets);
  InfluenceScores b = mlp_influence(f.model, f.data.train, rows, ekfac, targets);
  VectorXd x = Eigen::Map<const VectorXd>(a.total.data(), a.total.size());
  VectorXd y = Eigen::Map<const VectorXd>(b.total.data(), b.total.size());
  const double r = pearson(x, y);
  RecordProperty("pearson_ekfac_vs_exact", std::to_string(r));
  std::cout << "EK-FAC vs exact scores: Pearson " << r << ", Spearman " << spearman(x, y) << "\n";
  EXPECT_GT(r, 0.8);  // 0.857 on this fixture (README, "Neural models")
  // Head blocks are exact: the task part of own-task rows is identical.
  EXPECT_LT((a.task_part - b.task_part).cwiseAbs().maxCoeff(), 1e-10 * a.task_part.cwiseAbs().maxCoeff());
}

// EK-FAC's defining property: in the Kronecker eigenbasis its eigenvalues are
// the exact curvature along each basis direction, v^T C v for
// v = vec(Q_S e_i (Q_A e_j)^T).
TEST(MlpEkfacSolver, CorrectedEigenvaluesAreExactCurvatureAlongTheBasis) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::GaussNewton, 1e-3);
  BlockHessian dense = exact_block_hessian(curvature);
  MlpEkfacSolver ekfac(f.model, f.data.train, 1e-3);
  ASSERT_EQ(ekfac.layers().size(), 1u);  // one hidden layer: the whole trunk
  const auto& layer = ekfac.layers()[0];
  for (auto [i, j] : {std::pair<Index, Index>{0, 0}, {2, 3}, {5, 5}, {3, 1}}) {
    MatrixXd direction = layer.grad_basis.col(i) * layer.input_basis.col(j).transpose();  // out x (in+1)
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w = direction.leftCols(layer.in);
    VectorXd v(f.model.shared_size());
    v << Eigen::Map<const VectorXd>(w.data(), w.size()), direction.col(layer.in);
    EXPECT_NEAR(v.dot(dense.C * v), layer.eigenvalues(i, j), 1e-10 * layer.eigenvalues(i, j));
  }
}

// Softmax heads: the Gauss-Newton pseudo-gradients sum_c p_c (e_c - p)(e_c - p)^T
// reproduce Lambda = diag(p) - p p^T, so EK-FAC's corrected eigenvalues are
// again the exact curvature along its basis, and CG matches the exact solve.
TEST(MlpEkfacSolver, SoftmaxHeadsKeepTheDefiningProperty) {
  TrainTest data = test::make_data(2, 4, {40, 30}, 20, LossKind::Squared, 5);
  for (Index i = 0; i < data.train.num_rows(); ++i) data.train.y(i) = double(i % 3);
  for (Index i = 0; i < data.test.num_rows(); ++i) data.test.y(i) = double(i % 3);
  MlpConfig c = small_config();
  c.head = HeadKind::Softmax;
  c.classes = 3;
  MlpModel model = train_mlp(data.train, c);
  MlpCurvature curvature(model, data.train, CurvatureKind::GaussNewton, 1e-3);
  BlockHessian dense = exact_block_hessian(curvature);
  MlpEkfacSolver ekfac(model, data.train, 1e-3);
  const auto& layer = ekfac.layers()[0];
  for (auto [i, j] : {std::pair<Index, Index>{0, 0}, {4, 2}}) {
    MatrixXd direction = layer.grad_basis.col(i) * layer.input_basis.col(j).transpose();
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w = direction.leftCols(layer.in);
    VectorXd v(model.shared_size());
    v << Eigen::Map<const VectorXd>(w.data(), w.size()), direction.col(layer.in);
    EXPECT_NEAR(v.dot(dense.C * v), layer.eigenvalues(i, j), 1e-10 * layer.eigenvalues(i, j));
  }
  for (int k = 0; k < 2; ++k)  // exact head blocks from the same pseudo-gradients
    EXPECT_LT((ekfac.solve_task(k, dense.A[k]) - MatrixXd::Identity(dense.A[k].rows(), dense.A[k].rows()))
                  .cwiseAbs().maxCoeff(), 1e-9);
  BlockSchurSolver exact(dense);
  CgSolver cg(curvature, CgOptions{500, 1e-12});
  MlpTargets targets = mlp_task_targets(model, data.test);
  MlpRowGradients rows(model, data.train);
  InfluenceScores a = mlp_influence(model, data.train, rows, exact, targets);
  InfluenceScores b = mlp_influence(model, data.train, rows, cg, targets);
  EXPECT_LT((a.total - b.total).cwiseAbs().maxCoeff(), 1e-7 * a.total.cwiseAbs().maxCoeff());
}

}  // namespace
}  // namespace mtif
