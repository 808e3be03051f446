// The linear model's task-relatedness measures behind one call, shared by
// `mtif relatedness` and `mtif group` (cmd_relatedness.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "mtif/linear_model.hpp"
#include "mtif/task_affinity.hpp"
#include "mtif/validation.hpp"

namespace mtif::cli {

// The flags of --method surrogate / gradient-estimate and of --compare-subsets.
struct SubsetOptions {
  int subsets = 200;
  double keep_fraction = 0.5;
  std::string losses = "retrain";
  int projection_dim = 100;
  double ridge = 1e-3;
  std::uint64_t seed = 1;
  std::string out;
  int validate = 0;
  int compare = 0;
};

// The measures of the linear model (no vmtl/feedback: they train models of their own).
inline const std::vector<std::string> kLinearRelatednessMethods{"mtif", "newton", "retrain", "tag", "gradcos",
                                                                "surrogate", "gradient-estimate"};

// --trajectory-steps, --trajectory-lr and the surrogate flags (--subsets ... --validate-subsets).
void add_linear_relatedness_options(CLI::App* cmd, TrajectoryConfig& trajectory, SubsetOptions& subsets);
// --method gradient-estimate implies --subset-losses gradient (refuses another value given).
void resolve_subset_losses(const std::string& method, const CLI::App* cmd, SubsetOptions& subsets);

// R[l][t] of `method` for the fitted linear model: test-loss changes on `test`
// (the rows of `targets`) or, for tag/gradcos, affinities along a trajectory on
// the training rows. `details` gets the method's settings (null when none).
Relatedness linear_relatedness(const std::string& method, const LinearModel& model, const Dataset& train,
                               const Dataset& test, const Targets& targets, const TrajectoryConfig& trajectory,
                               const SubsetOptions& subsets, nlohmann::json& details, bool quiet);

// A relatedness file of `mtif relatedness --out` (any method) as the K x K matrix
// R[l][k] over `tasks` (cmd_group.cpp); a missing diagonal entry is NaN.
MatrixXd read_relatedness_file(const std::string& path, const std::vector<std::string>& tasks);

}  // namespace mtif::cli
