#pragma once

#include <CLI/CLI.hpp>

namespace mtif::cli {

void register_generate(CLI::App& app);
void register_fit(CLI::App& app);
void register_influence(CLI::App& app);
void register_loo(CLI::App& app);
void register_relatedness(CLI::App& app);
void register_demo(CLI::App& app);
void register_lds(CLI::App& app);
void register_images(CLI::App& app);
void register_report(CLI::App& app);
void register_select(CLI::App& app);   // cmd_select.cpp
void register_sources(CLI::App& app);  // cmd_select.cpp
void register_run(CLI::App& app);  // config.cpp
void register_group(CLI::App& app);  // cmd_group.cpp

}  // namespace mtif::cli

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace mtif::cli {
// Prints a K x K relatedness matrix with task labels.
void print_relatedness(const Eigen::MatrixXd& m, const std::vector<std::string>& names);
}  // namespace mtif::cli

#include <nlohmann/json.hpp>
#include "mtif/validation.hpp"
namespace mtif::cli {
// Agreement of a task matrix with brute-force leave-one-task-out (the
// "versus_retrain" object of relatedness --validate, the same for every model):
// Spearman per target over all sources and over the other tasks only, Pearson,
// largest error relative to the truth's largest entry, timings.
nlohmann::json compare_with_truth(const Relatedness& r, const Relatedness& truth, const Targets& targets,
                                  const std::vector<std::string>& names);
}  // namespace mtif::cli

#include "mtif/validation.hpp"
namespace mtif::cli {
// Prints the LDS per target and its mean.
void report_lds(const LdsResult& lds, const Targets& targets, const std::vector<std::string>& task_names,
                const std::string& protocol, bool quiet);
}  // namespace mtif::cli
