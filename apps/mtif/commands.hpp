#pragma once

#include <CLI/CLI.hpp>

namespace mtif::cli {

void register_generate(CLI::App& app);
void register_fit(CLI::App& app);
void register_influence(CLI::App& app);
void register_loo(CLI::App& app);
void register_relatedness(CLI::App& app);
void register_demo(CLI::App& app);
void register_report(CLI::App& app);

}  // namespace mtif::cli

#include <Eigen/Dense>
#include <string>
#include <vector>

namespace mtif::cli {
// Prints a K x K relatedness matrix with task labels.
void print_relatedness(const Eigen::MatrixXd& m, const std::vector<std::string>& names);
}  // namespace mtif::cli
