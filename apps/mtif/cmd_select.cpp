// mtif select: drop the training rows predicted to hurt the target task(s)
// on the VALIDATION split, refit, and judge on the untouched TEST split, with
// the baselines of mtif-math.md 7 in the same run. mtif sources: the rows of
// each source task that help or hurt one target (instance-level relatedness).
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/selection.hpp"
#include "mtif/validation.hpp"
#include "mtif/selection_backend.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {

struct SelectOptions {
  DataOptions data;
  ModelOptions model;
  OutputOptions out;
  std::string valid, target_task, truth, rows_out;
  std::vector<std::string> baselines{"random", "loss", "task"};
  double budget = 0.05;
  bool include_own = false, agree_halves = false;
  int repeats = 5;
};

int task_id(const std::vector<std::string>& names, const std::string& label) {
  for (size_t k = 0; k < names.size(); ++k)
    if (names[k] == label) return int(k);
  throw std::invalid_argument(fmt::format("--target-task '{}' is not a task of the training data", label));
}

// truth.csv of `mtif generate`: a row is harmful when its label was corrupted
// or it belongs to a conflicting task.
std::vector<char> read_truth(const std::string& path, Index rows) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::string line;
  std::getline(in, line);
  if (line.rfind("train_row,task,corrupted_label,conflicting_task", 0) != 0)
    throw DataError(path + ":1:1: expected the header train_row,task,corrupted_label,conflicting_task");
  std::vector<char> harmful(rows, 0);
  for (Index n = 2; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Fields: train_row, task (may be quoted), corrupted, conflicting: the last two end the line.
    const size_t c2 = line.rfind(','), c1 = line.rfind(',', c2 - 1);
    Index r = -1;
    try { r = std::stol(line.substr(0, line.find(','))); } catch (...) {}
    if (c1 == std::string::npos || r < 0 || r >= rows)
      throw DataError(fmt::format("{}:{}:1: bad train_row (expected 0..{})", path, n, rows - 1));
    harmful[r] = line.substr(c1 + 1, c2 - c1 - 1) == "1" || line.substr(c2 + 1) == "1";
  }
  return harmful;
}

// The validation file, checked against the training file's columns and tasks
// (before the intercept column, which is added to both after reading).
Dataset read_validation(const std::string& path, const Dataset& train, const DataOptions& data) {
  Dataset columns;
  columns.task_names = train.task_names;
  columns.feature_names = train.feature_names;
  if (data.intercept) columns.feature_names.pop_back();
  Dataset valid = read_with_tasks_of(path, columns, csv_options(data));
  if (data.intercept) add_intercept(valid);
  return valid;
}

std::unique_ptr<SelectionBackend> selection_backend(const DataOptions& data, const ModelOptions& model, bool quiet) {
  if (is_network_model(model)) return network_selection_backend(data, model, quiet);
  if (model.model != "linear")
    throw std::invalid_argument("mtif select and sources support --model linear and mlp, not " + model.model);
  FittedRun run = read_and_fit(data, model, quiet);
  auto linear = std::make_unique<LinearSelection>(std::move(run.data), std::move(run.model), std::move(run.solver));
  linear->timings = run.timings;
  linear->warnings = run.warnings;
  return linear;
}

// One method's outcome: rows dropped, and the refit judged on valid and test.
struct Outcome {
  std::string method;
  std::vector<Index> rows;
  SplitEvaluation valid, test;
};

Outcome judge(const std::string& method, std::vector<Index> rows, SelectionBackend& model, const Dataset& valid) {
  auto [on_valid, on_test] = model.judge(method, rows, valid);
  return {method, std::move(rows), std::move(on_valid), std::move(on_test)};
}

nlohmann::json per_task(const VectorXd& v, const std::vector<int>& tasks, const std::vector<std::string>& names) {
  nlohmann::json j = nlohmann::json::object();
  for (int k : tasks) j[names[k]] = std::isfinite(v(k)) ? nlohmann::json(v(k)) : nlohmann::json(nullptr);
  return j;
}

