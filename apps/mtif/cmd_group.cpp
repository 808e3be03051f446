// mtif group: choose g groups of tasks from a task-affinity matrix (any
// relatedness measure of the linear model, or a relatedness file), train one
// linear model per group, and compare each task's test loss with one model
// for all tasks and one model per task (issue 14 item 4; the objective and the
// sign convention are in include/mtif/task_grouping.hpp).
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "commands.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "mtif/surrogate.hpp"
#include "mtif/task_grouping.hpp"
#include "options.hpp"
#include "relatedness_methods.hpp"

namespace mtif::cli {

namespace {

struct GroupOptions {
  DataOptions data;
  ModelOptions model;
  OutputOptions out;
  std::string method = "newton", affinity_path, valid_path, search = "auto", groups_path;
  std::vector<int> budgets;
  TrajectoryConfig trajectory;
  SubsetOptions subsets;
};

// One CSV line split into fields (RFC 4180 quotes; no line breaks inside fields).
std::vector<std::string> split_csv_line(const std::string& line, const std::string& where) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  if (quoted) throw DataError(where + ":1: unterminated quoted field");
  return fields;
}

}  // namespace

// A relatedness file of `mtif relatedness --out` (source_task,target_task,
// loss_change_if_removed; any method) as the K x K matrix R[l][k] over the
// training tasks; every off-diagonal pair must be there exactly once.
MatrixXd read_relatedness_file(const std::string& path, const std::vector<std::string>& tasks) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ":1:1: cannot open the affinity file");
  std::map<std::string, int> index;
  for (int k = 0; k < int(tasks.size()); ++k) index[tasks[k]] = k;
  const int K = int(tasks.size());
  MatrixXd r = MatrixXd::Constant(K, K, std::nan(""));
  std::string line;
  std::getline(in, line);
  if (split_csv_line(line, path + ":1") != std::vector<std::string>{"source_task", "target_task", "loss_change_if_removed"})
    throw DataError(path + ":1:1: expected the header source_task,target_task,loss_change_if_removed (a task-level "
                           "relatedness file of mtif relatedness --out)");
  for (long n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    const std::string where = fmt::format("{}:{}", path, n);
    auto f = split_csv_line(line, where);
    if (f.size() != 3) throw DataError(fmt::format("{}:1: expected 3 fields, got {}", where, f.size()));
    auto task = [&](int column) {
      auto it = index.find(f[column]);
      if (it == index.end())
        throw DataError(fmt::format("{}:{}: '{}' is not a task of the training data", where, column + 1, f[column]));
      return it->second;
    };
    const int l = task(0), k = task(1);
    double value = 0;
    try {
      std::size_t used = 0;
      value = std::stod(f[2], &used);
      if (used != f[2].size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      throw DataError(fmt::format("{}:3: loss_change_if_removed '{}' is not a number", where, f[2]));
    }
    if (!std::isnan(r(l, k))) throw DataError(fmt::format("{}:1: a second entry for source {} on target {}", where, f[0], f[1]));
    if (l != k && !std::isfinite(value))
      throw DataError(fmt::format("{}:3: loss_change_if_removed '{}' is not finite", where, f[2]));
    r(l, k) = value;
  }
  for (int l = 0; l < K; ++l)
    for (int k = 0; k < K; ++k)
      if (l != k && std::isnan(r(l, k)))
        throw DataError(fmt::format("{}: no entry for source {} on target {} (every task must be a source and a target)",
                                    path, tasks[l], tasks[k]));
  return r;
}

