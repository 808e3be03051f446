// libFuzzer target: the JSON files mtif reads, on arbitrary bytes:
//   a run file (`--config FILE`, `mtif run --config FILE`): the flag reader
//     JsonConfig::from_config and the subcommand lookup expand_run;
//   a linear model file (`--model-file`): linear_model_from_json.
// A refusal (an exception derived from std::exception: CLI11's ConversionError,
// std::runtime_error, nlohmann's parse/type/out_of_range errors) is the expected
// answer to bad input; a crash, a sanitizer report or a broken invariant is a bug.
// (The network model files need LibTorch and are not fuzzed here.)
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "../apps/mtif/config.hpp"
#include "mtif/linear_model.hpp"

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
  static const std::string path = "/tmp/json_files_fuzz." + std::to_string(::getpid()) + ".json";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
  }
  try {
    auto args = mtif::cli::expand_run({"mtif", "run", "--config", path, "--out", "x.csv"});
    if (args.size() != 6 || args[0] != "mtif" || args[2] != "--config") bug("expand_run changed the other arguments");
  } catch (const std::exception&) {
  }
}

void model_file(const std::string& text) {
  mtif::LinearModel m;
  try {
    m = mtif::linear_model_from_json(nlohmann::json::parse(text));
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
