// Writers for the score files of the interfaces contract.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "mtif/linear_influence.hpp"
#include "mtif/validation.hpp"

namespace mtif {

// Name of target t: the task label, and for row targets the test row.
std::string target_task_name(const Targets& targets, int t, const std::vector<std::string>& task_names);

// train_row,train_task,target_task[,target_row],loss_change_if_removed,task_part,shared_part
// A path ending in .npy writes the total scores as a matrix plus PATH.json naming rows and targets.
void write_influence(const std::string& path, const InfluenceScores& scores, const Targets& targets,
                     const std::vector<std::string>& task_names, const nlohmann::json& settings);

// train_row,train_task,target_task[,target_row],actual_loss_change
void write_loo(const std::string& path, const MatrixXd& actual, const std::vector<Index>& rows,
               const std::vector<int>& row_task, const Targets& targets, const std::vector<std::string>& task_names);

// source_task,target_task,loss_change_if_removed
void write_relatedness(const std::string& path, const Relatedness& r, const Targets& targets,
                       const std::vector<std::string>& task_names);

// subset,target_task,predicted_loss_change,actual_loss_change (one line per subset and target)
void write_lds(const std::string& path, const LdsResult& lds, const Targets& targets,
               const std::vector<std::string>& task_names);
nlohmann::json lds_to_json(const LdsResult& lds, const Targets& targets, const std::vector<std::string>& task_names);

nlohmann::json matrix_to_json(const MatrixXd& m);
nlohmann::json agreement_to_json(const AgreementSplit& a);

}  // namespace mtif
