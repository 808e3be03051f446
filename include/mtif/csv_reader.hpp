// CSV reader for the data contract of shared/spec/interfaces.md.
//
// Every kind of bad input is refused with a DataError whose message starts with
// "FILE:LINE:COLUMN:" (1-based, the header is line 1) and names the column.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mtif/dataset.hpp"

namespace mtif {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CsvOptions {
  std::string task_column = "task";
  std::string target_column = "y";
  std::string split_column = "split";
  std::vector<std::string> features;  // empty: every other column
  // Added to the line numbers of data rows in error messages: a chunk of a
  // file parsed on its own (header + some lines) reports the file's lines.
  long line_offset = 0;
};

// Task labels in the order mtif numbers them: numbers by value, then text.
bool task_label_less(const std::string& a, const std::string& b);

// Parses CSV text already in memory (`name` is used in error messages).
// `known_tasks`, when given, fixes the task ids (test files must only use
// tasks seen in training). Returns rows of the named split, or all rows when
// the file has no split column and `split` is empty.
struct ParsedCsv {
  RawRows train;
  RawRows test;
  bool has_split = false;
};
ParsedCsv parse_csv(std::string_view text, const std::string& name, const CsvOptions& options);

// Reads training and test data. With `test_path` empty the training file must
// have a `split` column (train/test). Checks that every task has training rows
// and that test tasks were seen in training.
TrainTest read_train_test(const std::string& train_path, const std::string& test_path,
                          const CsvOptions& options);

// Reads one more file (e.g. a validation split) against the task ids of `train`.
Dataset read_with_tasks_of(const std::string& path, const Dataset& train, const CsvOptions& options);

}  // namespace mtif
