// Out-of-core linear MTIF (issue 7): training data larger than memory.
//
// The squared-loss linear model needs only per-task sums over its rows
// (X_k^T X_k, X_k^T y_k, y_k^T y_k, n_k), so the training set is read twice in
// chunks of rows and never held whole:
//   pass 1  accumulates the sums chunk by chunk -> fit, block Hessian, factors;
//   pass 2  scores each chunk against every target and hands the chunk's
//           scores to a sink (a float32 .npy written as it goes, per-target
//           top-k rows, or per-source-task sums) before the next chunk is read.
// The test set (small: it defines the targets) is read whole.
//
// Under MPI each rank reads only its own file rows [begin, end) (.npy: only
// those bytes; CSV: every rank parses the file and keeps its rows), the sums
// are combined in rank order (RowSum), and the sinks combine their results
// (the .npy is one file that every rank writes its row block into).
//
// Only the squared loss and first-order scores stream; logistic loss (a Newton
// pass per iteration) and exact mode stay in memory (linear_influence).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mtif/block_schur_solver.hpp"
#include "mtif/csv_reader.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/mpi_world.hpp"
#include "mtif/npy.hpp"

namespace mtif {

// "2G", "512M", "64K", "1.5G" or a byte count; binary units (1K = 1024).
// Throws std::invalid_argument with one line for anything else, zero included.
size_t parse_memory_size(const std::string& text);

// Where the training rows come from: a CSV file or a folder of .npy files
// (the same forms as read_train_test / read_npy_train_test).
struct RowSource {
  std::string csv_path;
  std::string npy_dir;
  CsvOptions csv;
  bool intercept = false;  // append a constant-1 feature to every row
};

// A block of consecutive training rows (file order).
struct RowChunk {
  Index first_row = 0;  // train_row of the first row
  NpyRows X;            // rows x d (intercept column included)
  VectorXd y;
  std::vector<int> task;  // task id (after pass 1: the final, sorted numbering)
  std::vector<std::string> feature_names;  // CSV: the header's feature columns (.npy: empty)
  Index rows() const { return X.rows(); }
};

// Bytes of one chunk row while it is read and scored, so --memory can pick the chunk size.
// `csv_line_bytes`: the average length of a CSV line (0 for .npy input).
size_t bytes_per_chunk_row(Index features, int targets, size_t csv_line_bytes = 0);

// Per-task sums over the training rows: all the squared-loss fit needs.
struct GramSums {
  std::vector<std::string> task_names, feature_names;
  std::vector<MatrixXd> xtx;  // X_k^T X_k
  std::vector<VectorXd> xty;  // X_k^T y_k
  VectorXd yty;               // y_k^T y_k
  std::vector<Index> n;       // n_k (whole training set)
  Index rows = 0;             // training rows (whole set)
  Index max_row_bytes = 0;    // longest CSV line seen (sizes the read buffer)
};

// Reads training rows [row_begin, row_end) (file order; row_end < 0: to the
// end) in chunks of `chunk_rows` and calls `on_chunk` for each. `task_names`
// empty: pass 1 (CSV labels are collected; ids are those of `labels_out`,
// numbered in first-seen order). Otherwise the labels are fixed to these.
// Returns the number of training rows in the whole file.
Index read_row_chunks(const RowSource& source, Index chunk_rows, Index row_begin, Index row_end,
                      const std::vector<std::string>& task_names, const std::function<void(RowChunk&)>& on_chunk,
                      std::vector<std::string>* labels_out = nullptr);

// Pass 1: the sums over this process's rows, combined over `rows` (MPI ranks).
GramSums accumulate_gram(const RowSource& source, Index chunk_rows, const MpiWorld* world);

// The squared-loss model and its block Hessian from the sums (no data pass).
LinearModel fit_from_gram(const GramSums& sums, const LinearConfig& config);
BlockHessian block_hessian_from_gram(const GramSums& sums, const LinearConfig& config);

// The test set, read whole, with the training set's task labels and features.
Dataset read_streaming_test(const RowSource& source, const std::string& test_csv, const std::string& test_npy,
                            const GramSums& sums);

// Where the scores of each chunk go.
class ScoreSink {
 public:
  virtual ~ScoreSink() = default;
  // Scores of `chunk` (rows x T, row-major), in file order, chunk after chunk.
  virtual void consume(const RowChunk& chunk, const ScoreMatrix& scores) = 0;
  // Every rank calls it once after its last chunk; rank 0 (or the only process) writes.
  virtual void finish(const MpiWorld* world) = 0;
};

// Pass 2 setup: everything per task and per target that scoring a row needs,
// computed once (mtif-math.md 3: p_r = P_l x_r r_r / n_l, shared part p_r^T V).
class StreamingScorer {
 public:
  StreamingScorer(const LinearModel& model, const BlockInverse& solver, const Targets& targets,
                  const std::vector<Index>& task_n);
  // First-order scores of every row of the chunk against every target.
  void score(const RowChunk& chunk, ScoreMatrix& out) const;
  int num_targets() const { return static_cast<int>(V_.cols()); }

 private:
  const LinearModel& model_;
  std::vector<Index> task_n_;
  std::vector<MatrixXd> Pt_;                 // P_l^T = I - A_l^-1 B_l, per train task
  MatrixXd V_;                               // N^-1 Q, d x T
  MatrixXd A_inv_a_;                         // A_k^-1 a_t, d x T (task part of the target's own task)
  std::vector<std::vector<int>> own_targets_;  // targets whose task is l
};

// Pass 2: reads rows [begin, end) of this process, scores them, feeds `sink`.
void stream_scores(const RowSource& source, Index chunk_rows, const GramSums& sums, const StreamingScorer& scorer,
                   ScoreSink& sink, const MpiWorld* world);

// Sinks. All of them are complete-or-absent: nothing is written unless finish() runs.
//
// float32 matrix (train rows x targets) written as it is computed into
// PATH.partial-*, renamed to PATH by finish(); PATH.json names the targets and
// PATH.train_task.npy (int32) holds the task id of every row.
std::unique_ptr<ScoreSink> npy_float32_sink(const std::string& path, Index rows, const Targets& targets,
                                            const std::vector<std::string>& task_names, nlohmann::json settings,
                                            const MpiWorld* world);
// Per target: the k most helpful (largest scores) and k most harmful (most
// negative) rows, ties broken by the lower train_row. CSV:
// target_task[,target_row],kind,rank,train_row,train_task,loss_change_if_removed
std::unique_ptr<ScoreSink> topk_sink(const std::string& path, int k, const Targets& targets,
                                     const std::vector<std::string>& task_names);
// K x T sums of the scores of each source task's rows, added in file order
// (first-order LOTO, as sum_by_source_task). CSV like `mtif relatedness`:
// source_task,target_task[,target_row],loss_change_if_removed
std::unique_ptr<ScoreSink> source_sums_sink(const std::string& path, const Targets& targets,
                                            const std::vector<std::string>& task_names);

}  // namespace mtif
