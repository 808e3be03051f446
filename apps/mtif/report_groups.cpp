#include "report_groups.hpp"

#include <fmt/format.h>

#include "mtif/csv_reader.hpp"

namespace mtif::cli {

namespace {
using nlohmann::json;

const json& field(const json& j, const char* name, const std::string& file) {
  if (!j.is_object() || !j.contains(name))
    throw DataError(fmt::format("{}: group summary without \"{}\" (written by mtif group --json?)", file, name));
  return j[name];
}

double mean_loss(const json& baseline, const std::string& file) {
  const json& v = field(baseline, "mean_test_loss", file);
  if (!v.is_number()) throw DataError(file + ": \"mean_test_loss\" is not a number");
  return v.get<double>();
}
}  // namespace

json report_groups_entry(const json& summary, const std::string& file) {
  const json& tasks = field(summary, "tasks", file);
  const json& all = field(summary, "all_tasks", file);
  const json& single = field(summary, "single_task", file);
  json entry = {{"file", file},
                {"tasks", tasks},
                {"affinity", summary.value("/settings/affinity"_json_pointer, json("?"))},
                {"chosen_on", summary.value("chosen_on", std::string("?"))},
                {"all_tasks", mean_loss(all, file)},
                {"single_task", mean_loss(single, file)},
                {"per_task", {{"all_tasks", field(all, "test_loss_per_task", file)},
                              {"single_task", field(single, "test_loss_per_task", file)}}},
                {"budgets", json::array()}};
  for (const json& b : field(summary, "budgets", file)) {
    entry["budgets"].push_back({{"groups", field(b, "groups", file)},
                                {"partition", field(b, "partition", file)},
                                {"objective", field(b, "objective", file)},
                                {"search", b.value("search", std::string("?"))},
                                {"mean_test_loss", mean_loss(b, file)},
                                {"test_loss_per_task", field(b, "test_loss_per_task", file)}});
  }
  return entry;
}

}  // namespace mtif::cli
