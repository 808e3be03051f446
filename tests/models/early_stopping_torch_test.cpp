// Epoch selection on a validation split (include/mtif/early_stopping.hpp),
// the same for the shared-bottom MLP, VMTL and feedback MTL: the kept
// weights are those of the best epoch, patience ends training, and scoring
// the validation rows does not change the training itself.
#include <gtest/gtest.h>

#include <algorithm>

#include "mtif/feedback_mtl.hpp"
#include "mtif/mlp_model.hpp"
#include "mtif/vmtl.hpp"
#include "mtl_test_data.hpp"

namespace mtif {
namespace {

double mean_over_tasks(const VectorXd& v) { return v.mean(); }

// The selection's record must match the returned model on the validation rows,
// and the best epoch must score at least as well as every other epoch.
void expect_consistent(const EpochSelection& s, int max_epochs, double accuracy_now, double loss_now) {
  ASSERT_GE(s.best_epoch, 1);
  ASSERT_LE(s.best_epoch, s.epochs_run);
  ASSERT_LE(s.epochs_run, max_epochs);
  ASSERT_EQ(s.accuracy.size(), size_t(s.epochs_run));
  ASSERT_EQ(s.loss.size(), size_t(s.epochs_run));
  EXPECT_EQ(s.best_accuracy, *std::max_element(s.accuracy.begin(), s.accuracy.end()));
  EXPECT_NEAR(accuracy_now, s.best_accuracy, 1e-12);  // the best weights were put back
  EXPECT_NEAR(loss_now, s.best_loss, 1e-9);
}

// Few rows per task, so long runs overfit and the validation curve moves.
TrainTest overfitting_data() { return test::make_class_data(3, 40, 60, 5); }

// A softmax MLP without weight decay and with a large step: it overfits that data.
MlpConfig overfitting_mlp(int epochs) {
  MlpConfig c;
  c.hidden = {16};
  c.head = HeadKind::Softmax;
  c.classes = 3;
  c.weight_decay = 0;
  c.epochs = epochs;
  c.batch_size = 16;
  c.learning_rate = 3e-2;
  return c;
}

TEST(EarlyStopping, MlpKeepsTheBestEpochsWeights) {
  TrainTest d = overfitting_data();
  MlpConfig c = overfitting_mlp(80);
  MlpTrainOptions o;
  o.stopping = {&d.test, 0};
  EpochSelection s;
  o.selection = &s;
  MlpModel m = train_mlp(d.train, c, o);
  EXPECT_EQ(s.epochs_run, 80);  // patience 0: every epoch runs
  ASSERT_EQ(s.accuracy.size(), 80u);
  EXPECT_EQ(s.best_accuracy, *std::max_element(s.accuracy.begin(), s.accuracy.end()));
  // MlpModel has no accuracy method; its mean validation loss identifies the kept epoch.
  EXPECT_NEAR(mean_over_tasks(m.task_mean_loss(d.test)), s.best_loss, 1e-9);
  EXPECT_NE(s.best_loss, s.loss.back());  // so the test can tell restored weights from the last ones
}

TEST(EarlyStopping, PatienceEndsTraining) {
  TrainTest d = overfitting_data();
  MlpConfig c = overfitting_mlp(300);
  MlpTrainOptions o;
  o.stopping = {&d.test, 5};
  EpochSelection s;
  o.selection = &s;
  train_mlp(d.train, c, o);
  EXPECT_LT(s.epochs_run, 300);
  EXPECT_EQ(s.epochs_run - s.best_epoch, 5);
}

VmtlConfig small_vmtl() {
  VmtlConfig c;
  c.hidden = {16, 8};
  c.epochs = 25;
  c.batch_size = 16;
  c.learning_rate = 1e-2;
  c.test_samples = 5;
  c.seed = 3;
  return c;
}

TEST(EarlyStopping, VmtlKeepsTheBestEpochAndScoringLeavesTrainingAlone) {
  TrainTest d = overfitting_data();
  VmtlModel plain = train_vmtl(d.train, small_vmtl());
  VmtlModel selected = train_vmtl(d.train, small_vmtl(), {&d.test, 0});
  // Scoring draws random numbers; the training noise must not notice.
  EXPECT_EQ(plain.loss_history(), selected.loss_history());
  EXPECT_EQ(plain.selection().best_epoch, 0);
  expect_consistent(selected.selection(), 25, mean_over_tasks(selected.task_accuracy(d.test)),
                    mean_over_tasks(selected.task_mean_loss(d.test)));
}

TEST(EarlyStopping, FeedbackKeepsTheBestEpoch) {
  TrainTest d = overfitting_data();
  FeedbackConfig c;
  c.encoder = {16};
  c.head_width = 8;
  c.epochs = 25;
  c.batch_size = 16;
  c.learning_rate = 1e-2;
  c.seed = 4;
  FeedbackModel plain = train_feedback(d.train, c);
  FeedbackModel selected = train_feedback(d.train, c, {&d.test, 0});
  EXPECT_EQ(plain.loss_history(), selected.loss_history());
  expect_consistent(selected.selection(), 25, mean_over_tasks(selected.task_accuracy(d.test)),
                    mean_over_tasks(selected.task_mean_loss(d.test)));
}

}  // namespace
}  // namespace mtif