// The numbers the summary keeps for one outcome, averaged over the target tasks.
nlohmann::json outcome_json(const Outcome& o, const std::vector<int>& tasks, const std::vector<std::string>& names,
                            bool squared) {
  nlohmann::json j = {{"method", o.method},
                      {"rows_selected", o.rows.size()},
                      {"valid_loss", mean_over(o.valid.loss, tasks)},
                      {"test_loss", mean_over(o.test.loss, tasks)},
                      {"test_loss_per_task", per_task(o.test.loss, tasks, names)}};
  if (squared) {
    j["test_rmse"] = mean_over(o.test.rmse, tasks);
  } else {
    j["test_accuracy"] = mean_over(o.test.accuracy, tasks);
    j["test_auc"] = mean_over(o.test.auc, tasks);
  }
  return j;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / double(v.size());
}
double std_dev(const std::vector<double>& v) {  // sample standard deviation
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

// Random removal repeated: one entry with the mean, the spread and every draw.
nlohmann::json random_json(const std::vector<Outcome>& draws, const std::vector<int>& tasks,
                           const std::vector<std::string>& names, bool squared, std::uint64_t seed) {
  nlohmann::json j = outcome_json(draws.front(), tasks, names, squared);
  std::vector<double> valid, test, metric;
  nlohmann::json each = nlohmann::json::array();
  for (const Outcome& o : draws) {
    valid.push_back(mean_over(o.valid.loss, tasks));
    test.push_back(mean_over(o.test.loss, tasks));
    metric.push_back(squared ? mean_over(o.test.rmse, tasks) : mean_over(o.test.auc, tasks));
    each.push_back({{"seed", seed + each.size()}, {"valid_loss", valid.back()}, {"test_loss", test.back()}});
  }
  j["valid_loss"] = mean(valid);
  j["test_loss"] = mean(test);
  j["test_loss_std"] = std_dev(test);
  j[squared ? "test_rmse" : "test_auc"] = mean(metric);
  j.erase("test_loss_per_task");
  j["repeats"] = draws.size();
  j["draws"] = each;
  return j;
}

void write_selected_rows(const std::string& path, const std::vector<Outcome>& outcomes, const VectorXd& score,
                         const Dataset& train) {
  const std::vector<Index> stored = train.stored_row_of_file_row();
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "method,train_row,train_task,combined_score\n");
  for (const Outcome& o : outcomes)
    for (Index r : o.rows)
      fmt::format_to(std::back_inserter(buf), "{},{},{},{:.17g}\n", o.method, r,
                     csv_quote(train.task_names[train.task_of_row(stored[r])]), score(r));
  file.write(buf);
  file.commit();
}

void print_outcomes(const std::vector<nlohmann::json>& rows, bool squared) {
  std::cout << fmt::format("{:<10} {:>8} {:>13} {:>13} {:>12}\n", "method", "dropped", "valid loss", "test loss",
                           squared ? "test RMSE" : "test AUC");
  for (const auto& j : rows) {
    std::string test = fmt::format("{:.6g}", j["test_loss"].get<double>());
    if (j.contains("test_loss_std")) test += fmt::format(" ±{:.2g}", j["test_loss_std"].get<double>());
    std::cout << fmt::format("{:<10} {:>8} {:>13.6g} {:>13} {:>12.6g}\n", j["method"].get<std::string>(),
                             j["rows_selected"].get<size_t>(), j["valid_loss"].get<double>(), test,
                             j[squared ? "test_rmse" : "test_auc"].get<double>());
  }
}

