#include "mtif/gather_scores.hpp"

namespace mtif {
namespace {

// Stacks each rank's rows of `local` (cols wide) on rank 0.
template <typename Matrix>
Matrix gather_matrix(const MpiWorld& world, const Matrix& local, Index total_rows, Index cols) {
  Matrix all;
  if (world.rank() == 0) all.resize(total_rows, cols);
  world.gather_rows(local.data(), local.rows(), cols, all.data());
  return all;
}

}  // namespace

InfluenceScores gather_scores(const MpiWorld& world, InfluenceScores local, Index total_rows, bool with_parts) {
  const Index T = local.total.cols();
  InfluenceScores all;
  all.mode = local.mode;
  all.total = gather_matrix(world, local.total, total_rows, T);
  if (with_parts) {
    all.task_part = gather_matrix(world, local.task_part, total_rows, T);
    all.shared_part = gather_matrix(world, local.shared_part, total_rows, T);
  }
  if (local.mode == ScoreMode::Exact) all.leverage = gather_matrix(world, local.leverage, total_rows, 1);
  VectorXd task(local.train_task.size());
  for (size_t i = 0; i < local.train_task.size(); ++i) task(i) = local.train_task[i];
  VectorXd all_task = gather_matrix(world, task, total_rows, 1);
  if (world.rank() != 0) return local;
  all.train_task.resize(total_rows);
  for (Index i = 0; i < total_rows; ++i) all.train_task[i] = static_cast<int>(all_task(i));
  return all;
}

}  // namespace mtif
