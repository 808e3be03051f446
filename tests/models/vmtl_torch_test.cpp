// VMTL: Gumbel-softmax weights, temperature schedule, KL terms, training,
// reproducibility and the exported prior weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mtif/vmtl.hpp"
#include "mtl_test_data.hpp"

namespace mtif {
namespace {

VmtlConfig small_config(std::uint64_t seed = 3) {
  VmtlConfig c;
  c.hidden = {16, 8};
  c.epochs = 25;
  c.batch_size = 20;
  c.learning_rate = 1e-2;
  c.train_samples = 2;
  c.test_samples = 8;
  c.seed = seed;
  return c;
}

TEST(Gumbel, SampleIsADistributionAndMaskedEntriesGetZero) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double tau : {1.0, 0.5, 0.1}) {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      auto w = gumbel_softmax_sample({0.3, -inf, 1.2, -0.5}, tau, seed);
      ASSERT_EQ(w.size(), 4u);
      double sum = 0;
      for (double v : w) {
        EXPECT_GE(v, 0.0);
        sum += v;
      }
      EXPECT_NEAR(sum, 1.0, 1e-12);
      EXPECT_EQ(w[1], 0.0);
    }
  }
  EXPECT_EQ(gumbel_softmax_sample({0.1, 0.2, 0.3}, 0.7, 9), gumbel_softmax_sample({0.1, 0.2, 0.3}, 0.7, 9));
  EXPECT_NE(gumbel_softmax_sample({0.1, 0.2, 0.3}, 0.7, 9), gumbel_softmax_sample({0.1, 0.2, 0.3}, 0.7, 10));
}

TEST(Gumbel, LowTemperatureConcentratesTheWeight) {
  // Mean of the largest weight over many samples grows as tau falls.
  auto mean_max = [](double tau) {
    double sum = 0;
    for (std::uint64_t s = 0; s < 200; ++s) {
      auto w = gumbel_softmax_sample({0.0, 0.0, 0.0, 0.0}, tau, s);
      sum += *std::max_element(w.begin(), w.end());
    }
    return sum / 200;
  };
  EXPECT_GT(mean_max(0.1), mean_max(1.0) + 0.2);
  EXPECT_GT(mean_max(0.1), 0.9);
}

