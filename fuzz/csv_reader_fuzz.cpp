// libFuzzer target: mtif::parse_csv on arbitrary bytes. A DataError is the
// expected answer to bad input; any other exception, a crash, a sanitizer
// report or a broken invariant of the parsed rows is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mtif/csv_reader.hpp"

namespace {

[[noreturn]] void bug(const char* what) {
  std::fprintf(stderr, "csv_reader_fuzz: invariant broken: %s\n", what);
  std::abort();
}

void check(const mtif::RawRows& r, const std::vector<std::string>& tasks) {
  const size_t n = r.y.size(), d = r.feature_names.size();
  if (d == 0) bug("no feature columns accepted");
  if (r.values.size() != n * d) bug("values.size() != rows * features");
  if (r.task.size() != n) bug("task.size() != rows");
  if (r.task_names != tasks) bug("train and test task names differ");
  for (int t : r.task)
    if (t < 0 || static_cast<size_t>(t) >= tasks.size()) bug("task id out of range");
  for (double v : r.values)
    if (!std::isfinite(v)) bug("non-finite feature accepted");
  for (double v : r.y)
    if (!std::isfinite(v)) bug("non-finite target accepted");
}

void run(std::string_view text, const mtif::CsvOptions& options) {
  try {
    mtif::ParsedCsv p = mtif::parse_csv(text, "fuzz.csv", options);
    const auto& tasks = p.train.task_names;
    check(p.train, tasks);
    check(p.test, tasks);
    if (p.train.y.empty() && p.test.y.empty()) bug("no rows accepted");
    if (!p.has_split && !p.test.y.empty()) bug("test rows without a split column");
    // Every training task has rows; every label is non-empty.
    std::vector<char> used(tasks.size(), 0);
    for (int t : p.train.task) used[t] = 1;
    for (size_t k = 0; k < tasks.size(); ++k) {
      if (!used[k]) bug("task without training rows");
      if (tasks[k].empty()) bug("empty task label accepted");
    }
  } catch (const mtif::DataError& e) {
    // The contract: "FILE:LINE:COLUMN: message" on one line.
    std::string_view what = e.what();
    if (what.substr(0, 9) != "fuzz.csv:") bug("message does not start with the file name");
    size_t i = 9;
    for (int part = 0; part < 2; ++part) {  // LINE: and COLUMN:, both positive
      size_t start = i;
      while (i < what.size() && what[i] >= '0' && what[i] <= '9') ++i;
      if (i == start || i >= what.size() || what[i] != ':') bug("message lacks FILE:LINE:COLUMN:");
      if (what[start] == '0') bug("line or column 0 (they are 1-based)");
      ++i;
    }
    if (what.find('\n') != std::string_view::npos) bug("message spans several lines");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  run(text, {});
  // Also with an explicit feature list, so the --features code is reached.
  mtif::CsvOptions options;
  options.features = {"a", "b"};
  run(text, options);
  return 0;
}
