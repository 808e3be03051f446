// Google Benchmark kernels of the linear MTIF pipeline (issue 2):
//
//   fit          fit_linear (Newton on the block system)
//   factor       BlockSchurSolver(linear_block_hessian(...)): A_k LDLTs + Schur complement N
//   first_order  task_targets + linear_influence(..., FirstOrder): every train row x every task
//   exact        task_targets + linear_influence(..., Exact)
//   parse_csv    parse_csv on the training CSV text already in memory (as `mtif` reads it)
//
// Shapes are K tasks x n_k train rows per task x d features, 50 test rows per
// task. Default shapes: the base 100x1000x50 and its scaling steps
// (rows x10, tasks x10, features x4). Choose others with
//   MTIF_BENCH_SHAPES="100x1000x50,100x10000x50" build-bench/bench/mtif_bench_linear
// Benchmarks run shape by shape, so the data of one shape is generated once.
//
// Allocator settings follow apps/mtif/main.cpp (mallopt), so in-process
// iterations reuse freed memory; first-touch page-fault costs show up in the
// whole-process runs of scripts/bench_linear.sh instead.
//
// The score kernels report counters `score/fit` (time of the kernel / time of
// one fit of the same model) and `(factor+score)/fit` (what `mtif influence`
// adds to a fit: it factors the Hessian again, then scores).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <malloc.h>
#include <unistd.h>

#include "mtif/block_schur_solver.hpp"
#include "mtif/csv_reader.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/synthetic.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Shape {
  int K = 100, n_k = 1000, d = 50;
  bool operator==(const Shape& o) const { return K == o.K && n_k == o.n_k && d == o.d; }
};

// Data, fitted model, solver and targets of one shape, built on first use.
struct Fixture {
  Shape shape;
  mtif::TrainTest data;
  mtif::LinearConfig config;
  mtif::LinearModel model;
  std::unique_ptr<mtif::BlockSchurSolver> solver;
  mtif::Targets targets;
  std::string csv_text;  // training CSV, filled by the parse benchmark
  double fit_s = 0;      // seconds per fit / factor, measured by those benchmarks
  double factor_s = 0;
};

std::unique_ptr<Fixture> g_fixture;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Fixture& fixture(const benchmark::State& state) {
  Shape s{int(state.range(0)), int(state.range(1)), int(state.range(2))};
  if (g_fixture && g_fixture->shape == s) return *g_fixture;
  g_fixture.reset();  // free the previous shape before generating the next
  auto f = std::make_unique<Fixture>();
  f->shape = s;
  mtif::SyntheticConfig c;
  c.tasks = s.K;
  c.features = s.d;
  c.train_rows = {s.n_k};
  c.test_rows_per_task = 50;
  c.seed = 7;
  f->data = mtif::generate_synthetic(c).data;
  f->model = mtif::fit_linear(f->data.train, f->config);
  f->solver = std::make_unique<mtif::BlockSchurSolver>(mtif::linear_block_hessian(f->model, f->data.train));
  f->targets = mtif::task_targets(f->model, f->data.test);
  g_fixture = std::move(f);
  return *g_fixture;
}

// Fit time for the ratio counters when the fit benchmark was filtered out.
double fit_seconds(Fixture& f) {
  if (f.fit_s == 0) {
    auto t0 = Clock::now();
    benchmark::DoNotOptimize(mtif::fit_linear(f.data.train, f.config));
    f.fit_s = seconds_since(t0);
  }
  return f.fit_s;
}

double factor_seconds(Fixture& f) {
  if (f.factor_s == 0) {
    auto t0 = Clock::now();
    mtif::BlockSchurSolver solver(mtif::linear_block_hessian(f.model, f.data.train));
    benchmark::DoNotOptimize(solver.schur().data());
    f.factor_s = seconds_since(t0);
  }
  return f.factor_s;
}

void set_shape_counters(benchmark::State& state, const Fixture& f) {
  state.counters["rows"] = double(f.data.train.num_rows());
}

void BM_Fit(benchmark::State& state) {
  Fixture& f = fixture(state);
  double total = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    mtif::LinearModel m = mtif::fit_linear(f.data.train, f.config);
    benchmark::DoNotOptimize(m.gamma.data());
    total += seconds_since(t0);
  }
  f.fit_s = total / double(state.iterations());
  set_shape_counters(state, f);
  state.counters["newton_steps"] = f.model.report.iterations;
}

