// Run configuration files: JSON objects of a subcommand's flags.
//
//   {"command": "influence", "train": "train.csv", "test": "test.csv",
//    "lambda-task": 0.5, "mode": "exact", "out": "scores.csv"}
//
// Keys are the long flag names without "--"; values are strings, numbers,
// booleans (flags) or arrays (list flags). `--config FILE` works on every
// subcommand and `mtif run --config FILE` takes the subcommand from "command".
// Flags on the command line win over the file. Every --json summary carries
// the resolved flags of its run under "config" (defaults included), and the
// reader accepts a summary as it is, so a summary reproduces its own run.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace mtif::cli {

// Every configurable flag of `cmd` with its value (given or default) plus "command".
nlohmann::json config_json(const CLI::App& cmd);

// CLI11 reads --config through this formatter; `app` is the main app (it knows
// which subcommand was chosen when the file is read).
class JsonConfig : public CLI::Config {
 public:
  explicit JsonConfig(const CLI::App* app) : app_(app) {}
  std::string to_config(const CLI::App* app, bool, bool, std::string) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::App* app_;
};

// `mtif run --config FILE ...` becomes `mtif COMMAND --config FILE ...`
// (COMMAND from the file's "command"); other argument lists are left alone.
std::vector<std::string> expand_run(const std::vector<std::string>& args);
// The subcommand a run file names (its "command", or its "config" object's);
// `file` names it in messages. expand_run reads the file through this.
std::string run_command(std::istream& in, const std::string& file);

}  // namespace mtif::cli
