// The processes of an `mpirun` launch, for `mtif influence` on training rows
// split across them (README, "Running on a cluster").
//
// Rank r of N holds the contiguous file rows row_range(n). Sums over rows are
// combined by gathering every rank's partial sums and adding them in rank
// order on every rank, so all ranks hold bit-identical totals and a run with
// N ranks is reproducible (but not bit-identical to a run with another N:
// the partial sums group the rows differently).
//
// Without MPI support (MTIF_WITH_MPI=OFF) the class still compiles: launched()
// still sees a launcher, and constructing a world throws.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <stdexcept>
#include <utility>

#include "mtif/row_sum.hpp"

namespace mtif {

class MpiWorld : public RowSum {
 public:
  // True when a launcher (mpirun, srun) started this process.
  static bool launched();
  // True when this program was built with MPI (MTIF_WITH_MPI).
  static bool available();

  MpiWorld(int* argc, char*** argv);  // MPI_Init
  ~MpiWorld() override;               // MPI_Finalize
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Rows [first, second) of n that this rank holds: contiguous, sizes differ by at most one.
  std::pair<Eigen::Index, Eigen::Index> row_range(Eigen::Index n) const { return row_range_of(rank_, n); }
  std::pair<Eigen::Index, Eigen::Index> row_range_of(int rank, Eigen::Index n) const;

  // In place, identical on every rank: partial sums added in rank order.
  void sum(double* values, size_t count) const override;

  // The rows of a row-major matrix, `local_rows` x cols here, stacked in rank
  // order into `out` on rank 0 (which must have room for all of them).
  void gather_rows(const double* local, Eigen::Index local_rows, Eigen::Index cols, double* out) const;

  // Runs `step` on every rank and agrees on the outcome: if it threw on any
  // rank, the lowest such rank prints its error ("mtif: error: ...", one line)
  // and every rank throws ReportedFailure with the worst exit code (2 for bad
  // data, else 1), so no rank is left waiting in a collective. Steps must not
  // be left half-way on some ranks only: use it around reading and scoring.
  void run_agreed(const std::function<void()>& step) const;

  int max(int value) const;  // over all ranks
  int min(int value) const;
  void barrier() const;
  // Ends every process of the launch with `code` (after an error on one rank only).
  [[noreturn]] void abort(int code) const;

  double communication_seconds() const { return comm_seconds_; }  // time spent in sum()

 private:
  int rank_ = 0, size_ = 1;
  mutable double comm_seconds_ = 0;
};

// The world of this process, or nullptr when it was not launched by mpirun.
MpiWorld* mpi_world();
void set_mpi_world(MpiWorld* world);

// A failure already reported on stderr (by this rank or another): exit with `code`, print nothing more.
struct ReportedFailure : std::runtime_error {
  explicit ReportedFailure(int code) : std::runtime_error("failure reported"), code(code) {}
  int code;
};

// run_agreed on `world`, or just `step` when there is no world (plain run).
void run_on_every_rank(const MpiWorld* world, const std::function<void()>& step);

}  // namespace mtif
