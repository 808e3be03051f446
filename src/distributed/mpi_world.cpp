#include "mtif/mpi_world.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "mtif/csv_reader.hpp"

#ifdef MTIF_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only: the deprecated C++ bindings add nothing here
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace mtif {
namespace {

MpiWorld* g_world = nullptr;

// Large buffers go in pieces: MPI counts are ints, and the gathered copy of a
// sum holds one piece per rank.
constexpr size_t kPiece = size_t(1) << 24;

}  // namespace

MpiWorld* mpi_world() { return g_world; }
void set_mpi_world(MpiWorld* world) { g_world = world; }

bool MpiWorld::launched() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

std::pair<Eigen::Index, Eigen::Index> MpiWorld::row_range_of(int rank, Eigen::Index n) const {
  return {n * rank / size_, n * (rank + 1) / size_};
}

void MpiWorld::run_agreed(const std::function<void()>& step) const {
  if (size_ == 1) return step();  // errors propagate as in a plain run
  std::string message;
  int code = 0;
  try {
    step();
  } catch (const DataError& e) {
    message = e.what(), code = 2;
  } catch (const std::exception& e) {
    message = e.what(), code = 1;
  }
  const int worst = max(code);
  if (worst == 0) return;
  const int reporter = min(code ? rank_ : size_);
  if (reporter == rank_) std::cerr << "mtif: error: " << message << std::endl;
  throw ReportedFailure(worst);
}

void run_on_every_rank(const MpiWorld* world, const std::function<void()>& step) {
  if (world) world->run_agreed(step);
  else step();
}

#ifdef MTIF_HAVE_MPI

bool MpiWorld::available() { return true; }

MpiWorld::MpiWorld(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

void MpiWorld::sum(double* values, size_t count) const {
  if (size_ == 1) return;  // nothing to add: a 1-rank run equals a plain run bit for bit
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> all;
  for (size_t offset = 0; offset < count; offset += kPiece) {
    const size_t piece = std::min(kPiece, count - offset);
    all.resize(piece * size_);
    MPI_Allgather(values + offset, static_cast<int>(piece), MPI_DOUBLE, all.data(), static_cast<int>(piece),
                  MPI_DOUBLE, MPI_COMM_WORLD);
    // Rank order, the same on every rank: ((p0 + p1) + p2) + ...
    double* out = values + offset;
    for (size_t i = 0; i < piece; ++i) out[i] = all[i];
    for (int r = 1; r < size_; ++r)
      for (size_t i = 0; i < piece; ++i) out[i] += all[r * piece + i];
  }
  comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void MpiWorld::gather_rows(const double* local, Eigen::Index local_rows, Eigen::Index cols, double* out) const {
  const size_t local_count = static_cast<size_t>(local_rows) * cols;
  if (rank_ != 0) {
    // The size first (tag 1), then the values in pieces (tag 0), in order.
    unsigned long long announced = local_count;
    MPI_Send(&announced, 1, MPI_UNSIGNED_LONG_LONG, 0, 1, MPI_COMM_WORLD);
    for (size_t offset = 0; offset < local_count; offset += kPiece)
      MPI_Send(local + offset, static_cast<int>(std::min(kPiece, local_count - offset)), MPI_DOUBLE, 0, 0,
               MPI_COMM_WORLD);
    return;
  }
  std::copy(local, local + local_count, out);
  size_t at = local_count;
  for (int r = 1; r < size_; ++r) {
    unsigned long long announced = 0;
    MPI_Recv(&announced, 1, MPI_UNSIGNED_LONG_LONG, r, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (size_t count = 0; count < announced;) {
      const size_t piece = std::min<size_t>(kPiece, announced - count);
      MPI_Recv(out + at + count, static_cast<int>(piece), MPI_DOUBLE, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      count += piece;
    }
    at += announced;
  }
}

int MpiWorld::max(int value) const {
  int out = value;
  MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

int MpiWorld::min(int value) const {
  int out = value;
  MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return out;
}

void MpiWorld::barrier() const { MPI_Barrier(MPI_COMM_WORLD); }

void MpiWorld::abort(int code) const {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

#else  // built without MPI

bool MpiWorld::available() { return false; }

MpiWorld::MpiWorld(int*, char***) {
  throw std::runtime_error("this mtif was built without MPI (MTIF_WITH_MPI=OFF): run it without mpirun");
}
MpiWorld::~MpiWorld() = default;
void MpiWorld::sum(double*, size_t) const {}
void MpiWorld::gather_rows(const double* local, Eigen::Index local_rows, Eigen::Index cols, double* out) const {
  std::copy(local, local + local_rows * cols, out);
}
int MpiWorld::max(int value) const { return value; }
int MpiWorld::min(int value) const { return value; }
void MpiWorld::barrier() const {}
void MpiWorld::abort(int code) const { std::exit(code); }

#endif

}  // namespace mtif
