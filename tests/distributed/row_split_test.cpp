// Training rows split into slices ("ranks") give the model, the Hessian
// blocks and the scores of the whole set. The ranks here are threads of one
// process that exchange partial sums through shared memory and add them in
// rank order, as MpiWorld does, so this runs without MPI.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "mtif/block_schur_solver.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

// Shared state of `size` thread ranks; each rank holds a ThreadRowSum.
class ThreadRanks {
 public:
  explicit ThreadRanks(int size) : size_(size), parts_(size) {}
  int size() const { return size_; }

  void sum(int rank, double* values, size_t count) {
    parts_[rank].assign(values, values + count);
    wait_for_all();
    for (size_t i = 0; i < count; ++i) values[i] = parts_[0][i];
    for (int r = 1; r < size_; ++r)
      for (size_t i = 0; i < count; ++i) values[i] += parts_[r][i];
    wait_for_all();  // nobody overwrites its part before all have read it
  }

 private:
  void wait_for_all() {
    std::unique_lock<std::mutex> lock(mutex_);
    const long generation = generation_;
    if (++arrived_ == size_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
  }
  int size_;
  std::vector<std::vector<double>> parts_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  long generation_ = 0;
};

class ThreadRowSum : public RowSum {
 public:
  ThreadRowSum(ThreadRanks& ranks, int rank) : ranks_(ranks), rank_(rank) {}
  void sum(double* values, size_t count) const override { ranks_.sum(rank_, values, count); }

 private:
  ThreadRanks& ranks_;
  int rank_;
};

struct RankResult {
  LinearModel model;
  BlockHessian hessian;
  InfluenceScores scores;
};

// Fits and scores with the training rows split into `size` contiguous slices.
std::vector<RankResult> run_split(const TrainTest& data, const LinearConfig& config, int size, ScoreMode mode) {
  ThreadRanks ranks(size);
  std::vector<RankResult> out(size);
  std::vector<std::thread> threads;
  const Index n = data.train.num_rows();
  for (int r = 0; r < size; ++r)
    threads.emplace_back([&, r] {
      ThreadRowSum rows(ranks, r);
      Dataset slice = slice_file_rows(data.train, n * r / size, n * (r + 1) / size);
      out[r].model = fit_linear(slice, config, nullptr, nullptr, &rows);
      out[r].hessian = linear_block_hessian(out[r].model, slice, nullptr, &rows);
      BlockSchurSolver solver(out[r].hessian);
      out[r].scores =
          linear_influence(out[r].model, slice, solver, task_targets(out[r].model, data.test), mode, true);
    });
  for (auto& t : threads) t.join();
  return out;
}

double max_rel(const Eigen::Ref<const MatrixXd>& a, const Eigen::Ref<const MatrixXd>& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(a.cwiseAbs().maxCoeff(), 1e-300);
}

// `tol`: 1e-12 for the closed-form squared loss. The logistic fit is Newton
// stopped at max |gradient| < 1e-11: a split sums in another order, which can
// move where it stops by ~|H^-1 g| (seen: 3.6e-9 in the ASan build), so 1e-7.
void expect_split_matches_whole(const TrainTest& data, const LinearConfig& config, ScoreMode mode,
                                double tol = 1e-12) {
  LinearModel whole = fit_linear(data.train, config);
  BlockSchurSolver solver(linear_block_hessian(whole, data.train));
  InfluenceScores expected = linear_influence(whole, data.train, solver, task_targets(whole, data.test), mode, true);
  for (int size : {1, 2, 3, 5}) {
    SCOPED_TRACE("ranks: " + std::to_string(size));
    std::vector<RankResult> ranks = run_split(data, config, size, mode);
    const Index n = data.train.num_rows();
    for (int r = 0; r < size; ++r) {
      // Every rank holds the very same model and blocks (same sums, same order).
      EXPECT_EQ(ranks[r].model.gamma, ranks[0].model.gamma);
      EXPECT_EQ(ranks[r].hessian.C, ranks[0].hessian.C);
      EXPECT_LT(max_rel(ranks[r].model.gamma, whole.gamma), tol);
      EXPECT_LT(max_rel(ranks[r].hessian.C, solver.hessian().C), tol / 10);
      const Index begin = n * r / size, rows = n * (r + 1) / size - begin;
      EXPECT_LT(max_rel(ranks[r].scores.total, expected.total.middleRows(begin, rows)), tol);
      EXPECT_LT(max_rel(ranks[r].scores.shared_part, expected.shared_part.middleRows(begin, rows)), tol);
      for (Index i = 0; i < rows; ++i) EXPECT_EQ(ranks[r].scores.train_task[i], expected.train_task[begin + i]);
    }
    if (size == 1) {
      EXPECT_EQ(ranks[0].scores.total, expected.total) << "one slice must be the plain computation";
    }
  }
}

TEST(RowSplit, SliceKeepsTaskCountsAndRenumbersFileRows) {
  TrainTest data = test::make_data(3, 4, {5, 7, 6});
  Dataset slice = slice_file_rows(data.train, 4, 11);
  EXPECT_EQ(slice.num_rows(), 7);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(slice.task_n(k), data.train.task_rows(k));
  auto stored = data.train.stored_row_of_file_row();
  for (Index i = 0; i < slice.num_rows(); ++i) {
    const Index whole_row = stored[slice.file_row[i] + 4];
    EXPECT_EQ(slice.X.row(i), data.train.X.row(whole_row));
    EXPECT_EQ(slice.task_of_row(i), data.train.task_of_row(whole_row));
  }
  EXPECT_THROW(slice_file_rows(data.train, 4, 19), std::out_of_range);
}

TEST(RowSplit, SquaredLossFirstOrderAndExact) {
  TrainTest data = test::make_data(4, 5, {13, 30, 8, 21});
  LinearConfig config;
  config.lambda_task = 0.5;
  expect_split_matches_whole(data, config, ScoreMode::FirstOrder);
  expect_split_matches_whole(data, config, ScoreMode::Exact);
}

TEST(RowSplit, LogisticNewtonIterations) {
  TrainTest data = test::make_data(3, 4, {40, 25, 33}, 20, LossKind::Logistic);
  LinearConfig config;
  config.loss = LossKind::Logistic;
  config.lambda_task = 0.1;
  config.lambda_shared = 0.1;
  expect_split_matches_whole(data, config, ScoreMode::FirstOrder, 1e-7);
}

}  // namespace
}  // namespace mtif
