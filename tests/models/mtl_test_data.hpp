// Small classification data for the VMTL and feedback tests: 3 classes,
// Gaussian clusters in 6 dimensions; each task sees the class means through
// its own small rotation-like perturbation (tasks are related domains of one
// label space), except `odd_task` (if >= 0), whose labels are permuted.
#pragma once

#include <cmath>
#include <random>

#include "mtif/dataset.hpp"

namespace mtif::test {

inline TrainTest make_class_data(int tasks, int train_rows, int test_rows, std::uint64_t seed, int odd_task = -1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int d = 6, classes = 3;
  MatrixXd means(classes, d);
  for (int c = 0; c < classes; ++c)
    for (int j = 0; j < d; ++j) means(c, j) = 2.0 * normal(rng);
  RawRows raw[2];
  for (auto& r : raw) {
    for (int j = 0; j < d; ++j) r.feature_names.push_back("x" + std::to_string(j));
    for (int t = 0; t < tasks; ++t) r.task_names.push_back("t" + std::to_string(t));
  }
  for (int t = 0; t < tasks; ++t) {
    MatrixXd shift(classes, d);
    for (int c = 0; c < classes; ++c)
      for (int j = 0; j < d; ++j) shift(c, j) = 0.3 * normal(rng);
    for (int part = 0; part < 2; ++part)
      for (int i = 0; i < (part == 0 ? train_rows : test_rows); ++i) {
        const int c = int(rng() % classes);
        for (int j = 0; j < d; ++j) raw[part].values.push_back(means(c, j) + shift(c, j) + normal(rng));
        raw[part].y.push_back(t == odd_task ? (c + 1) % classes : c);
        raw[part].task.push_back(t);
      }
  }
  return {make_dataset(raw[0], "test data"), make_dataset(raw[1], "test data")};
}

// Small regression data: y = sin(x . u) + x . v_t + noise in 6 dimensions,
// one nonlinear part shared by every task, a small task-specific linear part,
// on a scale and offset far from (0, 1) (so standardisation matters).
inline TrainTest make_regression_data(int tasks, int train_rows, int test_rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int d = 6;
  VectorXd u(d);
  for (int j = 0; j < d; ++j) u(j) = normal(rng) / std::sqrt(double(d));
  RawRows raw[2];
  for (auto& r : raw) {
    for (int j = 0; j < d; ++j) r.feature_names.push_back("x" + std::to_string(j));
    for (int t = 0; t < tasks; ++t) r.task_names.push_back("t" + std::to_string(t));
  }
  for (int t = 0; t < tasks; ++t) {
    VectorXd v(d);
    for (int j = 0; j < d; ++j) v(j) = 0.2 * normal(rng);
    for (int part = 0; part < 2; ++part)
      for (int i = 0; i < (part == 0 ? train_rows : test_rows); ++i) {
        VectorXd x(d);
        for (int j = 0; j < d; ++j) x(j) = normal(rng);
        raw[part].values.insert(raw[part].values.end(), x.data(), x.data() + d);
        raw[part].y.push_back(40.0 + 20.0 * (2.0 * std::sin(2.0 * x.dot(u)) + x.dot(v) + 0.1 * normal(rng)));
        raw[part].task.push_back(t);
      }
  }
  return {make_dataset(raw[0], "test data"), make_dataset(raw[1], "test data")};
}

}  // namespace mtif::test
