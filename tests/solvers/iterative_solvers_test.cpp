// The linear model through the iterative solvers (CG, LiSSA on the block
// Hessian as an operator) gives the scores of its exact block-Schur path.
#include <gtest/gtest.h>

#include "mtif/block_schur_solver.hpp"
#include "mtif/iterative_solvers.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/linear_influence.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

struct LinearRun {
  TrainTest data = test::make_data(4, 6, {30, 50, 12, 40}, 20, LossKind::Squared, 7);
  LinearModel model = fit_linear(data.train, LinearConfig{});
  BlockHessian hessian = linear_block_hessian(model, data.train);
  Targets targets = task_targets(model, data.test);
};

double max_rel_diff(const ScoreMatrix& a, const ScoreMatrix& b) {
  return (a - b).cwiseAbs().maxCoeff() / a.cwiseAbs().maxCoeff();
}

TEST(IterativeSolvers, LinearScoresThroughCgEqualExactPath) {
  LinearRun run;
  BlockSchurSolver exact(run.hessian);
  BlockHessianOperator op(run.hessian);
  CgSolver cg(op, CgOptions{500, 1e-13});
  auto a = linear_influence(run.model, run.data.train, exact, run.targets, ScoreMode::FirstOrder);
  auto b = linear_influence(run.model, run.data.train, cg, run.targets, ScoreMode::FirstOrder);
  EXPECT_TRUE(cg.warnings().empty());
  EXPECT_LT(max_rel_diff(a.total, b.total), 1e-9);
  EXPECT_LT(max_rel_diff(a.shared_part, b.shared_part), 1e-9);
}

TEST(IterativeSolvers, LinearScoresThroughLissaEqualExactPath) {
  LinearRun run;
  BlockSchurSolver exact(run.hessian);
  BlockHessianOperator op(run.hessian);
  LissaOptions options;
  options.depth = 100000;
  options.tolerance = 1e-12;
  LissaSolver lissa(op, options);
  auto a = linear_influence(run.model, run.data.train, exact, run.targets, ScoreMode::FirstOrder);
  auto b = linear_influence(run.model, run.data.train, lissa, run.targets, ScoreMode::FirstOrder);
  EXPECT_TRUE(lissa.warnings().empty()) << lissa.warnings()[0];
  EXPECT_LT(max_rel_diff(a.total, b.total), 1e-9);
}

TEST(IterativeSolvers, CgWarnsWhenIterationsRunOut) {
  LinearRun run;
  BlockHessianOperator op(run.hessian);
  CgSolver cg(op, CgOptions{1, 1e-14});
  cg.solve_schur(MatrixXd::Ones(op.shared_size(), 1));
  ASSERT_EQ(cg.warnings().size(), 1u);
  EXPECT_FALSE(cg.reports()[0].converged);
}

}  // namespace
}  // namespace mtif
