#include "config.hpp"

#include "commands.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mtif::cli {

namespace {
// A flag value as JSON: a number when the text is exactly a JSON number (so
// nothing is rounded on the way back), else the text itself.
nlohmann::json value_json(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_number() && j.dump() == text) return j;
  return text;
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

// The object holding the flags: a summary keeps them under "config".
nlohmann::json flags_of(const nlohmann::json& root) {
  if (!root.is_object()) throw CLI::ConversionError("a config file must hold one JSON object");
  if (root.contains("config") && root["config"].is_object()) return root["config"];
  return root;
}

nlohmann::json read_json(std::istream& input) {
  nlohmann::json root = nlohmann::json::parse(input, nullptr, false);
  if (root.is_discarded()) throw CLI::ConversionError("the config file is not valid JSON");
  return root;
}
}  // namespace

nlohmann::json config_json(const CLI::App& cmd) {
  nlohmann::json j = nlohmann::json::object();
  j["command"] = cmd.get_name();
  for (const CLI::Option* opt : cmd.get_options()) {
    if (!opt->get_configurable() || opt->get_lnames().empty()) continue;
    const std::string name = opt->get_lnames().front();
    if (name == "help" || name == "help-all" || name == "config") continue;
    if (opt->get_expected_min() == 0) {  // a flag: written only when set (a given flag counts for
      if (opt->count() > 0 && opt->as<bool>()) j[name] = true;  // excludes(), even when false)
      continue;
    }
    if (opt->count() > 0) {
      const std::vector<std::string>& r = opt->results();
      if (r.size() == 1) {
        j[name] = value_json(r.front());
      } else {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& s : r) a.push_back(value_json(s));
        j[name] = a;
      }
    } else if (std::string d = opt->get_default_str(); !d.empty()) {
      if (d.size() >= 2 && d.front() == '[' && d.back() == ']') {  // a list default, e.g. [32] or [128,64]
        nlohmann::json a = nlohmann::json::array();
        std::stringstream items(d.substr(1, d.size() - 2));
        for (std::string s; std::getline(items, s, ',');) a.push_back(value_json(s));
        j[name] = a;
      } else {
        j[name] = value_json(d);
      }
    }
  }
  return j;
}

std::string JsonConfig::to_config(const CLI::App* app, bool, bool, std::string) const {
  for (const CLI::App* sub : app->get_subcommands()) return config_json(*sub).dump(2);
  return config_json(*app).dump(2);
}

std::vector<CLI::ConfigItem> JsonConfig::from_config(std::istream& input) const {
  const nlohmann::json root = read_json(input);
  const nlohmann::json flags = flags_of(root);
  const auto chosen = app_->get_subcommands();
  if (chosen.empty()) throw CLI::ConversionError("--config needs a subcommand (or: mtif run --config FILE)");
  const std::string command = chosen.front()->get_name();
  if (root.contains("command") && root["command"].is_string() && root["command"] != command)
    throw CLI::ConversionError("the config file is for 'mtif " + root["command"].get<std::string>() + "', not 'mtif " +
                               command + "'");
  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, value] : flags.items()) {
    // false flags are the defaults; giving them would still trip excludes() (--quiet vs --verbose).
    if (key == "command" || value.is_null() || (value.is_boolean() && !value.get<bool>())) continue;
    CLI::ConfigItem item;
    item.parents = {command};
    item.name = key;
    if (value.is_array())
      for (const auto& v : value) item.inputs.push_back(value_text(v));
    else
      item.inputs = {value_text(value)};
    items.push_back(std::move(item));
  }
  return items;
}

void register_run(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "run the subcommand a JSON config file (or a --json summary) describes");
  cmd->footer(
      "Usage: mtif run --config FILE [flags that override the file]\n"
      "The file is a JSON object of flags plus \"command\", e.g.\n"
      "  {\"command\": \"influence\", \"train\": \"train.csv\", \"test\": \"test.csv\", \"out\": \"s.csv\"}\n"
      "A --json summary of any run works as it is. Flags after the file override it.\n"
      "Example:\n  mtif run --config influence.json --out other.csv");
  cmd->callback([] { throw CLI::RequiredError("--config FILE"); });
}

std::string run_command(std::istream& in, const std::string& file) {
  const nlohmann::json root = nlohmann::json::parse(in, nullptr, false);
  if (root.is_discarded() || !root.is_object()) throw std::runtime_error(file + ": not a JSON object");
  const nlohmann::json& flags = flags_of(root);
  const nlohmann::json& command = root.contains("command") ? root["command"] : flags.value("command", nlohmann::json());
  if (!command.is_string()) throw std::runtime_error(file + ": no \"command\" naming the subcommand to run");
  return command.get<std::string>();
}

std::vector<std::string> expand_run(const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1] != "run") return args;
  std::string file;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) file = args[i + 1];
    else if (args[i].rfind("--config=", 0) == 0) file = args[i].substr(9);
  }
  if (file.empty()) return args;  // `mtif run --help` and errors are CLI11's to report
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file + ": cannot open the config file");
  std::vector<std::string> out = {args[0], run_command(in, file)};
  out.insert(out.end(), args.begin() + 2, args.end());
  return out;
}

}  // namespace mtif::cli
