// Seeded synthetic multitask data with known structure, so negative transfer
// can be shown and checked: related tasks share a weight direction, some tasks
// conflict with it (opposite direction), and some training rows carry
// corrupted labels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mtif/dataset.hpp"
#include "mtif/loss.hpp"

namespace mtif {

struct SyntheticConfig {
  int tasks = 6;
  int features = 8;
  std::vector<int> train_rows = {120};  // per task; a single value applies to every task
  int test_rows_per_task = 200;
  double similarity = 0.9;     // cosine between a normal task's weights and the shared direction
  int conflicting_tasks = 1;   // the last tasks point against the shared direction
  double label_noise = 0.05;   // fraction of each task's training rows with corrupted labels
  double noise_std = 0.5;      // observation noise (squared loss)
  LossKind loss = LossKind::Squared;
  std::uint64_t seed = 7;
};

struct SyntheticData {
  TrainTest data;
  std::vector<char> corrupted;          // per train row, file order
  std::vector<int> conflicting_tasks;   // task ids
  std::string description;
};

SyntheticData generate_synthetic(const SyntheticConfig& config);

// Writes a data set in the CSV contract (task,y,features...) in file order.
void write_dataset_csv(const Dataset& data, const std::string& path);

}  // namespace mtif
