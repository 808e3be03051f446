// The main job: generate data with known negative transfer, fit, score,
// validate against real retraining, and explain what was found.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <numeric>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/synthetic.hpp"
#include "mtif/validation.hpp"
#include "config.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {

struct DemoOptions {
  std::string out_dir = "mtif-demo";
  std::uint64_t seed = 7;
  int loo_rows = 60;
  OutputOptions out;  // --quiet / --verbose
};

void print_rule(const std::string& title) { std::cout << "\n== " << title << " ==\n"; }

// Row label for the printout, marking the rows the generator corrupted.
std::string row_label(Index row, const std::string& task, const SyntheticData& truth) {
  bool conflicting = false;
  for (int k : truth.conflicting_tasks)
    if (truth.data.train.task_names[k] == task) conflicting = true;
  std::string mark = truth.corrupted[row] ? "  <- corrupted label" : (conflicting ? "  <- conflicting task" : "");
  return fmt::format("row {:>4} ({}){}", row, task, mark);
}

void print_extremes(const InfluenceScores& s, const Targets& targets, const std::vector<std::string>& names,
                    const SyntheticData& truth, int count) {
  for (int t = 0; t < targets.size(); ++t) {
    std::vector<Index> order(s.total.rows());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](Index a, Index b) { return s.total(a, t) < s.total(b, t); });
    std::cout << fmt::format("target {}:\n", names[targets.task[t]]);
    for (int i = 0; i < count; ++i) {
      Index r = order[i];
      std::cout << fmt::format("  hurts most  {:+.3e}  {}\n", s.total(r, t), row_label(r, names[s.train_task[r]], truth));
    }
    for (int i = 0; i < count; ++i) {
      Index r = order[order.size() - 1 - i];
      std::cout << fmt::format("  helps most  {:+.3e}  {}\n", s.total(r, t), row_label(r, names[s.train_task[r]], truth));
    }
  }
}

// Precision of "the n most harmful rows on their own task" at finding the corrupted labels.
double corrupted_precision(const InfluenceScores& s, const Targets& targets, const SyntheticData& truth) {
  std::vector<std::pair<double, Index>> own;
  for (Index r = 0; r < s.total.rows(); ++r)
    for (int t = 0; t < targets.size(); ++t)
      if (targets.task[t] == s.train_task[r]) own.emplace_back(s.total(r, t), r);
  std::sort(own.begin(), own.end());
  const long corrupted = std::count(truth.corrupted.begin(), truth.corrupted.end(), 1);
  long hits = 0;
  for (long i = 0; i < corrupted && i < long(own.size()); ++i) hits += truth.corrupted[own[i].second];
  return corrupted ? double(hits) / double(corrupted) : 0.0;
}

