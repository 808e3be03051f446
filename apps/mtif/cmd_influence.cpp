#include <fmt/format.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "mtif/gather_scores.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/streaming.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {

struct Options {
  DataOptions data;
  ModelOptions model;
  OutputOptions out;
  std::string scores_path, targets = "tasks", mode = "first-order";
  std::string memory, reduce;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Out-of-core path (include/mtif/streaming.hpp): two passes over the training
// rows in chunks sized from --memory; scores go to a sink chunk by chunk.
void streaming_influence(const Options& o) {
  // Refuse what does not stream before reading anything.
  check_regression_flag(o.model);
  const size_t budget = parse_memory_size(o.memory.empty() ? "1G" : o.memory);
  if (o.model.loss != "squared")
    throw std::invalid_argument("--memory/--reduce stream the squared loss only; the logistic loss runs in memory "
                                "(drop --memory and --reduce)");
  if (o.mode != "first-order")
    throw std::invalid_argument("--memory/--reduce stream first-order scores only; exact mode runs in memory");
  // A small budget comes first: transparent huge pages (main.cpp) round every buffer up to
  // 2 MiB pages, which overshot an 8 MiB budget by 0.5 MiB. From 512 MiB the rounding is
  // noise beside the budget and the pages save more page-fault time than they cost.
  if (budget < (size_t{512} << 20)) ::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
  if (!o.model.model_file.empty()) throw std::invalid_argument("--model-file is not supported with --memory/--reduce");
  int top_k = 0;
  if (!o.reduce.empty()) {
    if (o.reduce.rfind("topk:", 0) == 0) {
      const std::string k = o.reduce.substr(5);
      if (k.empty() || k.size() > 9 || k.find_first_not_of("0123456789") != std::string::npos || std::stoi(k) < 1)
        throw std::invalid_argument(fmt::format("--reduce '{}': K must be a whole number >= 1 (e.g. topk:100)", o.reduce));
      top_k = std::stoi(k);
    } else if (o.reduce != "source-sums") {
      throw std::invalid_argument(fmt::format("--reduce '{}': expected topk:K or source-sums", o.reduce));
    }
    if (ends_with(o.scores_path, ".npy"))
      throw std::invalid_argument("--reduce writes a CSV: give --out a name that does not end in .npy");
  } else if (!ends_with(o.scores_path, ".npy")) {
    throw std::invalid_argument("--memory writes every score as a float32 .npy (--out NAME.npy) or a reduction "
                                "(--reduce topk:K or source-sums); a CSV line per score is not streamed");
  }
  if (o.data.train.empty() == o.data.train_npy.empty()) throw CLI::RequiredError("--train (CSV) or --train-npy (folder)");
  if (!o.data.train_npy.empty() && o.data.test_npy.empty()) throw CLI::RequiredError("--test-npy (with --train-npy)");
  const MpiWorld* world = mpi_world();
  const bool root = !world || world->rank() == 0;
  const bool quiet = o.out.quiet || !root;
  RowSource source;
  source.csv_path = o.data.train;
  source.npy_dir = o.data.train_npy;
  source.csv.target_column = o.data.target;
  source.csv.task_column = o.data.task_column;
  if (!o.data.features.empty()) {
    std::stringstream in(o.data.features);
    for (std::string f; std::getline(in, f, ',');)
      if (!f.empty()) source.csv.features.push_back(f);
  }
  source.intercept = o.data.intercept;
  LinearConfig config;
  config.lambda_task = o.model.lambda_task;
  config.lambda_shared = o.model.lambda_shared;
  config.intercept = o.data.intercept;

  // Pass 1 needs only the data chunk (no targets yet): size it for the first
  // pass from the header's width; pass 2 is sized again with the targets known.
  nlohmann::json timings;
  Stopwatch clock;
  size_t line_bytes = 0;  // CSV: average length of the first 1,000 data lines (sizes the text buffer)
  const auto width = [&]() -> Index {
    if (!source.npy_dir.empty()) return read_npy_header(source.npy_dir + "/X.npy").cols() + source.intercept;
    std::ifstream in(source.csv_path);
    std::string header, line;
    std::getline(in, header);
    size_t lines = 0, bytes = 0;
    for (; lines < 1000 && std::getline(in, line); ++lines) bytes += line.size() + 1;
    line_bytes = lines ? (bytes + lines - 1) / lines : header.size() + 1;
    return static_cast<Index>(std::count(header.begin(), header.end(), ',')) + 1 + source.intercept;
  }();
  const auto chunk_rows_for = [&](size_t fixed, int T) -> Index {
    const size_t per_row = bytes_per_chunk_row(width, T, line_bytes);
    constexpr size_t kMinRows = 16;
    if (budget < fixed + kMinRows * per_row)
      throw std::invalid_argument(fmt::format(
          "--memory {}: too small; this data needs at least {:.1f} MB ({:.1f} MB of per-task blocks and targets "
          "+ {} rows of {} bytes)",
          o.memory.empty() ? "1G" : o.memory, (fixed + kMinRows * per_row) / 1e6, fixed / 1e6, kMinRows, per_row));
    return static_cast<Index>((budget - fixed) / per_row);
  };
  // Before pass 1 the task count is unknown: it holds the K sums (d^2 each) as
  // they grow; reserve room for them from a first guess of 1,000 tasks.
  const size_t d = static_cast<size_t>(width);
  // Chunks larger than this gain nothing (each task's rows of a chunk are already a block of
  // GEMM size) and cost first-touch page faults on this kind of VM (3-6 ms per MB), so the
  // budget caps the chunk from above and this from below. MTIF_CHUNK_ROWS overrides it (benchmarks).
  const Index max_chunk = std::getenv("MTIF_CHUNK_ROWS") ? std::atol(std::getenv("MTIF_CHUNK_ROWS")) : 65536;
  Index chunk1 = std::min(max_chunk, chunk_rows_for(std::min<size_t>(budget / 2, 1000 * d * d * 8), 0));
  GramSums sums;
  run_on_every_rank(world, [&] { sums = accumulate_gram(source, chunk1, world); });
  timings["pass1_s"] = clock.lap();
  const int K = static_cast<int>(sums.xtx.size());
  info(quiet, fmt::format("read {} training rows in chunks of {}: {} tasks, {} features", sums.rows, chunk1, K,
                          sums.feature_names.size()));
  LinearModel model;
  std::unique_ptr<BlockSchurSolver> solver;
  Dataset test;
  Targets targets;
  std::vector<std::string> warnings;
  run_on_every_rank(world, [&] {
    model = fit_from_gram(sums, config);
    if (!model.report.converged)
      warnings.push_back("the fit " + describe(model.report));
    timings["fit_s"] = clock.lap();
    solver = std::make_unique<BlockSchurSolver>(block_hessian_from_gram(sums, config), sums.task_names);
    for (const auto& w : solver->warnings()) warnings.push_back(w);
    timings["factor_s"] = clock.lap();
    test = read_streaming_test(source, o.data.test, o.data.test_npy, sums);
    targets = o.targets == "rows" ? row_targets(model, test) : task_targets(model, test);
  });
  if (root)
    for (const auto& w : warnings) std::cerr << "warning: " << w << '\n';
  const int T = targets.size();
  // What stays in memory through pass 2 (bytes): the sums, A_k, B_k, C_k and
  // the LDLT of A_k, P_l^T (6 K d^2), targets and their solves (4 d T), the
  // test set, and the reduction's state.
  const size_t fixed = 8 * (6 * size_t(K) * d * d + 4 * d * size_t(T) + size_t(test.X.size()) * 2) +
                       (top_k ? size_t(T) * 2 * top_k * 24 : 0) + (o.reduce == "source-sums" ? 8 * size_t(K) * T : 0);
  const Index chunk2 = std::min({chunk_rows_for(fixed, T), std::max<Index>(1, sums.rows), max_chunk});
  nlohmann::json settings = settings_json(o.data, o.model);
  settings["targets"] = o.targets;
  settings["mode"] = o.mode;
  settings["memory"] = o.memory.empty() ? "1G" : o.memory;
  settings["memory_bytes"] = budget;
  settings["reduce"] = o.reduce;
  std::unique_ptr<ScoreSink> sink;
  run_on_every_rank(world, [&] {
    if (top_k) sink = topk_sink(o.scores_path, top_k, targets, sums.task_names);
    else if (o.reduce == "source-sums") sink = source_sums_sink(o.scores_path, targets, sums.task_names);
    else sink = npy_float32_sink(o.scores_path, sums.rows, targets, sums.task_names, {{"settings", settings}}, world);
  });
  run_on_every_rank(world, [&] {
    StreamingScorer scorer(model, *solver, targets, sums.n);
    stream_scores(source, chunk2, sums, scorer, *sink, world);
  });
  timings["pass2_s"] = clock.lap();
  run_on_every_rank(world, [&] { sink->finish(world); });
  sink.reset();
  timings["finish_s"] = clock.lap();
  if (!root) return;
  info(quiet, fmt::format("scored {} train rows x {} targets in chunks of {} rows ({} budget); wrote {}", sums.rows, T,
                          chunk2, o.memory.empty() ? "1G" : o.memory, o.scores_path));
  if (!o.out.json.empty()) {
    nlohmann::json summary = {{"command", "influence"}, {"settings", settings},   {"scores", o.scores_path},
                              {"timings", timings},    {"warnings", warnings},   {"streaming", true},
                              {"chunk_rows_pass1", chunk1}, {"chunk_rows_pass2", chunk2}, {"train_rows", sums.rows},
                              {"targets", T}};
    if (world) summary["mpi_ranks"] = world->size();
    write_json_file(o.out.json, summary);
  }
}

}  // namespace