namespace {

// The --valid rows, checked against the training file's columns and tasks.
Dataset read_valid(const std::string& path, const Dataset& train, const DataOptions& data) {
  Dataset columns;
  columns.task_names = train.task_names;
  columns.feature_names = train.feature_names;
  if (data.intercept) columns.feature_names.pop_back();
  Dataset valid = read_with_tasks_of(path, columns, csv_options(data));
  if (data.intercept) add_intercept(valid);
  return valid;
}

// Targets of every task, in task order, or an error naming a task without rows in `split`.
Targets all_task_targets(const LinearModel& model, const Dataset& data, const std::string& split) {
  Targets targets = task_targets(model, data);
  for (int k = 0; k < model.num_tasks(); ++k)
    if (k >= targets.size() || targets.task[k] != k)
      throw DataError(fmt::format("{}: task {} has no rows (mtif group needs every task in it)", split,
                                  model.task_names[k]));
  return targets;
}

// Each task's test loss under one linear model per group (the same penalties as
// the multitask fit; the other tasks' rows at weight 0, so their theta stay 0).
VectorXd grouped_test_losses(const FittedRun& run, const Targets& test_targets, const TaskGroups& groups) {
  const int K = run.model.num_tasks();
  TaskSubsets keep(groups.size(), std::vector<bool>(K, false));
  for (std::size_t c = 0; c < groups.size(); ++c)
    for (int k : groups[c]) keep[c][k] = true;
  MatrixXd losses = linear_subset_losses(run.model, run.data.train, run.data.test, test_targets, keep,
                                         SubsetLossMethod::Retrain);
  VectorXd out(K);
  for (std::size_t c = 0; c < groups.size(); ++c)
    for (int k : groups[c]) out(k) = losses(c, k);
  return out;
}

nlohmann::json per_task(const VectorXd& v, const std::vector<std::string>& names) {
  nlohmann::json j = nlohmann::json::object();
  for (Index k = 0; k < v.size(); ++k) j[names[k]] = v(k);
  return j;
}

nlohmann::json named_groups(const TaskGroups& groups, const std::vector<std::string>& names) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& g : groups) {
    nlohmann::json members = nlohmann::json::array();
    for (int k : g) members.push_back(names[k]);
    j.push_back(members);
  }
  return j;
}

void check_options(const GroupOptions& o) {
  if (o.model.model != "linear")
    throw std::invalid_argument("mtif group trains one linear model per group: --model linear (for another model's "
                                "matrix, pass its relatedness file as --affinity and the data here)");
  // Refused only when --method is not its default: a --json summary replayed by `mtif run` carries it.
  if (!o.affinity_path.empty() && o.method != GroupOptions{}.method)
    throw std::invalid_argument("give --method or --affinity, not both");
  if ((o.method == "tag" || o.method == "gradcos") && o.affinity_path.empty() && !o.model.model_file.empty())
    throw std::invalid_argument("--method tag/gradcos trains its own trajectory: drop --model-file");
}

// Refuses budgets outside 1..K and an exact search on too many tasks, before any work.
GroupingMethod checked_search(const GroupOptions& o, int K) {
  for (int g : o.budgets)
    if (g < 1 || g > K) throw std::invalid_argument(fmt::format("--groups {}: must be between 1 and the {} tasks", g, K));
  const GroupingMethod search = parse_grouping_method(o.search);
  if ((search == GroupingMethod::Exact || search == GroupingMethod::BruteForce) && K > kExactGroupingMaxTasks)
    throw std::invalid_argument(fmt::format("--search {} is for at most {} tasks (the data has {}): use greedy or auto",
                                            o.search, kExactGroupingMaxTasks, K));
  return search;
}

struct Affinity {
  MatrixXd matrix;  // affinity[k][l] = R[l][k]
  std::string chosen_on;
  nlohmann::json details = nullptr;
  double seconds = 0;
};

// From a file, or the measure on the --valid rows (the --test rows when none, with a warning).
Affinity task_affinity(const GroupOptions& o, FittedRun& run) {
  Affinity out;
  const auto& names = run.data.train.task_names;
  if (!o.affinity_path.empty()) {
    out.matrix = affinity_from_relatedness(read_relatedness_file(o.affinity_path, names));
    out.chosen_on = "the file " + o.affinity_path;
    return out;
  }
  Dataset valid;
  if (!o.valid_path.empty()) valid = read_valid(o.valid_path, run.data.train, o.data);
  const Dataset& choose = o.valid_path.empty() ? run.data.test : valid;
  Targets targets = all_task_targets(run.model, choose, o.valid_path.empty() ? "--test" : "--valid");
  Relatedness r = linear_relatedness(o.method, run.model, run.data.train, choose, targets, o.trajectory, o.subsets,
                                     out.details, o.out.quiet);
  out.matrix = affinity_from_relatedness(r.matrix);
  out.seconds = r.seconds;
  const bool training_rows_only = o.method == "tag" || o.method == "gradcos";
  out.chosen_on = training_rows_only ? "the training rows" : o.valid_path.empty() ? "the --test rows" : "the --valid rows";
  if (o.valid_path.empty() && !training_rows_only) {
    const std::string warning = "the groups are chosen from test-loss changes on the --test rows that also judge "
                                "them: give --valid for a fair comparison";
    run.warnings.push_back(warning);
    std::cerr << "warning: " << warning << '\n';  // warnings print even when quiet, as read_and_fit's
  }
  return out;
}

