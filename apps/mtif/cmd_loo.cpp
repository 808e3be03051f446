#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/validation.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {
// Predicted scores of the listed rows, in the same layout as the LOO matrix.
MatrixXd rows_of(const ScoreMatrix& scores, const std::vector<Index>& rows) {
  MatrixXd out(rows.size(), scores.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(i) = scores.row(rows[i]);
  return out;
}
}  // namespace

void register_loo(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string rows, loo_path, targets = "tasks";
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("loo", "retrain without each listed row and measure the real change of each target");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  add_targets_option(cmd, o->targets);
  cmd->add_option("--rows", o->rows, "train rows to leave out: 'all' or a list like 0-99,250,300-310")->required();
  cmd->add_option("--out", o->loo_path, "actual changes: train_row,train_task,target_task,actual_loss_change")
      ->required();
  cmd->footer(
      "Each refit sets the row's weight to 0 (per-task normalisation unchanged), warm-starts from the full fit\n"
      "and runs Newton to max |gradient| < 1e-11. --json adds Pearson/Spearman of the predicted scores\n"
      "(first-order and exact) against these refits, within-task and between-task.\n"
      "Example:\n  mtif loo --train train.csv --test test.csv --rows 0-99 --out loo.csv --json loo.json");
  cmd->callback([o] {
    begin_command(o->out);
    if (is_network_model(o->model)) return network_loo(o->data, o->model, o->out, o->rows, o->loo_path, o->targets);
    FittedRun run = read_and_fit(o->data, o->model, o->out.quiet);
    const Dataset& train = run.data.train;
    std::vector<Index> rows = parse_row_spec(o->rows, train.num_rows());
    Targets targets = make_targets(run, o->targets);
    Stopwatch clock;
    MatrixXd actual = leave_one_out(run.model, train, run.data.test, targets, rows);
    run.timings["refits_s"] = clock.lap();
    InfluenceScores first = linear_influence(run.model, train, *run.solver, targets, ScoreMode::FirstOrder, false);
    run.timings["first_order_s"] = clock.lap();
    InfluenceScores exact = linear_influence(run.model, train, *run.solver, targets, ScoreMode::Exact, false);
    run.timings["exact_s"] = clock.lap();
    write_loo(o->loo_path, actual, rows, first.train_task, targets, train.task_names);
    std::vector<int> row_task;
    for (Index r : rows) row_task.push_back(first.train_task[r]);
    AgreementSplit a_first = compare_scores(rows_of(first.total, rows), actual, row_task, targets.task);
    AgreementSplit a_exact = compare_scores(rows_of(exact.total, rows), actual, row_task, targets.task);
    if (!o->out.quiet) {
      std::cout << fmt::format("{} refits, {} (row, target) pairs; predicted vs actual:\n", rows.size(), actual.size());
      std::cout << "  mode         group          pearson   spearman  max rel error\n";
      for (auto [name, a] : {std::pair{"first-order", &a_first}, std::pair{"exact", &a_exact}})
        for (auto [group, g] : {std::pair{"within-task", &a->within_task}, std::pair{"between-task", &a->between_task}})
          std::cout << fmt::format("  {:<12} {:<13} {:>8.5f}  {:>8.5f}  {:>10.2e}\n", name, group, g->pearson,
                                   g->spearman, g->max_rel_error);
    }
    if (!o->out.json.empty()) {
      nlohmann::json settings = settings_json(o->data, o->model);
      settings["rows"] = o->rows;
      settings["targets"] = o->targets;
      write_summary(o->out, {{"command", "loo"},
                                    {"settings", settings},
                                    {"protocol", "weight of the row set to 0, per-task 1/n_k unchanged; Newton refit "
                                                 "warm-started from the full fit to max |gradient| < 1e-11"},
                                    {"refits", rows.size()},
                                    {"first_order", agreement_to_json(a_first)},
                                    {"exact", agreement_to_json(a_exact)},
                                    {"output", o->loo_path},
                                    {"timings", run.timings},
                                    {"warnings", run.warnings}});
    }
  });
}

}  // namespace mtif::cli
