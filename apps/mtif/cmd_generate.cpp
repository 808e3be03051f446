#include <fmt/format.h>

#include <filesystem>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtif/synthetic.hpp"
#include "options.hpp"

namespace mtif::cli {

namespace {
struct GenerateOptions {
  SyntheticConfig config;
  std::string loss = "squared";
  std::string out_dir = "synthetic";
  OutputOptions out;  // --quiet / --verbose
};

void add_synthetic_options(CLI::App* cmd, GenerateOptions& o) {
  cmd->add_option("--tasks", o.config.tasks, "number of tasks")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--features", o.config.features, "number of features")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--rows", o.config.train_rows, "training rows per task (one value, or one per task)")
      ->capture_default_str()->delimiter(',');
  cmd->add_option("--test-rows", o.config.test_rows_per_task, "test rows per task")->capture_default_str();
  cmd->add_option("--similarity", o.config.similarity, "cosine of each task's weights to the shared direction")
      ->capture_default_str()->check(CLI::Range(-1.0, 1.0));
  cmd->add_option("--conflicting", o.config.conflicting_tasks, "tasks that point against the shared direction")
      ->capture_default_str();
  cmd->add_option("--label-noise", o.config.label_noise, "fraction of training labels corrupted")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--noise", o.config.noise_std, "observation noise (squared loss)")->capture_default_str();
  cmd->add_option("--loss", o.loss, "squared or logistic")->check(CLI::IsMember({"squared", "logistic"}))->capture_default_str();
  cmd->add_option("--seed", o.config.seed, "random seed")->capture_default_str();
}
}  // namespace

void register_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "write a seeded synthetic multitask data set (train.csv, test.csv, truth.csv)");
  add_synthetic_options(cmd, *o);
  cmd->add_option("--out-dir", o->out_dir, "folder to write into")->capture_default_str();
  add_verbosity_options(cmd, o->out);
  cmd->footer("Example:\n  mtif generate --tasks 10 --features 20 --rows 200 --conflicting 2 --out-dir data/syn");
  cmd->callback([o] {
    begin_command(o->out);
    o->config.loss = parse_loss(o->loss);
    SyntheticData s = generate_synthetic(o->config);
    std::filesystem::create_directories(o->out_dir);
    write_dataset_csv(s.data.train, o->out_dir + "/train.csv");
    write_dataset_csv(s.data.test, o->out_dir + "/test.csv");
    AtomicFile truth(o->out_dir + "/truth.csv");
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), "train_row,task,corrupted_label,conflicting_task\n");
    auto stored = s.data.train.stored_row_of_file_row();
    for (size_t r = 0; r < s.corrupted.size(); ++r) {
      int k = s.data.train.task_of_row(stored[r]);
      bool conflicting = std::find(s.conflicting_tasks.begin(), s.conflicting_tasks.end(), k) != s.conflicting_tasks.end();
      fmt::format_to(std::back_inserter(buf), "{},{},{},{}\n", r, csv_quote(s.data.train.task_names[k]), int(s.corrupted[r]),
                     int(conflicting));
    }
    truth.write(buf);
    truth.commit();
    info(o->out.quiet, s.description);
    info(o->out.quiet, fmt::format("wrote {0}/train.csv, {0}/test.csv and {0}/truth.csv (which rows and tasks are bad)",
                               o->out_dir));
  });
}

}  // namespace mtif::cli
