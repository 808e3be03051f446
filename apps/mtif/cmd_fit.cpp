#include <fmt/format.h>

#include <iostream>

#include "commands.hpp"
#include "mtif/output.hpp"
#include "mtl_models.hpp"
#include "network.hpp"
#include "options.hpp"

namespace mtif::cli {

void register_fit(CLI::App& app) {
  struct Options {
    DataOptions data;
    ModelOptions model;
    OutputOptions out;
    std::string save;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("fit", "fit the multitask model and report per-task test loss");
  add_data_options(cmd, o->data);
  add_model_options(cmd, o->model);
  add_output_options(cmd, o->out);
  cmd->add_option("--save", o->save, "write the fitted model as JSON");
  cmd->footer("Example:\n  mtif fit --train train.csv --test test.csv --lambda-task 0.5 --save model.json");
  cmd->callback([o] {
    begin_command(o->out);
    if (is_network_model(o->model)) return network_fit(o->data, o->model, o->out, o->save);
    if (is_mtl_model(o->model.model)) return mtl_fit(o->data, o->model, o->out, o->save);
    FittedRun run = read_and_fit(o->data, o->model, o->out.quiet);
    VectorXd loss = task_mean_loss(run.model, run.data.test);
    if (!o->out.quiet) {
      std::cout << fmt::format("fit: {} Newton step(s), objective {:.10g}, max |gradient| {:.2e}\n",
                               run.model.report.iterations, run.model.report.objective,
                               run.model.report.gradient_max_abs);
      std::cout << "task, mean test loss\n";
      for (int k = 0; k < run.data.test.num_tasks(); ++k)
        std::cout << fmt::format("{}, {:.6g}\n", run.data.test.task_names[k], loss(k));
    }
    if (!o->save.empty()) write_json_file(o->save, to_json(run.model));
    if (!o->out.json.empty()) {
      nlohmann::json j = {{"command", "fit"}, {"settings", settings_json(o->data, o->model)},
                          {"model", to_json(run.model)}, {"timings", run.timings}, {"warnings", run.warnings}};
      std::vector<double> l(loss.data(), loss.data() + loss.size());
      j["test_loss"] = l;
      write_summary(o->out, j);
    }
  });
}

}  // namespace mtif::cli