TEST(Gumbel, TemperatureIsAnnealedLinearlyFromStartToEnd) {
  EXPECT_DOUBLE_EQ(annealed_temperature(0, 101, 1.0, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(annealed_temperature(100, 101, 1.0, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(annealed_temperature(50, 101, 1.0, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(annealed_temperature(500, 101, 1.0, 0.5), 0.5);  // clamped past the end
  double last = 2;
  for (long s = 0; s < 101; ++s) {
    double tau = annealed_temperature(s, 101, 1.0, 0.5);
    EXPECT_LE(tau, last);
    last = tau;
  }
}

struct Trained {
  TrainTest data = test::make_class_data(4, 60, 60, 5, /*odd_task=*/3);
  VmtlModel model = train_vmtl(data.train, small_config());
};
const Trained& trained() {
  static Trained t;
  return t;
}

TEST(Vmtl, SameSeedSameModelOtherSeedOtherModel) {
  const Trained& t = trained();
  VmtlModel again = train_vmtl(t.data.train, small_config());
  EXPECT_EQ(again.alpha(), t.model.alpha());
  EXPECT_EQ(again.beta(), t.model.beta());
  EXPECT_EQ(again.predict_proba(t.data.test), t.model.predict_proba(t.data.test));
  VmtlModel other = train_vmtl(t.data.train, small_config(4));
  EXPECT_GT((other.alpha() - t.model.alpha()).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(Vmtl, ExportedWeightsAreDistributionsOverTheOtherTasks) {
  const Trained& t = trained();
  for (const MatrixXd& w : {t.model.alpha(), t.model.beta()}) {
    ASSERT_EQ(w.rows(), 4);
    ASSERT_EQ(w.cols(), 4);
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(w(i, i), 0.0);
      EXPECT_NEAR(w.row(i).sum(), 1.0, 1e-12);
      EXPECT_GE(w.row(i).minCoeff(), 0.0);
    }
  }
  // The logits were trained: the weights are no longer uniform.
  EXPECT_GT((t.model.alpha().array() - 1.0 / 3.0).abs().maxCoeff(), 1e-3);
}

TEST(Vmtl, KlTermsAreNonNegativeAndTrainingLowersTheLoss) {
  const Trained& t = trained();
  VmtlConfig none = small_config();
  none.epochs = 0;
  VmtlModel untrained = train_vmtl(t.data.train, none);
  VmtlTerms before = untrained.terms(t.data.train), after = t.model.terms(t.data.train);
  for (const VmtlTerms* terms : {&before, &after}) {
    EXPECT_GE(terms->kl_classifier.minCoeff(), 0.0);
    EXPECT_GE(terms->kl_representation.minCoeff(), 0.0);
  }
  EXPECT_LT(after.cross_entropy.sum(), 0.5 * before.cross_entropy.sum());
  const auto& h = t.model.loss_history();
  ASSERT_EQ(h.size(), 25u);
  EXPECT_LT(h.back(), h.front());
}

TEST(Vmtl, PredictsWellAboveChance) {
  const Trained& t = trained();
  VectorXd acc = t.model.task_accuracy(t.data.test);
  ASSERT_EQ(acc.size(), 4);
  // Chance is 1/3. Tasks 0-2 share their class means; task 3 permutes its
  // labels, so the priors that pull its classifier towards the others cost
  // it accuracy (about 0.5 here): it only has to beat chance.
  EXPECT_GT(acc.head(3).minCoeff(), 0.7);
  EXPECT_GT(acc(3), 0.4);
  MatrixXd p = t.model.predict_proba(t.data.test);
  EXPECT_LT((p.rowwise().sum().array() - 1.0).abs().maxCoeff(), 1e-12);
  EXPECT_TRUE(t.model.task_mean_loss(t.data.test).allFinite());
}

TEST(Vmtl, OneTaskFallsBackToAStandardNormalPrior) {
  TrainTest d = test::make_class_data(1, 60, 30, 2);
  VmtlModel m = train_vmtl(d.train, small_config());
  EXPECT_EQ(m.alpha(), MatrixXd::Zero(1, 1));
  EXPECT_GT(m.task_accuracy(d.test)(0), 0.6);
  EXPECT_GE(m.terms(d.train).kl_classifier(0), 0.0);
}

TEST(Vmtl, RefusesNonClassTargets) {
  TrainTest d = test::make_class_data(2, 10, 5, 2);
  d.train.y(3) = 0.5;
  EXPECT_THROW(train_vmtl(d.train, small_config()), std::invalid_argument);
}

// Regression: a Bayesian regressor per task, squared error.
struct TrainedRegression {
  TrainTest data = test::make_regression_data(3, 150, 100, 11);
  VmtlModel model = [this] {
    VmtlConfig c = small_config();
    c.regression = true;
    c.epochs = 60;
    return train_vmtl(data.train, c);
  }();
};
const TrainedRegression& trained_regression() {
  static TrainedRegression t;
  return t;
}

TEST(VmtlRegression, PredictsFarBetterThanTheTrainingMean) {
  const TrainedRegression& t = trained_regression();
  ASSERT_TRUE(t.model.is_regression());
  EXPECT_EQ(t.model.num_classes(), 1);
  VectorXd mse = t.model.task_mean_loss(t.data.test);
  ASSERT_EQ(mse.size(), 3);
  // Baseline: predict every test row with the training mean.
  const double mean = t.data.train.y.mean();
  for (int k = 0; k < 3; ++k) {
    const Index b = t.data.test.task_begin[k], n = t.data.test.task_rows(k);
    const double baseline = (t.data.test.y.segment(b, n).array() - mean).square().mean();
    EXPECT_LT(mse(k), 0.4 * baseline) << "task " << k;  // measured 0.13-0.29
  }
  // task_mean_loss is the mean squared error of predict(), in the target's units.
  VectorXd pred = t.model.predict(t.data.test);
  const Index b = t.data.test.task_begin[1], n = t.data.test.task_rows(1);
  EXPECT_NEAR(mse(1), (pred.segment(b, n) - t.data.test.y.segment(b, n)).squaredNorm() / double(n), 1e-9);
  EXPECT_EQ(t.model.predict(t.data.test), pred);  // seeded prediction draws
}

TEST(VmtlRegression, ExportsPriorWeightsAndNonNegativeKlTerms) {
  const TrainedRegression& t = trained_regression();
  for (const MatrixXd& w : {t.model.alpha(), t.model.beta()})
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(w(i, i), 0.0);
      EXPECT_NEAR(w.row(i).sum(), 1.0, 1e-12);
    }
  VmtlTerms terms = t.model.terms(t.data.train);
  EXPECT_GE(terms.kl_classifier.minCoeff(), 0.0);
  EXPECT_GE(terms.kl_representation.minCoeff(), 0.0);
  // The likelihood term is on the standardised target: well below 1 (the
  // variance of the standardised target) once trained.
  EXPECT_LT(terms.cross_entropy.maxCoeff(), 0.5);
}

TEST(VmtlRegression, ClassOnlyOutputsAreRefused) {
  const TrainedRegression& t = trained_regression();
  EXPECT_THROW(t.model.predict_proba(t.data.test), std::invalid_argument);
  EXPECT_THROW(t.model.task_accuracy(t.data.test), std::invalid_argument);
  EXPECT_THROW(trained().model.predict(trained().data.test), std::invalid_argument);
}

TEST(VmtlRegression, EarlyStoppingKeepsTheEpochWithTheLowestValidationError) {
  const TrainedRegression& t = trained_regression();
  // Only the selection mechanics are under test here, so the test rows may
  // serve as the validation rows.
  const Dataset& validation = t.data.test;
  VmtlConfig c = small_config();
  c.regression = true;
  c.epochs = 30;
  VmtlModel m = train_vmtl(t.data.train, c, {&validation, 0});
  const EpochSelection& s = m.selection();
  ASSERT_EQ(s.epochs_run, 30);
  ASSERT_GE(s.best_epoch, 1);
  EXPECT_EQ(s.best_loss, *std::min_element(s.loss.begin(), s.loss.end()));
  // The kept weights are that epoch's: the validation error is recomputed exactly.
  VectorXd mse = m.task_mean_loss(validation);
  EXPECT_NEAR(mse.mean(), s.best_loss, 1e-9);
}

TEST(VmtlFile, LoadedModelPredictsAndExportsAsTheSavedOne) {
  const Trained& t = trained();
  nlohmann::json j = vmtl_to_json(t.model, t.data.train.task_names, t.data.train.feature_names);
  LoadedVmtl loaded = vmtl_from_json(nlohmann::json::parse(j.dump()));  // through text, as on disk
  EXPECT_EQ(loaded.task_names, t.data.train.task_names);
  EXPECT_EQ(loaded.model.alpha(), t.model.alpha());
  EXPECT_EQ(loaded.model.beta(), t.model.beta());
  EXPECT_EQ(loaded.model.predict_proba(t.data.test), t.model.predict_proba(t.data.test));
  EXPECT_THROW(loaded.model.terms(t.data.train), std::invalid_argument);  // no training rows in a file

  const TrainedRegression& r = trained_regression();
  LoadedVmtl reg = vmtl_from_json(vmtl_to_json(r.model, r.data.train.task_names, r.data.train.feature_names));
  EXPECT_TRUE(reg.model.is_regression());
  EXPECT_EQ(reg.model.predict(r.data.test), r.model.predict(r.data.test));
}

TEST(VmtlFile, RefusesOtherFormatsAndMismatchedShapes) {
  const Trained& t = trained();
  nlohmann::json j = vmtl_to_json(t.model, t.data.train.task_names, t.data.train.feature_names);
  nlohmann::json other = j;
  other["format"] = "mtif-mlp-1";
  EXPECT_THROW(vmtl_from_json(other), std::runtime_error);
  nlohmann::json wider = j;
  wider["config"]["hidden"] = {16, 9};  // the saved tensors no longer fit
  EXPECT_THROW(vmtl_from_json(wider), std::runtime_error);
  nlohmann::json fewer = j;
  fewer["parameters"].erase(fewer["parameters"].size() - 1);
  EXPECT_THROW(vmtl_from_json(fewer), std::runtime_error);
}

}  // namespace
}  // namespace mtif
