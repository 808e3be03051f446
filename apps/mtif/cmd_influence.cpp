#include <fmt/format.h>

#include "commands.hpp"
#include "mtif/gather_scores.hpp"
#include "mtif/output.hpp"
#include "mtif/score_files.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

void register_influence(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string scores_path, targets = "tasks", mode = "first-order";
  };
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
  cmd->footer(
      "Output: train_row,train_task,target_task,loss_change_if_removed,task_part,shared_part\n"
      "Sign: positive = removing the row raises the target's loss (it helps); negative = it hurts.\n"
      "Example:\n  mtif influence --train train.csv --test test.csv --out scores.csv --mode exact");
  cmd->callback([o] {
    begin_command(o->out);
    if (o->model.model == "mlp")
      return network_influence(o->data, o->model, o->out, o->scores_path, o->targets, o->mode);
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
