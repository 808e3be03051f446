// Output-level feedback MTL: reproducibility, gate distributions, the cut
// matrix, the convergence loss and training.
#include <gtest/gtest.h>

#include "mtif/feedback_mtl.hpp"
#include "mtl_test_data.hpp"

namespace mtif {
namespace {

FeedbackConfig small_config(std::uint64_t seed = 1) {
  FeedbackConfig c;
  c.encoder = {16};
  c.head_width = 8;
  c.head_layers = 2;
  c.iterations = 3;
  c.epochs = 30;
  c.batch_size = 32;
  c.learning_rate = 1e-2;
  c.seed = seed;
  return c;
}

struct Trained {
  TrainTest data = test::make_class_data(3, 60, 60, 8);
  FeedbackModel model = train_feedback(data.train, small_config());
};
const Trained& trained() {
  static Trained t;
  return t;
}

TEST(Feedback, SameSeedSameModel) {
  const Trained& t = trained();
  FeedbackModel again = train_feedback(t.data.train, small_config());
  EXPECT_EQ(again.gates(), t.model.gates());
  EXPECT_EQ(again.task_mean_loss(t.data.test), t.model.task_mean_loss(t.data.test));
  FeedbackModel other = train_feedback(t.data.train, small_config(2));
  EXPECT_NE(other.task_mean_loss(t.data.test), t.model.task_mean_loss(t.data.test));
}

TEST(Feedback, GatesAreDistributionsOverTheHeadLayers) {
  MatrixXd g = trained().model.gates();
  ASSERT_EQ(g.rows(), 3);
  ASSERT_EQ(g.cols(), 2);
  for (int t = 0; t < 3; ++t) {
    EXPECT_NEAR(g.row(t).sum(), 1.0, 1e-12);
    EXPECT_GE(g.row(t).minCoeff(), 0.0);
  }
  EXPECT_GT((g.array() - 0.5).abs().maxCoeff(), 1e-4);  // the gate logits were trained
}

TEST(Feedback, CutMatrixHasZeroDiagonalAndFollowsTheMask) {
  const Trained& t = trained();
  MatrixXd r = t.model.feedback_relatedness(t.data.test);
  ASSERT_EQ(r.rows(), 3);
  ASSERT_EQ(r.cols(), 3);
  EXPECT_EQ(r.diagonal(), VectorXd::Zero(3));
  EXPECT_GT(r.cwiseAbs().maxCoeff(), 0.0);  // the heads use the feedback
  // Entry (j, t) is the loss of t with j -> t cut, minus the full loss.
  FeedbackModel::Cut cut = FeedbackModel::Cut::Constant(3, 3, false);
  cut(2, 0) = true;
  const double expect = t.model.task_mean_loss(t.data.test, &cut)(2) - t.model.task_mean_loss(t.data.test)(2);
  EXPECT_DOUBLE_EQ(r(0, 2), expect);
  // With 3 iterations the cut reaches the other tasks through task 2's
  // changed output at the next iteration; with 2 (one feedback step) it
  // cannot: cutting feedback into task 2 leaves tasks 0 and 1 alone.
  EXPECT_NE(t.model.task_mean_loss(t.data.test, &cut).head(2), t.model.task_mean_loss(t.data.test).head(2));
  FeedbackConfig one_step = small_config();
  one_step.iterations = 2;
  FeedbackModel m = train_feedback(t.data.train, one_step);
  EXPECT_EQ(m.task_mean_loss(t.data.test, &cut).head(2), m.task_mean_loss(t.data.test).head(2));
  EXPECT_NE(m.task_mean_loss(t.data.test, &cut)(2), m.task_mean_loss(t.data.test)(2));
}

TEST(Feedback, TrainingLowersTheLossAndPredictsAboveChance) {
  const Trained& t = trained();
  const auto& h = t.model.loss_history();
  ASSERT_EQ(h.size(), 30u);
  EXPECT_LT(h.back(), 0.5 * h.front());
  EXPECT_GT(t.model.task_accuracy(t.data.test).minCoeff(), 0.6);
}

TEST(Feedback, AmplifiersStartAtZeroSoAnUntrainedModelIgnoresTheFeedback) {
  const Trained& t = trained();
  FeedbackConfig untrained = small_config();
  untrained.epochs = 0;
  MatrixXd r = train_feedback(t.data.train, untrained).feedback_relatedness(t.data.test);
  EXPECT_EQ(r, MatrixXd::Zero(3, 3));
  // Training moved the amplifiers off zero: the gradient reaches them through
  // the previous iteration's outputs (CutMatrixHasZeroDiagonalAndFollowsTheMask).
  EXPECT_GT(t.model.feedback_relatedness(t.data.test).cwiseAbs().maxCoeff(), 1e-6);
}

// With every feedback path cut, each iteration repeats iteration 0, so the
// all-cut predictions are iteration 0's. The heads are shared by the
// iterations, so supervising the last one already trains them; supervising
// every iteration also asks iteration 0 to predict on its own. The option
// must change the model, and iteration 0 must predict well above chance.
TEST(Feedback, SupervisingEveryIterationIsAnOptionThatTakesEffect) {
  const Trained& t = trained();
  ASSERT_TRUE(small_config().supervise_all_iterations);
  FeedbackModel::Cut all = FeedbackModel::Cut::Constant(3, 3, true);
  FeedbackConfig last_only = small_config();
  last_only.supervise_all_iterations = false;
  FeedbackModel m = train_feedback(t.data.train, last_only);
  EXPECT_NE(m.task_mean_loss(t.data.test), t.model.task_mean_loss(t.data.test));
  EXPECT_NE(m.loss_history(), t.model.loss_history());
  EXPECT_GT(t.model.task_accuracy(t.data.test, &all).minCoeff(), 0.6);
}

TEST(Feedback, ConvergenceLossSettlesTheLoop) {
  const Trained& t = trained();
  FeedbackConfig strong = small_config(), none = small_config();
  strong.convergence_weight = 50.0;
  none.convergence_weight = 0.0;
  const double settled = train_feedback(t.data.train, strong).output_change(t.data.test);
  const double free = train_feedback(t.data.train, none).output_change(t.data.test);
  EXPECT_LT(settled, free);
}

TEST(FeedbackFile, LoadedModelPredictsGatesAndCutsAsTheSavedOne) {
  const Trained& t = trained();
  nlohmann::json j = feedback_to_json(t.model, t.data.train.task_names, t.data.train.feature_names);
  LoadedFeedback loaded = feedback_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(loaded.feature_names, t.data.train.feature_names);
  EXPECT_EQ(loaded.model.classes(), t.model.classes());
  EXPECT_EQ(loaded.model.gates(), t.model.gates());
  EXPECT_EQ(loaded.model.task_mean_loss(t.data.test), t.model.task_mean_loss(t.data.test));
  EXPECT_EQ(loaded.model.feedback_relatedness(t.data.test), t.model.feedback_relatedness(t.data.test));
  nlohmann::json broken = j;
  broken["classes"][0] = 7;  // a head of another width: its tensors no longer fit
  EXPECT_THROW(feedback_from_json(broken), std::runtime_error);
  broken = j;
  broken["format"] = "mtif-vmtl-1";
  EXPECT_THROW(feedback_from_json(broken), std::runtime_error);
}

}  // namespace
}  // namespace mtif