void run_select(const SelectOptions& o) {
  const std::uint64_t seed = o.model.net.seed;  // --seed: the random baseline draws with seed, seed+1, ...
  std::unique_ptr<SelectionBackend> model = selection_backend(o.data, o.model, o.out.quiet);
  nlohmann::json& timings = model->timings;
  Stopwatch clock;
  Dataset valid = read_validation(o.valid, model->data().train, o.data);
  const Dataset& train = model->data().train;
  const auto& names = train.task_names;
  const int target = o.target_task.empty() ? -1 : task_id(names, o.target_task);
  const bool squared = model->squared();

  // Scores against the validation loss of each task: never the test split.
  std::vector<int> target_tasks;
  for (int k = 0; k < valid.num_tasks(); ++k)
    if (valid.task_rows(k) > 0 && (target < 0 || k == target)) target_tasks.push_back(k);
  if (target_tasks.empty()) throw std::invalid_argument("the validation file has no rows of the target task(s)");
  const VectorXd score = selection_score(*model, valid, target, o.include_own);
  timings["score_s"] = clock.lap();

  const std::vector<char> candidate = candidate_rows(train, target, o.include_own || target < 0);
  std::vector<char> mtif_candidate = candidate;  // the baselines keep drawing from `candidate`
  if (o.agree_halves) {
    // Guard against fitting the validation split's noise: a row stays a candidate only if it is
    // predicted to hurt on both halves of the validation rows (alternate rows inside each task).
    const auto [half_a, half_b] = split_alternate(valid);
    const std::vector<char> both = negative_in_both(selection_score(*model, half_a, target, o.include_own),
                                                    selection_score(*model, half_b, target, o.include_own));
    for (size_t r = 0; r < candidate.size(); ++r) mtif_candidate[r] = candidate[r] && both[r];
    timings["agree_halves_s"] = clock.lap();
  }
  const Index max_rows = Index(std::llround(o.budget * double(train.num_rows())));
  std::vector<Outcome> outcomes{judge("full", {}, *model, valid)};
  timings["full_s"] = clock.lap();
  outcomes.push_back(judge("mtif", select_harmful(score, mtif_candidate, max_rows), *model, valid));
  const Index count = Index(outcomes.back().rows.size());
  timings["mtif_s"] = clock.lap();

  auto wants = [&](const std::string& b) { return std::find(o.baselines.begin(), o.baselines.end(), b) != o.baselines.end(); };
  std::vector<Outcome> draws;
  if (wants("random")) {
    for (int i = 0; i < o.repeats; ++i)
      draws.push_back(judge("random", select_random(candidate, count, seed + i), *model, valid));
    timings["random_s"] = clock.lap();
  }
  if (wants("loss")) {
    outcomes.push_back(judge("loss", select_largest(model->row_training_loss(), candidate, count), *model, valid));
    timings["loss_s"] = clock.lap();
  }
  nlohmann::json task_info = nullptr;
  if (wants("task")) {
    // Whole tasks by a leave-one-task-out matrix on the validation split: its columns are the tasks with
    // validation rows, in task order, as target_tasks lists them.
    Relatedness loto = model->task_matrix(valid);
    std::vector<int> columns;
    for (int c = 0, k = 0; k < valid.num_tasks(); ++k)
      if (valid.task_rows(k) > 0) {
        if (target < 0 || k == target) columns.push_back(c);
        ++c;
      }
    std::vector<char> allowed(names.size(), 1);
    if (target >= 0 && !o.include_own) allowed[target] = 0;
    std::vector<int> tasks = select_tasks(loto.matrix, columns, allowed, train, max_rows);
    timings["task_matrix_s"] = clock.lap();
    outcomes.push_back(judge("task", rows_of_tasks(train, tasks), *model, valid));
    task_info = nlohmann::json::array();
    for (int k : tasks) task_info.push_back(names[k]);
    timings["task_s"] = clock.lap();
  }

  std::vector<nlohmann::json> methods;
  for (const Outcome& oc : outcomes) methods.push_back(outcome_json(oc, target_tasks, names, squared));
  if (!draws.empty()) methods.insert(methods.begin() + 2, random_json(draws, target_tasks, names, squared, seed));
  if (!task_info.is_null()) methods.back()["tasks_removed"] = task_info;

  nlohmann::json truth = nullptr;
  if (!o.truth.empty()) {
    const std::vector<char> harmful = read_truth(o.truth, train.num_rows());
    truth = nlohmann::json::object();
    auto add = [&](const std::string& method, const std::vector<Index>& rows) {
      PrecisionRecall pr = precision_recall(rows, harmful);
      truth[method] = {{"flagged", pr.flagged}, {"harmful", pr.harmful}, {"hits", pr.hits},
                       {"precision", pr.precision}, {"recall", pr.recall}};
    };
    for (const Outcome& oc : outcomes)
      if (oc.method != "full") add(oc.method, oc.rows);
    if (!draws.empty()) add("random", draws.front().rows);
    // Every row MTIF calls harmful, whatever the budget.
    add("mtif_all_negative", select_harmful(score, candidate, train.num_rows()));
  }

  if (!o.out.quiet) {
    std::cout << fmt::format("selection for {} on the validation split, budget {} of {} training rows ({} rows); "
                             "test loss = mean over the target task(s):\n",
                             target < 0 ? "all tasks" : names[target], o.budget, train.num_rows(), max_rows);
    print_outcomes(methods, squared);
    if (!truth.is_null())
      for (auto& [method, pr] : truth.items())
        std::cout << fmt::format("truth: {:<18} precision {:.3f} recall {:.3f} ({} of {} harmful rows)\n", method,
                                 pr["precision"].get<double>(), pr["recall"].get<double>(), pr["hits"].get<Index>(),
                                 pr["harmful"].get<Index>());
  }
  if (!o.rows_out.empty()) {
    std::vector<Outcome> listed(outcomes.begin() + 1, outcomes.end());
    if (!draws.empty()) listed.push_back(draws.front());
    write_selected_rows(o.rows_out, listed, score, train);
  }
  if (!o.out.json.empty()) {
    nlohmann::json settings = settings_json(o.data, o.model);
    settings.update({{"valid", o.valid}, {"budget", o.budget}, {"target_task", o.target_task},
                     {"include_own", o.include_own}, {"agree_halves", o.agree_halves}, {"baselines", o.baselines}, {"repeats", o.repeats},
                     {"seed", seed}, {"truth", o.truth}, {"scores_on", "validation split"},
                     {"removal", model->removal()}, {"task_matrix", model->task_matrix_name()}});
    nlohmann::json j = {{"command", "select"},
                        {"settings", settings},
                        {"data", o.data.train},
                        {"seed", seed},
                        {"budget", o.budget},
                        {"max_rows", max_rows},
                        {"train_rows", train.num_rows()},
                        {"target_task", target < 0 ? nlohmann::json(nullptr) : nlohmann::json(names[target])},
                        {"full_data", methods.front()},
                        {"methods", nlohmann::json(std::vector<nlohmann::json>(methods.begin() + 1, methods.end()))},
                        {"truth", truth},
                        {"timings", timings},
                        {"warnings", model->warnings}};
    if (nlohmann::json stops = model->refit_stops(); !stops.is_null()) j["refit_stops"] = stops;
    write_json_file(o.out.json, j);
  }
}

}  // namespace

