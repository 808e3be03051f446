#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {
// One LDS per test row: too many to list, so their spread.
void report_row_lds(const LdsResult& lds) {
  std::vector<double> v;
  for (Index t = 0; t < lds.per_target.size(); ++t)
    if (std::isfinite(lds.per_target(t))) v.push_back(lds.per_target(t));
  std::sort(v.begin(), v.end());
  auto quantile = [&](double q) { return v.empty() ? NAN : v[size_t(q * double(v.size() - 1) + 0.5)]; };
  std::cout << fmt::format("  {} test rows ({} without a defined LDS): quartiles {:.4f} {:.4f} {:.4f}\n",
                           lds.per_target.size(), lds.per_target.size() - Index(v.size()), quantile(0.25),
                           quantile(0.5), quantile(0.75));
  std::cout << fmt::format("  {:<20} {:>8.4f}\n", "mean", lds.mean);
}
}  // namespace

void report_lds(const LdsResult& lds, const Targets& targets, const std::vector<std::string>& task_names,
                const std::string& protocol, bool quiet) {
  if (quiet) return;
  std::cout << fmt::format("LDS over {} random subsets ({}):\n", lds.actual.rows(), protocol);
  if (targets.rows()) return report_row_lds(lds);
  for (int t = 0; t < targets.size(); ++t)
    std::cout << fmt::format("  {:<20} {:>8.4f}\n", target_task_name(targets, t, task_names), lds.per_target(t));
  std::cout << fmt::format("  {:<20} {:>8.4f}\n", "mean", lds.mean);
}

void register_lds(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string lds_path, targets = "tasks";
    int subsets = 50;
    double keep = 0.5;
    std::uint64_t seed = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "lds", "linear datamodeling score: do summed row scores predict the effect of removing random subsets?");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  add_targets_option(cmd, o->targets);
  cmd->add_option("--subsets", o->subsets, "random subsets to refit")->check(CLI::Range(3, 100000))->capture_default_str();
  cmd->add_option("--keep", o->keep, "fraction of each task's rows kept in a subset")
      ->check(CLI::Range(0.01, 0.99))->capture_default_str();
  cmd->add_option("--lds-seed", o->seed, "seed of the subsets")->capture_default_str();
  cmd->add_option("--out", o->lds_path, "subset,target_task,predicted_loss_change,actual_loss_change")->required();
  cmd->footer(
      "Per target (each task's mean test loss, or each test row's loss with --targets rows, the LDS of\n"
      "Park et al. 2023): Spearman over subsets between the predicted change (sum of the removed rows' first-order\n"
      "scores) and the actual change after refitting without them. Near 1: scores add up; near 0: they do not.\n"
      "Example:\n  mtif lds --train train.csv --test test.csv --subsets 50 --out lds.csv --json lds.json");
  cmd->callback([o] {
    begin_command(o->out);
    if (is_network_model(o->model))
      return network_lds(o->data, o->model, o->out, o->subsets, o->keep, o->seed, o->lds_path, o->targets);
    FittedRun run = read_and_fit(o->data, o->model, o->out.quiet);
    const auto& [train, test] = run.data;
    Targets targets = make_targets(run, o->targets);
    InfluenceScores scores = linear_influence(run.model, train, *run.solver, targets, ScoreMode::FirstOrder, false);
    Stopwatch clock;
    RefitLosses refit = [&](const VectorXd& w) {
      return target_losses(fit_linear(train, run.model.config, &w, &run.model), test, targets);
    };
    LdsResult lds = linear_datamodeling_score(scores.total, train, target_losses(run.model, test, targets), refit,
                                              o->keep, o->subsets, o->seed);
    run.timings["refits_s"] = clock.lap();
    write_lds(o->lds_path, lds, targets, train.task_names);
    const std::string protocol = "Newton refits warm-started from the full fit, removed rows at weight 0";
    report_lds(lds, targets, train.task_names, protocol, o->out.quiet);
    if (!o->out.json.empty()) {
      nlohmann::json settings = settings_json(o->data, o->model);
      settings["lds"] = {{"subsets", o->subsets}, {"keep", o->keep}, {"seed", o->seed}};
      settings["targets"] = o->targets;
      write_summary(o->out, {{"command", "lds"}, {"settings", settings}, {"protocol", protocol},
                                    {"lds", lds_to_json(lds, targets, train.task_names)}, {"output", o->lds_path},
                                    {"timings", run.timings}, {"warnings", run.warnings}});
    }
  });
}

}  // namespace mtif::cli