void BM_Factor(benchmark::State& state) {
  Fixture& f = fixture(state);
  double total = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    mtif::BlockSchurSolver solver(mtif::linear_block_hessian(f.model, f.data.train));
    benchmark::DoNotOptimize(solver.schur().data());
    total += seconds_since(t0);
  }
  f.factor_s = total / double(state.iterations());
  set_shape_counters(state, f);
  state.counters["factor/fit"] = f.factor_s / fit_seconds(f);
}

void score(benchmark::State& state, mtif::ScoreMode mode) {
  Fixture& f = fixture(state);
  double total = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    mtif::Targets targets = mtif::task_targets(f.model, f.data.test);
    mtif::InfluenceScores s = mtif::linear_influence(f.model, f.data.train, *f.solver, targets, mode);
    benchmark::DoNotOptimize(s.total.data());
    total += seconds_since(t0);
  }
  const double per = total / double(state.iterations());
  set_shape_counters(state, f);
  state.counters["targets"] = f.targets.size();
  state.counters["score/fit"] = per / fit_seconds(f);
  state.counters["(factor+score)/fit"] = (factor_seconds(f) + per) / fit_seconds(f);
}

void BM_FirstOrder(benchmark::State& state) { score(state, mtif::ScoreMode::FirstOrder); }
void BM_Exact(benchmark::State& state) { score(state, mtif::ScoreMode::Exact); }

void BM_ParseCsv(benchmark::State& state) {
  Fixture& f = fixture(state);
  if (f.csv_text.empty()) {
    // The same text `mtif generate` writes (write_dataset_csv), read back into memory.
    auto path = std::filesystem::temp_directory_path() /
                ("mtif_bench_" + std::to_string(::getpid()) + ".csv");
    mtif::write_dataset_csv(f.data.train, path.string());
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    f.csv_text = text.str();
    std::filesystem::remove(path);
  }
  mtif::CsvOptions options;
  for (auto _ : state) {
    mtif::ParsedCsv parsed = mtif::parse_csv(f.csv_text, "train.csv", options);
    benchmark::DoNotOptimize(parsed.train.values.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(f.csv_text.size()));
  set_shape_counters(state, f);
  state.counters["csv_MB"] = double(f.csv_text.size()) / 1e6;
  std::string().swap(f.csv_text);  // do not carry the text into the next shape
}

std::vector<Shape> shapes_from_env() {
  std::vector<Shape> out;
  const char* env = std::getenv("MTIF_BENCH_SHAPES");
  if (!env || !*env) return {{100, 1000, 50}, {100, 10000, 50}, {1000, 1000, 50}, {100, 1000, 200}};
  std::stringstream in(env);
  std::string item;
  while (std::getline(in, item, ',')) {
    Shape s;
    if (std::sscanf(item.c_str(), "%dx%dx%d", &s.K, &s.n_k, &s.d) != 3 || s.K < 1 || s.n_k < 1 || s.d < 1) {
      std::fprintf(stderr, "MTIF_BENCH_SHAPES: '%s' is not KxNxD (e.g. 100x1000x50)\n", item.c_str());
      std::exit(2);
    }
    out.push_back(s);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // The same allocator settings as apps/mtif/main.cpp, so a kernel that frees and
  // re-allocates a large buffer per iteration is timed as the CLI would run it
  // (otherwise each iteration pays fresh-page faults, ~3 ms per MB on this VM).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const std::vector<std::pair<const char*, void (*)(benchmark::State&)>> kernels = {
      {"fit", BM_Fit}, {"factor", BM_Factor}, {"first_order", BM_FirstOrder}, {"exact", BM_Exact},
      {"parse_csv", BM_ParseCsv}};
  for (const Shape& s : shapes_from_env())
    for (const auto& [name, fn] : kernels)
      benchmark::RegisterBenchmark(name, fn)
          ->Args({s.K, s.n_k, s.d})
          ->ArgNames({"K", "n_k", "d"})
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->MeasureProcessCPUTime();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