void register_select(CLI::App& app) {
  auto o = std::make_shared<SelectOptions>();
  auto* cmd = app.add_subcommand(
      "select", "drop the training rows that hurt the target task(s) on the validation split, refit, judge on test");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  cmd->add_option("--valid", o->valid, "validation CSV (same columns): the scores are computed against it only")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--budget", o->budget, "most rows to drop, as a fraction of all training rows")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--target-task", o->target_task, "task to help (default: all tasks, their mean loss)");
  cmd->add_flag("--include-own", o->include_own,
                "with --target-task: its own rows may be dropped too; for all tasks: a row's score includes its "
                "effect on its own task (default: only its effect on the other tasks)");
  cmd->add_flag("--agree-halves", o->agree_halves,
                "MTIF drops only rows predicted harmful on both halves of the validation rows (alternate rows of "
                "each task), a guard against selecting on validation noise");
  cmd->add_option("--baseline", o->baselines, "baselines run beside MTIF (comma-separated)")
      ->delimiter(',')->check(CLI::IsMember({"random", "loss", "task"}))->capture_default_str();
  cmd->add_option("--repeats", o->repeats, "random removals (with seeds --seed, --seed + 1, ...)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--truth", o->truth, "truth.csv of 'mtif generate': precision/recall of the harmful rows found")
      ->check(CLI::ExistingFile);
  cmd->add_option("--rows-out", o->rows_out, "CSV of the dropped rows: method,train_row,train_task,combined_score");
  cmd->footer(
      "MTIF drops the candidate rows with the most negative loss_change_if_removed on the validation\n"
      "loss of the target task(s) other than the row's own (they hurt them), at most budget x rows; random, loss (largest training loss) and task (whole\n"
      "tasks, by a LOTO matrix on validation: Newton for the linear model, brute-force refits for --model mlp)\n"
      "drop the same number. Test loss is never used to choose. --model mlp refits every removal (and the\n"
      "full data) by --retrain-steps warm-started L-BFGS iterations. Example:\n"
      "  mtif select --train train.csv --valid valid.csv --test test.csv --intercept --budget 0.05 --json sel.json");
  cmd->callback([o] {
    run_select(*o);  // --seed (a shared model flag) seeds the random baseline
  });
}

