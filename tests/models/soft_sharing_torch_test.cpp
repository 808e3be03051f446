// Soft parameter sharing: one network per task tied to a shared centre. Its
// influence scores through the block solver must equal a dense solve with the
// full Hessian formed by autograd, independently of the curvature code; the
// coupling is the only route between tasks (B_k = -coupling I on the trunk).
#include <gtest/gtest.h>

#include "../../src/models/network_impl.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_influence.hpp"
#include "mtif/mlp_validation.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

MlpConfig soft_config() {
  MlpConfig c;
  c.sharing = "soft";
  c.coupling = 0.5;
  c.hidden = {4};
  c.head = HeadKind::Binary;
  c.weight_decay = 1e-2;
  c.learning_rate = 0.05;
  c.epochs = 60;
  c.batch_size = 32;
  c.seed = 3;
  return c;
}

struct Fixture {
  TrainTest data = test::make_data(3, 4, {30, 20, 40}, 20, LossKind::Logistic, 2);
  // Polished to a minimum: the Hessian there is positive definite.
  MlpModel model = mlp_retrain(train_mlp(data.train, soft_config()), data.train,
                               VectorXd::Ones(data.train.num_rows()), MlpRetrainProtocol{});
};

// The whole Hessian of the objective by double backward, parameters in all_parameters() order.
MatrixXd dense_hessian(const MlpModel& model, const Dataset& train) {
  const NetworkImpl& net = model.impl();
  auto params = net.all_parameters();
  torch::Tensor objective = objective_tensor(net, to_torch(train));
  std::vector<torch::Tensor> grads = torch::autograd::grad({objective}, params, {}, true, true);
  std::vector<torch::Tensor> flat_parts;
  for (auto& g : grads) flat_parts.push_back(g.reshape({-1}));
  torch::Tensor flat = torch::cat(flat_parts);
  MatrixXd H(flat.numel(), flat.numel());
  for (int64_t j = 0; j < flat.numel(); ++j)
    H.col(j) = flatten(torch::autograd::grad({flat[j]}, params, {}, true, false, true));
  return 0.5 * (H + H.transpose());
}

VectorXd stacked(const BlockVector& b) {
  Index size = b.gamma.size();
  for (const auto& t : b.theta) size += t.size();
  VectorXd out(size);
  Index at = 0;
  for (const auto& t : b.theta) {
    out.segment(at, t.size()) = t;
    at += t.size();
  }
  out.tail(b.gamma.size()) = b.gamma;
  return out;
}

TEST(SoftSharing, ScoresEqualDenseHessianSolve) {
  Fixture f;
  const Dataset& train = f.data.train;
  MlpCurvature curvature(f.model, train, CurvatureKind::Hessian, 0.0);
  BlockSchurSolver exact(exact_block_hessian(curvature));
  MlpTargets targets = mlp_task_targets(f.model, f.data.test);
  InfluenceScores s = mlp_influence(f.model, train, MlpRowGradients(f.model, train), exact, targets);

  Eigen::LDLT<MatrixXd> dense(dense_hessian(f.model, train));
  const VectorXd no_rows = VectorXd::Zero(train.num_rows());
  const VectorXd penalty_gradient = stacked(f.model.objective_gradient(train, &no_rows));
  double worst = 0, largest = 0;
  for (Index stored : {Index(0), Index(17), Index(33), Index(52), Index(89)}) {
    const int l = train.task_of_row(stored);
    VectorXd weight = no_rows;
    weight(stored) = double(train.task_rows(l));  // undo the objective's 1/n_l: row stored's own loss
    const VectorXd g = stacked(f.model.objective_gradient(train, &weight)) - penalty_gradient;
    const VectorXd u = dense.solve(g);
    for (size_t t = 0; t < targets.task.size(); ++t) {
      const double expected = stacked(targets.gradient[t]).dot(u) / double(train.task_rows(l));
      worst = std::max(worst, std::abs(s.total(train.file_row[stored], t) - expected));
      largest = std::max(largest, std::abs(expected));
    }
  }
  EXPECT_GT(largest, 0);
  EXPECT_LT(worst, 1e-8 * largest);
}

TEST(SoftSharing, CouplingIsTheOnlyRouteBetweenTasks) {
  Fixture f;
  MlpCurvature curvature(f.model, f.data.train, CurvatureKind::Hessian, 0.0);
  BlockHessian h = exact_block_hessian(curvature);
  const Index p = f.model.shared_size();  // one trunk: the first p entries of each theta_k
  const double coupling = soft_config().coupling, wd = soft_config().weight_decay;
  for (int k = 0; k < 3; ++k) {
    MatrixXd expected = MatrixXd::Zero(f.model.head_size(k), p);
    expected.topRows(p) = -coupling * MatrixXd::Identity(p, p);
    EXPECT_LT((h.B[k] - expected).cwiseAbs().maxCoeff(), 1e-12) << "task " << k;
  }
  const MatrixXd C = (3 * coupling + wd) * MatrixXd::Identity(p, p);
  EXPECT_LT((h.C - C).cwiseAbs().maxCoeff(), 1e-12);
  // Rows do not touch the centre: their shared-block gradient is zero.
  MlpTargets targets = mlp_task_targets(f.model, f.data.test);
  for (const auto& g : targets.gradient) EXPECT_EQ(g.gamma.cwiseAbs().maxCoeff(), 0.0);
}

TEST(SoftSharing, TrainingLowersTheObjectiveAndSavesAndLoads) {
  TrainTest data = test::make_data(3, 4, {30, 20, 40}, 20, LossKind::Logistic, 2);
  MlpConfig c = soft_config();
  c.epochs = 0;
  const double start = train_mlp(data.train, c).objective(data.train);
  MlpModel fitted = train_mlp(data.train, soft_config());
  EXPECT_LT(fitted.objective(data.train), start);
  LoadedMlp loaded = mlp_from_json(mlp_to_json(fitted, data.train.task_names, data.train.feature_names));
  EXPECT_EQ(loaded.model.config().sharing, "soft");
  EXPECT_LT((loaded.model.outputs(data.test) - fitted.outputs(data.test)).cwiseAbs().maxCoeff(), 1e-14);
}

}  // namespace
}  // namespace mtif