// One budget: the groups, the search's account and each task's test loss under them.
struct BudgetResult {
  GroupingResult grouping;
  double search_seconds = 0;
  VectorXd test_loss;
};

BudgetResult run_budget(const FittedRun& run, const Targets& test_targets, const MatrixXd& affinity, int g,
                        GroupingMethod search) {
  BudgetResult out;
  auto start = std::chrono::steady_clock::now();
  out.grouping = group_tasks(affinity, g, search);
  out.search_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.test_loss = grouped_test_losses(run, test_targets, out.grouping.groups);
  return out;
}

nlohmann::json budget_json(const BudgetResult& b, const std::vector<std::string>& names) {
  return {{"groups", b.grouping.groups.size()},
          {"partition", named_groups(b.grouping.groups, names)},
          {"objective", b.grouping.objective},
          {"search", b.grouping.method},
          {"evaluated", b.grouping.evaluated},
          {"search_seconds", b.search_seconds},
          {"test_loss_per_task", per_task(b.test_loss, names)},
          {"mean_test_loss", b.test_loss.mean()}};
}

void write_groups_csv(const std::string& path, const std::vector<BudgetResult>& budgets, const VectorXd& all,
                      const VectorXd& single, const std::vector<std::string>& names) {
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "groups,group,task,test_loss,all_tasks_loss,single_task_loss\n");
  for (const auto& b : budgets)
    for (std::size_t c = 0; c < b.grouping.groups.size(); ++c)
      for (int k : b.grouping.groups[c])
        fmt::format_to(std::back_inserter(buf), "{},{},{},{},{},{}\n", b.grouping.groups.size(), c, csv_quote(names[k]),
                       b.test_loss(k), all(k), single(k));
  file.write(buf);
  file.commit();
}

void print_budgets(const std::vector<BudgetResult>& budgets, const VectorXd& all, const VectorXd& single,
                   const std::vector<std::string>& names) {
  std::cout << fmt::format("mean test loss over the {} tasks: one model for all {:.6g}, one per task {:.6g}\n",
                           names.size(), all.mean(), single.mean());
  for (const auto& b : budgets) {
    std::cout << fmt::format("{} groups ({}, objective {:.4g}): mean test loss {:.6g}\n", b.grouping.groups.size(),
                             b.grouping.method, b.grouping.objective, b.test_loss.mean());
    for (const auto& group : b.grouping.groups) {
      std::cout << "  {";
      for (std::size_t i = 0; i < group.size(); ++i) std::cout << (i ? ", " : "") << names[group[i]];
      std::cout << "}\n";
    }
  }
}

