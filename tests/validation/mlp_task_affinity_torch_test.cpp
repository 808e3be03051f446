// TAG lookahead affinity and gradient cosine on the shared-bottom network:
// observing the training run leaves the fit unchanged, one observed step
// equals a computation through MlpModel's own objective gradient, and a task
// that competes for a one-unit trunk is ranked below the tasks that share it.
#include <gtest/gtest.h>

#include <random>

#include "mtif/mlp_task_affinity.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

MlpConfig small_config() {
  MlpConfig c;
  c.hidden = {5};
  c.head = HeadKind::Binary;
  c.weight_decay = 1e-2;
  c.learning_rate = 0.05;
  c.epochs = 10;
  c.batch_size = 16;
  c.seed = 4;
  return c;
}

double max_diff(const BlockVector& a, const BlockVector& b) {
  double d = (a.gamma - b.gamma).cwiseAbs().maxCoeff();
  for (size_t k = 0; k < a.theta.size(); ++k) d = std::max(d, (a.theta[k] - b.theta[k]).cwiseAbs().maxCoeff());
  return d;
}

TEST(MlpTaskAffinity, ObservingTheRunLeavesTheFitUnchanged) {
  TrainTest data = test::make_data(3, 4, {30, 20, 25}, 10, LossKind::Logistic, 2);
  const MlpConfig config = small_config();
  MlpModel plain = train_mlp(data.train, config);
  MlpTaskAffinity affinity(data.train, config, {3, 0, true});
  MlpTrainOptions options;
  options.before_step = [&](long step, const MlpModel& m) { affinity.observe(step, m); };
  MlpModel watched = train_mlp(data.train, config, options);
  EXPECT_EQ(max_diff(plain.parameters(), watched.parameters()), 0.0);
  // 75 rows in batches of 16: 5 steps an epoch, 50 in all; every 3rd from step 0 gives 17.
  EXPECT_EQ(affinity.observed_steps(), 17);
  EXPECT_GT(affinity.seconds(), 0.0);
}

// Task i's shared gradient by another route: the objective's gradient with
// weight 1 on task i's rows, 0 elsewhere, and no weight decay.
VectorXd shared_gradient_of_task(const MlpModel& model, const Dataset& train, int task) {
  VectorXd weight = VectorXd::Zero(train.num_rows());
  weight.segment(train.task_begin[task], train.task_rows(task)).setOnes();
  return model.objective_gradient(train, &weight).gamma;
}

TEST(MlpTaskAffinity, OneStepMatchesTheObjectiveGradient) {
  TrainTest data = test::make_data(3, 4, {30, 20, 25}, 10, LossKind::Logistic, 2);
  MlpConfig config = small_config();
  config.weight_decay = 0;  // so the objective's gradient is the data gradient alone
  const double eta = 0.3;
  MlpTaskAffinity affinity(data.train, config, {1, eta, true});
  MlpTrainOptions options;
  options.steps = 1;  // observes step 0 only: the initial network
  MlpModel start;
  options.before_step = [&](long step, const MlpModel& m) {
    start = m;
    affinity.observe(step, m);
  };
  train_mlp(data.train, config, options);
  ASSERT_EQ(affinity.observed_steps(), 1);
  const int K = 3;
  const VectorXd before = start.task_mean_loss(data.train);
  std::vector<VectorXd> g;
  for (int i = 0; i < K; ++i) g.push_back(shared_gradient_of_task(start, data.train, i));
  const MatrixXd tag = affinity.tag(), cosine = affinity.gradcos();
  for (int i = 0; i < K; ++i) {
    MlpModel ahead = start;
    BlockVector w = start.parameters();
    w.gamma -= eta * g[i];
    ahead.set_parameters(w);
    const VectorXd after = ahead.task_mean_loss(data.train);
    for (int j = 0; j < K; ++j) {
      EXPECT_NEAR(tag(i, j), 1.0 - after(j) / before(j), 1e-12) << i << "," << j;
      EXPECT_NEAR(cosine(i, j), g[i].dot(g[j]) / (g[i].norm() * g[j].norm()), 1e-12) << i << "," << j;
    }
  }
}

// Tasks 0-2 depend on feature 0, task 3 on feature 1; with a one-unit trunk
// they compete for it, so task 3's steps work against the others.
TrainTest competing_tasks() {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  RawRows raw;
  raw.feature_names = {"x0", "x1", "x2"};
  raw.task_names = {"a", "b", "c", "rival"};
  for (int k = 0; k < 4; ++k)
    for (int i = 0; i < 60; ++i) {
      double x[3] = {normal(rng), normal(rng), normal(rng)};
      raw.values.insert(raw.values.end(), x, x + 3);
      raw.y.push_back((k < 3 ? x[0] : x[1]) + 0.1 * normal(rng));
      raw.task.push_back(k);
    }
  Dataset train = make_dataset(raw, "competing");
  return {train, train};
}

TEST(MlpTaskAffinity, ACompetingTaskRanksLowestForTheOthers) {
  TrainTest data = competing_tasks();
  MlpConfig config;
  config.hidden = {1};
  config.head = HeadKind::Regression;
  config.weight_decay = 1e-3;
  config.learning_rate = 0.02;
  config.epochs = 20;
  config.batch_size = 24;
  config.seed = 1;
  MlpTaskAffinity affinity(data.train, config, {1, 0, true});
  MlpTrainOptions options;
  options.before_step = [&](long step, const MlpModel& m) { affinity.observe(step, m); };
  train_mlp(data.train, config, options);
  for (const MatrixXd& m : {affinity.tag(), affinity.gradcos()})
    for (int target = 0; target < 3; ++target)
      for (int source = 0; source < 3; ++source)
        if (source != target) {
          EXPECT_LT(m(3, target), m(source, target)) << "target " << target << "\n" << m;
        }
}

}  // namespace
}  // namespace mtif