void register_influence(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("influence", "score every training row against every task (or test row)");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  add_targets_option(cmd, o->targets);
  cmd->add_option("--mode", o->mode,
                  "first-order influence, or exact leave-one-out (leverage-corrected, second-order loss change; "
                  "exact for the squared loss, a one-step Newton approximation otherwise)")
      ->check(CLI::IsMember({"first-order", "exact"}))
      ->capture_default_str();
  cmd->add_option("--out", o->scores_path, "scores: CSV, or .npy (matrix + PATH.json sidecar)")->required();
  auto* memory_option = cmd->add_option("--memory", o->memory,
                  "stream the training rows in chunks with at most this much working memory (e.g. 2G, 512M): "
                  "linear model, squared loss, first-order; --out .npy is then float32, written as it is computed");
  auto* reduce_option = cmd->add_option("--reduce", o->reduce,
                  "instead of every score (streams like --memory, default budget 1G): 'topk:K' = per target the K "
                  "most helpful and K most harmful rows; 'source-sums' = per source task and target the summed "
                  "scores (first-order LOTO); --out is then a CSV");
  cmd->footer(
      "Output: train_row,train_task,target_task,loss_change_if_removed,task_part,shared_part\n"
      "Sign: positive = removing the row raises the target's loss (it helps); negative = it hurts.\n"
      "Example:\n  mtif influence --train train.csv --test test.csv --out scores.csv --mode exact");
  cmd->callback([o, memory_option, reduce_option] {
    begin_command(o->out);
    if (is_network_model(o->model))
      return network_influence(o->data, o->model, o->out, o->scores_path, o->targets, o->mode);
    if (memory_option->count() > 0 || reduce_option->count() > 0) {  // given, even as ""
      if (memory_option->count() > 0 && o->memory.empty()) parse_memory_size("");  // refused with its message
      if (reduce_option->count() > 0 && o->reduce.empty())
        throw std::invalid_argument("--reduce '': expected topk:K or source-sums");
      return streaming_influence(*o);
    }
    // Under mpirun every rank fits the same model from the sums over all rows,
    // scores its own rows, and rank 0 gathers and writes them.
    const MpiWorld* world = mpi_world();
    const bool root = !world || world->rank() == 0;
    FittedRun run = read_and_fit(o->data, o->model, o->out.quiet || !root, world);
    Stopwatch clock;
    Targets targets = make_targets(run, o->targets);
    ScoreMode mode = parse_score_mode(o->mode);
    const bool npy = o->scores_path.size() > 4 && o->scores_path.substr(o->scores_path.size() - 4) == ".npy";
    InfluenceScores scores;
    run_on_every_rank(world, [&] { scores = linear_influence(run.model, run.data.train, *run.solver, targets, mode, !npy); });
    run.timings["score_s"] = clock.lap();
    if (world && world->size() > 1) {
      scores = gather_scores(*world, std::move(scores), run.train_rows, !npy);
      run.timings["gather_s"] = clock.lap();
    }
    if (!root) return;
    nlohmann::json settings = settings_json(o->data, o->model);
    settings["targets"] = o->targets;
    settings["mode"] = o->mode;
    write_influence(o->scores_path, scores, targets, run.data.train.task_names, {{"settings", settings}});
    run.timings["write_s"] = clock.lap();
    info(o->out.quiet, fmt::format("wrote {} scores ({} train rows x {} targets) to {}", scores.total.size(),
                                   scores.total.rows(), scores.total.cols(), o->scores_path));
    if (!o->out.json.empty()) {
      nlohmann::json summary = {{"command", "influence"},
                                {"settings", settings},
                                {"scores", o->scores_path},
                                {"timings", run.timings},
                                {"warnings", run.warnings}};
      if (world) summary["mpi_ranks"] = world->size();
      write_summary(o->out, summary);
    }
  });
}

}  // namespace mtif::cli
