// mtif report's inputs: what a run left behind (JSON summaries of any
// subcommand, score / LOO / relatedness CSVs recognised by their header),
// read once into RunContents, from which the page's sections are built
// (report_sections.hpp).
#pragma once

#include <Eigen/Dense>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace mtif::cli::report {

using nlohmann::json;

struct Matrix {
  std::string method, label, file;
  std::vector<std::string> sources, targets;
  Eigen::MatrixXd values;
};

struct LooFile {
  std::string file;
  // (train_row, target key) -> actual change; train task per row.
  std::map<std::pair<long, std::string>, double> actual;
  std::map<long, std::string> row_task;
};

// A score file read once: the top rows per target, and the predictions for
// the (row, target) pairs of every LOO file.
struct ScoresFile {
  std::string file;
  std::string mode;  // how its scores were computed (first-order, exact), else its file name
  bool row_targets = false;
  std::vector<std::string> target_order;
  std::map<std::string, json> helps, hurts;  // target -> [[row, task, score], ...] best first
  std::vector<std::map<std::pair<long, std::string>, double>> predicted;  // per LOO file
};

// Everything a run directory (or one summary) holds that the page shows.
struct RunContents {
  std::filesystem::path dir;  // the run directory, or the folder of the one summary
  bool is_dir = false;
  json notes = json::array();      // files skipped, and why
  json summaries = json::array();  // one entry per summary: file, command, settings, timings, warnings
  json data_files = json::array(); // data CSVs: file, rows, columns
  std::vector<Matrix> matrices;    // relatedness matrices, MTIF, Newton, retrain first; no duplicates
  std::vector<LooFile> loos;
  std::vector<ScoresFile> scores;  // each with the predictions for every LOO file's pairs
  json selection = nullptr;        // the mtif select summary, if any
  json groups = json::array();     // one entry per mtif group summary (report_groups.cpp)
};

// Reads `from` (a run directory or one JSON summary); `top` rows are kept per
// target and sign. Throws DataError naming the file for unreadable input.
RunContents read_run(const std::string& from, int top);

}  // namespace mtif::cli::report