void run_demo(const DemoOptions& o) {
  namespace fs = std::filesystem;
  fs::create_directories(o.out_dir);
  SyntheticConfig config;
  config.seed = o.seed;
  SyntheticData truth = generate_synthetic(config);
  const std::string train_csv = o.out_dir + "/train.csv", test_csv = o.out_dir + "/test.csv";
  write_dataset_csv(truth.data.train, train_csv);
  write_dataset_csv(truth.data.test, test_csv);

  print_rule("1. Data");
  std::cout << truth.description << ".\n";
  std::cout << fmt::format("Known truth: task{} conflicts with the others; corrupted rows are marked below.\n",
                           truth.conflicting_tasks.empty() ? -1 : truth.conflicting_tasks[0]);

  DataOptions data;
  data.train = train_csv;
  data.test = test_csv;
  ModelOptions model;
  FittedRun run = read_and_fit(data, model, true);
  const auto& names = run.data.train.task_names;
  Targets targets = task_targets(run.model, run.data.test);
  VectorXd test_loss = task_mean_loss(run.model, run.data.test);

  print_rule("2. Model");
  std::cout << fmt::format(
      "Linear multitask model w_k = gamma + theta_k, squared loss, lambda_task = {}, lambda_shared = {}.\n"
      "Fitted in {} Newton step(s); max |gradient| {:.1e}. Mean test loss per task:\n",
      model.lambda_task, model.lambda_shared, run.model.report.iterations, run.model.report.gradient_max_abs);
  for (int k = 0; k < run.data.test.num_tasks(); ++k) std::cout << fmt::format("  {}: {:.4f}\n", names[k], test_loss(k));

  Stopwatch clock;
  InfluenceScores scores = linear_influence(run.model, run.data.train, *run.solver, targets, ScoreMode::FirstOrder);
  double score_s = clock.lap();
  nlohmann::json settings = settings_json(data, model);
  write_influence(o.out_dir + "/scores.csv", scores, targets, names, {{"settings", settings}});

  print_rule("3. Task relatedness");
  Relatedness by_mtif = relatedness_by_mtif(run.model, run.data.train, run.data.test, targets);
  Relatedness by_newton = relatedness_by_newton(run.model, run.data.train, run.data.test, targets);
  Relatedness by_retrain = relatedness_by_retraining(run.model, run.data.train, run.data.test, targets);
  write_relatedness(o.out_dir + "/relatedness.csv", by_mtif, targets, names);
  std::cout << "R[l][k] = change of task k's test loss if task l were removed (first-order MTIF).\n"
               "Positive: task l HELPS task k. Negative: task l HURTS task k (negative transfer).\n";
  print_relatedness(by_mtif.matrix, names);
  auto agree = [&](const Relatedness& r) {
    double sum = 0;
    for (int t = 0; t < targets.size(); ++t) sum += spearman(r.matrix.col(t), by_retrain.matrix.col(t));
    return sum / targets.size();
  };
  double newton_err = (by_newton.matrix - by_retrain.matrix).cwiseAbs().maxCoeff() / by_retrain.matrix.cwiseAbs().maxCoeff();
  std::cout << fmt::format(
      "Against brute-force retraining without each task: mean Spearman per target {:.3f} (MTIF), {:.3f} (Newton);\n"
      "the Newton estimator matches retraining to {:.1e} relative.\n",
      agree(by_mtif), agree(by_newton), newton_err);

  print_rule("4. Rows that help and hurt each task");
  std::cout << "Score = change of the task's test loss if the row were removed (positive = the row helps).\n";
  print_extremes(scores, targets, names, truth, 3);
  double precision = corrupted_precision(scores, targets, truth);
  std::cout << fmt::format("Of the {} corrupted rows, {:.0f}% are among the same number of rows that hurt their own task most.\n",
                           std::count(truth.corrupted.begin(), truth.corrupted.end(), 1), 100 * precision);

  print_rule("5. Checked against real retraining");
  std::vector<Index> rows;
  const Index n = run.data.train.num_rows();
  for (int i = 0; i < o.loo_rows && i < n; ++i) rows.push_back(i * n / std::min<Index>(o.loo_rows, n));
  clock.lap();
  MatrixXd actual = leave_one_out(run.model, run.data.train, run.data.test, targets, rows);
  double loo_s = clock.lap();
  write_loo(o.out_dir + "/loo.csv", actual, rows, scores.train_task, targets, names);
  InfluenceScores exact = linear_influence(run.model, run.data.train, *run.solver, targets, ScoreMode::Exact, false);
  std::vector<int> row_task;
  MatrixXd pred_first(rows.size(), targets.size()), pred_exact(rows.size(), targets.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    row_task.push_back(scores.train_task[rows[i]]);
    pred_first.row(i) = scores.total.row(rows[i]);
    pred_exact.row(i) = exact.total.row(rows[i]);
  }
  AgreementSplit a_first = compare_scores(pred_first, actual, row_task, targets.task);
  AgreementSplit a_exact = compare_scores(pred_exact, actual, row_task, targets.task);
  std::cout << fmt::format("Left out {} rows one at a time and refitted ({:.2f} s); predicted vs actual change:\n",
                           rows.size(), loo_s);
  std::cout << fmt::format("  first-order: Pearson {:.4f} within-task, {:.4f} between-task\n",
                           a_first.within_task.pearson, a_first.between_task.pearson);
  std::cout << fmt::format("  exact:       max relative error {:.1e} (equal to retraining up to rounding)\n",
                           a_exact.all.max_rel_error);

  nlohmann::json summary = {
      {"command", "demo"},
      {"data", truth.description},
      {"seed", o.seed},
      {"settings", settings},
      {"test_loss", std::vector<double>(test_loss.data(), test_loss.data() + test_loss.size())},
      {"tasks", names},
      {"relatedness", {{"mtif", matrix_to_json(by_mtif.matrix)}, {"newton", matrix_to_json(by_newton.matrix)},
                       {"retrain", matrix_to_json(by_retrain.matrix)}}},
      {"relatedness_spearman_vs_retrain", {{"mtif", agree(by_mtif)}, {"newton", agree(by_newton)}}},
      {"corrupted_row_precision", precision},
      {"loo", {{"rows", rows}, {"first_order", agreement_to_json(a_first)}, {"exact", agreement_to_json(a_exact)}}},
      {"timings", {{"score_s", score_s}, {"loo_s", loo_s}, {"fit", run.timings}}},
      {"warnings", run.warnings}};
  // The demo's own flags, so that `mtif run --config DIR/summary.json` repeats it.
  if (o.out.command) {
    summary["config"] = config_json(*o.out.command);
    summary["reproduce"] = "mtif run --config " + o.out_dir + "/summary.json";
  }
  write_json_file(o.out_dir + "/summary.json", summary);

  print_rule("Files");
  std::cout << fmt::format(
      "  {0}/train.csv, {0}/test.csv   the data (task,y,x1..x8)\n"
      "  {0}/scores.csv                every train row x every task: loss_change_if_removed, task_part, shared_part\n"
      "  {0}/relatedness.csv           the task matrix above\n"
      "  {0}/loo.csv                   the leave-one-out refits of section 5 (actual_loss_change)\n"
      "  {0}/summary.json              all numbers above, with the settings and seed\n"
      "Next: mtif report --from {0} --out {0}/report.html   (plots and tables in one HTML page)\n"
      "      mtif influence --train {0}/train.csv --test {0}/test.csv --out my-scores.csv --mode exact\n",
      o.out_dir);
}

}  // namespace

void register_demo(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "run the whole pipeline on generated data and explain the results");
  cmd->add_option("--out-dir", o->out_dir, "folder for the files it writes")->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the generated data")->capture_default_str();
  cmd->add_option("--loo-rows", o->loo_rows, "rows to validate by leave-one-out retraining")->capture_default_str();
  cmd->footer("Example:\n  mtif demo --out-dir /tmp/demo --seed 3");
  add_verbosity_options(cmd, o->out);
  cmd->callback([o] {
    begin_command(o->out);
    QuietStdout quiet(o->out.quiet);
    run_demo(*o);
  });
}

}  // namespace mtif::cli