void run_group(const GroupOptions& o) {
  Stopwatch clock;
  FittedRun run = read_and_fit(o.data, o.model, o.out.quiet);
  const auto& names = run.data.train.task_names;
  const int K = run.model.num_tasks();
  const GroupingMethod search = checked_search(o, K);
  const Targets test_targets = all_task_targets(run.model, run.data.test, "--test");
  const Affinity affinity = task_affinity(o, run);
  check_grouping_input(affinity.matrix, o.budgets.front());

  // Baselines, then one model per group for each budget.
  const VectorXd all = target_losses(run.model, run.data.test, test_targets);
  TaskGroups singletons;
  for (int k = 0; k < K; ++k) singletons.push_back({k});
  const VectorXd single = grouped_test_losses(run, test_targets, singletons);
  std::vector<BudgetResult> budgets;
  for (int g : o.budgets) budgets.push_back(run_budget(run, test_targets, affinity.matrix, g, search));
  write_groups_csv(o.groups_path, budgets, all, single, names);
  if (!o.out.quiet) print_budgets(budgets, all, single, names);
  if (o.out.json.empty()) return;

  nlohmann::json settings = settings_json(o.data, o.model);
  settings["affinity"] = o.affinity_path.empty() ? nlohmann::json(o.method) : nlohmann::json(o.affinity_path);
  settings["valid"] = o.valid_path;
  settings["search"] = o.search;
  settings["groups"] = o.budgets;
  if (!affinity.details.is_null()) settings["relatedness_details"] = affinity.details;
  nlohmann::json budget_list = nlohmann::json::array();
  for (const auto& b : budgets) budget_list.push_back(budget_json(b, names));
  nlohmann::json j = {
      {"command", "group"},
      {"settings", settings},
      {"tasks", names},
      {"affinity", matrix_to_json(affinity.matrix)},
      {"affinity_convention", "affinity[k][l] = R[l][k]: benefit to task k of training with task l (higher = helps)"},
      {"objective", "sum over tasks of the mean affinity from the other members of its group (0 alone); each task in "
                    "exactly one of exactly g groups"},
      {"chosen_on", affinity.chosen_on},
      {"evaluated_on", "the --test rows: each task's mean test loss under its group's linear model, refitted with the "
                       "same penalties on the group's tasks alone"},
      {"all_tasks", {{"test_loss_per_task", per_task(all, names)}, {"mean_test_loss", all.mean()}}},
      {"single_task", {{"test_loss_per_task", per_task(single, names)}, {"mean_test_loss", single.mean()}}},
      {"budgets", budget_list},
      {"output", o.groups_path},
      {"affinity_seconds", affinity.seconds},
      {"seconds", clock.lap()},
      {"timings", run.timings},
      {"warnings", run.warnings}};
  write_summary(o.out, j);
}

}  // namespace

void register_group(CLI::App& app) {
  auto o = std::make_shared<GroupOptions>();
  auto* cmd = app.add_subcommand("group", "choose g groups of tasks from a task-affinity matrix, one model per group");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  cmd->add_option("--method", o->method,
                  "the affinity: a relatedness measure of the linear model (see mtif relatedness --method)")
      ->check(CLI::IsMember(kLinearRelatednessMethods))
      ->capture_default_str();
  cmd->add_option("--affinity", o->affinity_path,
                  "read the matrix from a file of mtif relatedness --out (any method) instead of --method")
      ->check(CLI::ExistingFile);
  cmd->add_option("--valid", o->valid_path,
                  "measure the affinity on these rows (CSV like --test), keeping --test for the reported losses "
                  "(without it the test-loss measures use --test: a warning says so)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--groups", o->budgets, "number(s) of groups g, e.g. 2,3,5 (each 1..K)")
      ->delimiter(',')
      ->required();
  cmd->add_option("--search", o->search,
                  "auto = exact for at most 12 tasks, greedy above; exact = branch and bound; brute-force = every "
                  "partition; greedy = merging + single-task moves")
      ->check(CLI::IsMember({"auto", "exact", "brute-force", "greedy"}))
      ->capture_default_str();
  cmd->add_option("--out", o->groups_path,
                  "groups,group,task,test_loss,all_tasks_loss,single_task_loss (one line per budget and task)")
      ->required();
  add_linear_relatedness_options(cmd, o->trajectory, o->subsets);
  cmd->footer(
      "Objective (TAG, Fifty et al. 2021, with each task in exactly one group): maximise the sum over tasks of the mean "
      "affinity from the other members of its group; affinity[k][l] = R[l][k] of mtif relatedness (> 0: l helps k).\n"
      "Example:\n  mtif group --train train.csv --valid valid.csv --test test.csv --method newton --groups 2,3 "
      "--out groups.csv --json groups.json");
  cmd->callback([o, cmd] {
    begin_command(o->out);
    check_options(*o);
    resolve_subset_losses(o->method, cmd, o->subsets);
    run_group(*o);
  });
}

}  // namespace mtif::cli
