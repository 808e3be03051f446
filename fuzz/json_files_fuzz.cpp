// libFuzzer target: the JSON files mtif reads, on arbitrary bytes:
//   a run file (`--config FILE`, `mtif run --config FILE`): the flag reader
//     JsonConfig::from_config and run_command, which expand_run reads the file with;
//   a linear model file (`--model-file`): read_json (read_json_file's reader)
//     and linear_model_from_json.
// Everything is read from memory through the stream readers the CLI's file
// readers use, so no file is written per input.
// A refusal (an exception derived from std::exception: CLI11's ConversionError,
// std::runtime_error, nlohmann's parse/type/out_of_range errors) is the expected
// answer to bad input; a crash, a sanitizer report or a broken invariant is a bug.
// (The network model files need LibTorch and are not fuzzed here.)
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "../apps/mtif/config.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/output.hpp"

namespace {

[[noreturn]] void bug(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "json_files_fuzz: invariant broken: %s %s\n", what, detail.c_str());
  std::abort();
}

// An app with the chosen subcommand "influence", as when `mtif influence --config F` is read.
struct ChosenApp {
  CLI::App app{"fuzz"};
  ChosenApp() {
    app.add_subcommand("influence", "");
    app.parse(std::vector<std::string>{"influence"});
  }
};

void run_file(const std::string& text) {
  static ChosenApp chosen;
  try {
    std::istringstream in(text);
    auto items = mtif::cli::JsonConfig(&chosen.app).from_config(in);
    for (const auto& item : items) {
      if (item.parents != std::vector<std::string>{"influence"}) bug("flag under another subcommand");
      if (item.name == "command") bug("\"command\" passed on as a flag");
    }
  } catch (const std::exception&) {
  }
  try {
    std::istringstream in(text);
    mtif::cli::run_command(in, "run.json");
  } catch (const std::exception&) {
  }
}

void model_file(const std::string& text) {
  mtif::LinearModel m;
  try {
    std::istringstream in(text);
    m = mtif::linear_model_from_json(mtif::read_json(in, "model.json"));
  } catch (const std::exception&) {
    return;
  }
  if (m.theta.size() != m.task_names.size()) bug("theta count differs from the task count");
  if (m.gamma.size() != static_cast<Eigen::Index>(m.feature_names.size())) bug("gamma size differs from the features");
  for (const auto& t : m.theta)
    if (t.size() != m.gamma.size()) bug("theta and gamma sizes differ");
  // What was read writes back to a file that reads the same.
  mtif::LinearModel again = mtif::linear_model_from_json(mtif::to_json(m));
  if (again.task_names != m.task_names || again.feature_names != m.feature_names) bug("names do not round-trip");
  if (!(again.gamma.array() == m.gamma.array() || (m.gamma.array() != m.gamma.array())).all())
    bug("gamma does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  run_file(text);
  model_file(text);
  return 0;
}