void register_sources(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string target_task, out_path, rows_path;
    int top = 10;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("sources", "which rows of which tasks help or hurt one target task");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  cmd->add_option("--target-task", o->target_task, "the task whose test loss is explained")->required();
  cmd->add_option("--out", o->out_path,
                  "per source task: source_task,rows,harmful_rows,total,helpful,harmful (sums of scores)")
      ->required();
  cmd->add_option("--rows-out", o->rows_path, "per source task its top rows: source_task,kind,rank,train_row,loss_change_if_removed");
  cmd->add_option("--top", o->top, "rows listed per source task and kind (helps / hurts)")->capture_default_str();
  cmd->footer("Example:\n  mtif sources --train train.csv --test test.csv --target-task task3 --out src.csv --rows-out rows.csv");
  cmd->callback([o] {
    std::unique_ptr<SelectionBackend> model = selection_backend(o->data, o->model, o->out.quiet);
    const Dataset& train = model->data().train;
    const int target = task_id(train.task_names, o->target_task);
    if (model->data().test.task_rows(target) == 0)
      throw std::invalid_argument("the test data has no rows of task " + o->target_task);
    std::vector<int> tasks;
    InfluenceScores scores = model->scores(model->data().test, tasks);
    const int column = int(std::find(tasks.begin(), tasks.end(), target) - tasks.begin());
    const VectorXd score = scores.total.col(column);
    std::vector<SourceSummary> sources = summarise_sources(score, scores.train_task, train.num_tasks());
    std::stable_sort(sources.begin(), sources.end(), [](auto& a, auto& b) { return a.total < b.total; });
    {
      AtomicFile file(o->out_path);
      fmt::memory_buffer buf;
      fmt::format_to(std::back_inserter(buf), "source_task,target_task,rows,harmful_rows,total,helpful,harmful\n");
      for (const auto& s : sources)
        fmt::format_to(std::back_inserter(buf), "{},{},{},{},{:.17g},{:.17g},{:.17g}\n",
                       csv_quote(train.task_names[s.task]), csv_quote(o->target_task), s.rows, s.harmful_rows,
                       s.total, s.helpful, s.harmful);
      file.write(buf);
      file.commit();
    }
    if (!o->rows_path.empty()) {
      AtomicFile file(o->rows_path);
      fmt::memory_buffer buf;
      fmt::format_to(std::back_inserter(buf), "source_task,kind,rank,train_row,loss_change_if_removed\n");
      for (int k = 0; k < train.num_tasks(); ++k) {
        std::vector<char> mine(score.size());
        for (Index r = 0; r < score.size(); ++r) mine[r] = scores.train_task[r] == k;
        const std::vector<Index> helps = select_largest(score, mine, o->top);
        const std::vector<Index> hurts = select_largest(-score, mine, o->top);
        for (size_t i = 0; i < helps.size(); ++i)
          if (score(helps[i]) > 0)
            fmt::format_to(std::back_inserter(buf), "{},helps,{},{},{:.17g}\n", csv_quote(train.task_names[k]), i + 1,
                           helps[i], score(helps[i]));
        for (size_t i = 0; i < hurts.size(); ++i)
          if (score(hurts[i]) < 0)
            fmt::format_to(std::back_inserter(buf), "{},hurts,{},{},{:.17g}\n", csv_quote(train.task_names[k]), i + 1,
                           hurts[i], score(hurts[i]));
      }
      file.write(buf);
      file.commit();
    }
    if (!o->out.quiet) {
      std::cout << fmt::format("sources of task {} (sums of loss_change_if_removed of their rows; < 0 hurts):\n",
                               o->target_task);
      std::cout << fmt::format("{:<16} {:>7} {:>8} {:>12} {:>12} {:>12}\n", "source", "rows", "hurting", "total",
                               "helpful", "harmful");
      for (const auto& s : sources)
        std::cout << fmt::format("{:<16.16} {:>7} {:>8} {:>+12.4e} {:>+12.4e} {:>+12.4e}\n", train.task_names[s.task],
                                 s.rows, s.harmful_rows, s.total, s.helpful, s.harmful);
    }
    if (!o->out.json.empty()) {
      nlohmann::json settings = settings_json(o->data, o->model);
      settings["target_task"] = o->target_task;
      settings["top"] = o->top;
      write_json_file(o->out.json, {{"command", "sources"}, {"settings", settings}, {"output", o->out_path},
                                    {"rows_output", o->rows_path}, {"timings", model->timings}, {"warnings", model->warnings}});
    }
  });
}

}  // namespace mtif::cli
