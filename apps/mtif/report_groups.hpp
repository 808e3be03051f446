// The task-groups section of `mtif report` (issue 14 item 4), kept apart from
// cmd_report.cpp: what a `mtif group --json` summary shows on the page.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace mtif::cli {

// The page's entry for one group summary: budgets with their partitions and
// mean test losses, the two baselines, each task's loss per budget. A summary
// without the fields is a one-line DataError naming `file`.
nlohmann::json report_groups_entry(const nlohmann::json& summary, const std::string& file);

}  // namespace mtif::cli
