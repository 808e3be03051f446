#include "report_inputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <queue>
#include <set>
#include <unordered_map>

#include "mtif/csv_reader.hpp"
#include "report_groups.hpp"
#include "mtif/output.hpp"
#include "report_groups.hpp"

namespace mtif::cli::report {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- CSV input
// One RFC 4180 record at a time (quoted fields may hold commas, quotes and
// line breaks: task labels may). Score files can hold 10^7 lines, so this
// reads through a FILE buffer instead of loading the file.
class CsvRecords {
 public:
  explicit CsvRecords(const fs::path& path) : path_(path.string()), file_(std::fopen(path_.c_str(), "rb")) {
    if (!file_) throw DataError(fmt::format("{}: cannot open the file for reading", path_));
  }
  ~CsvRecords() {
    if (file_) std::fclose(file_);
  }
  CsvRecords(const CsvRecords&) = delete;
  CsvRecords& operator=(const CsvRecords&) = delete;

  bool next(std::vector<std::string>& fields) {
    fields.clear();
    std::string field;
    bool quoted = false, any = false;
    int c;
    while ((c = getc_unlocked(file_)) != EOF) {
      any = true;
      if (quoted) {
        if (c != '"') {
          field += char(c);
        } else {
          int d = getc_unlocked(file_);
          if (d == '"') field += '"';
          else {
            quoted = false;
            if (d != EOF) ungetc(d, file_);
          }
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\n') {
        break;
      } else if (c != '\r') {
        field += char(c);
      }
    }
    if (!any) return false;
    ++line_;
    fields.push_back(std::move(field));
    return true;
  }
  long line() const { return line_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_;
  long line_ = 0;
};

double parse_number(const std::string& s, const CsvRecords& csv, const std::string& column) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size())
    throw DataError(fmt::format("{}:{}: column '{}': '{}' is not a number", csv.path(), csv.line(), column, s));
  return v;
}

// Column positions of a header; -1 where absent.
struct Header {
  std::vector<std::string> names;
  int find(const std::string& name) const {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : int(it - names.begin());
  }
  int need(const std::string& name, const std::string& path) const {
    int i = find(name);
    if (i < 0) throw DataError(fmt::format("{}:1: no column '{}'", path, name));
    return i;
  }
};

Header read_header(const fs::path& path) {
  CsvRecords csv(path);
  Header h;
  csv.next(h.names);
  return h;
}

enum class CsvKind { Scores, Loo, Relatedness, Data, Other };

CsvKind classify(const Header& h) {
  if (h.find("actual_loss_change") >= 0 && h.find("train_row") >= 0) return CsvKind::Loo;
  if (h.find("source_task") >= 0 && h.find("loss_change_if_removed") >= 0) return CsvKind::Relatedness;
  if (h.find("train_row") >= 0 && h.find("loss_change_if_removed") >= 0) return CsvKind::Scores;
  if (h.find("task") >= 0) return CsvKind::Data;
  return CsvKind::Other;
}

// The target of a line: its task, and for row targets also the test row.
std::string target_key(const std::vector<std::string>& f, int task_col, int row_col) {
  return row_col < 0 ? f[task_col] : fmt::format("{} (test row {})", f[task_col], f[row_col]);
}


std::string method_label(const std::string& method) {
  if (method == "mtif") return "MTIF (first-order, sum of row scores)";
  if (method == "newton") return "Newton leave-one-task-out";
  if (method == "retrain") return "Retraining without each task";
  return method;
}

Matrix matrix_from_json(const json& rows, std::vector<std::string> sources, std::vector<std::string> targets,
                        const std::string& method, const std::string& file) {
  Matrix m{method, method_label(method), file, std::move(sources), std::move(targets), {}};
  if (!rows.is_array() || rows.size() != m.sources.size())
    throw DataError(fmt::format("{}: relatedness matrix '{}' has {} rows for {} source tasks", file, method,
                                rows.size(), m.sources.size()));
  m.values.resize(m.sources.size(), m.targets.size());
  for (size_t l = 0; l < m.sources.size(); ++l) {
    if (!rows[l].is_array() || rows[l].size() != m.targets.size())
      throw DataError(fmt::format("{}: relatedness matrix '{}' row {} does not have {} entries", file, method, l,
                                  m.targets.size()));
    for (size_t t = 0; t < m.targets.size(); ++t)
      m.values(l, t) = rows[l][t].is_number() ? rows[l][t].get<double>() : std::nan("");
  }
  return m;
}

Matrix matrix_from_csv(const fs::path& path) {
  CsvRecords csv(path);
  std::vector<std::string> f;
  csv.next(f);
  Header h{f};
  const int s = h.need("source_task", path.string()), t = h.need("target_task", path.string());
  const int r = h.find("target_row"), v = h.need("loss_change_if_removed", path.string());
  std::vector<std::string> sources, targets;
  std::map<std::string, int> source_index, target_index;
  std::vector<std::tuple<int, int, double>> entries;
  while (csv.next(f)) {
    if (f.size() != h.names.size()) throw DataError(fmt::format("{}:{}: ragged line", path.string(), csv.line()));
    auto index = [](std::map<std::string, int>& map, std::vector<std::string>& names, const std::string& name) {
      auto [it, added] = map.emplace(name, int(names.size()));
      if (added) names.push_back(name);
      return it->second;
    };
    int l = index(source_index, sources, f[s]);
    int k = index(target_index, targets, target_key(f, t, r));
    entries.emplace_back(l, k, parse_number(f[v], csv, "loss_change_if_removed"));
  }
  Matrix m{"csv", "Relatedness from " + path.filename().string(), path.filename().string(), sources, targets, {}};
  m.values = MatrixXd::Constant(sources.size(), targets.size(), std::nan(""));
  for (auto [l, k, x] : entries) m.values(l, k) = x;
  return m;
}

// A relatedness CSV that repeats a matrix already read from a summary (the
// CSVs hold round-trip digits, so a copy is equal to the last bit).
bool same_matrix(const Matrix& a, const Matrix& b) {
  return a.sources == b.sources && a.targets == b.targets && a.values == b.values;
}

LooFile read_loo(const fs::path& path) {
  CsvRecords csv(path);
  std::vector<std::string> f;
  csv.next(f);
  Header h{f};
  const std::string p = path.string();
  const int row = h.need("train_row", p), task = h.need("train_task", p), target = h.need("target_task", p);
  const int trow = h.find("target_row"), value = h.need("actual_loss_change", p);
  LooFile loo{path.filename().string(), {}, {}};
  while (csv.next(f)) {
    if (f.size() != h.names.size()) throw DataError(fmt::format("{}:{}: ragged line", p, csv.line()));
    long r = long(parse_number(f[row], csv, "train_row"));
    loo.actual[{r, target_key(f, target, trow)}] = parse_number(f[value], csv, "actual_loss_change");
    loo.row_task[r] = f[task];
  }
  return loo;
}

ScoresFile read_scores(const fs::path& path, int top, const std::vector<LooFile>& loos) {
  CsvRecords csv(path);
  std::vector<std::string> f;
  csv.next(f);
  Header h{f};
  const std::string p = path.string();
  const int row = h.need("train_row", p), task = h.need("train_task", p), target = h.need("target_task", p);
  const int trow = h.find("target_row"), value = h.need("loss_change_if_removed", p);
  ScoresFile s;
  s.file = path.filename().string();
  s.row_targets = trow >= 0;
  s.predicted.resize(loos.size());
  // Bounded heaps per target: the root is the entry to drop next.
  using Entry = std::pair<double, long>;  // score, row
  std::map<std::string, std::priority_queue<Entry, std::vector<Entry>, std::greater<>>> best;  // min-heap
  std::map<std::string, std::priority_queue<Entry>> worst;                                      // max-heap
  std::unordered_map<long, std::string> tasks_of_kept;
  while (csv.next(f)) {
    if (f.size() != h.names.size()) throw DataError(fmt::format("{}:{}: ragged line", p, csv.line()));
    const long r = long(parse_number(f[row], csv, "train_row"));
    const double v = parse_number(f[value], csv, "loss_change_if_removed");
    std::string key = target_key(f, target, trow);
    for (size_t i = 0; i < loos.size(); ++i)
      if (loos[i].actual.count({r, key})) s.predicted[i][{r, key}] = v;
    if (s.row_targets) continue;  // top rows are listed per task target only
    if (!best.count(key)) s.target_order.push_back(key);
    auto& b = best[key];
    auto& w = worst[key];
    bool kept = false;
    if (int(b.size()) < top || v > b.top().first) {
      b.emplace(v, r);
      if (int(b.size()) > top) b.pop();
      kept = true;
    }
    if (int(w.size()) < top || v < w.top().first) {
      w.emplace(v, r);
      if (int(w.size()) > top) w.pop();
      kept = true;
    }
    if (kept) tasks_of_kept.emplace(r, f[task]);
  }
  for (const auto& key : s.target_order) {
    json helps = json::array(), hurts = json::array();
    for (auto b = best[key]; !b.empty(); b.pop()) helps.push_back({b.top().second, tasks_of_kept[b.top().second], b.top().first});
    for (auto w = worst[key]; !w.empty(); w.pop()) hurts.push_back({w.top().second, tasks_of_kept[w.top().second], w.top().first});
    std::reverse(helps.begin(), helps.end());  // largest score first
    std::reverse(hurts.begin(), hurts.end());  // most negative first
    s.helps[key] = helps;
    s.hurts[key] = hurts;
  }
  return s;
}

// A path named in a summary: as written (relative to the working directory),
// else the file of that name beside the summary.
std::optional<fs::path> resolve(const std::string& named, const fs::path& dir) {
  if (named.empty()) return std::nullopt;
  std::error_code ec;
  if (fs::is_regular_file(named, ec)) return fs::path(named);
  fs::path beside = dir / fs::path(named).filename();
  if (fs::is_regular_file(beside, ec)) return beside;
  return std::nullopt;
}

std::string canonical_key(const fs::path& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return ec ? p.string() : c.string();
}

}  // namespace

RunContents read_run(const std::string& from_arg, int top) {
  std::error_code ec;
  const fs::path from(from_arg);
  if (!fs::exists(from, ec)) throw DataError(fmt::format("{}: no such file or directory (--from)", from_arg));
  const bool is_dir = fs::is_directory(from, ec);
  const fs::path dir = is_dir ? from : (from.has_parent_path() ? from.parent_path() : fs::path("."));

  std::vector<fs::path> json_files, csv_files;
  if (is_dir) {
    std::vector<fs::path> entries;
    for (const auto& e : fs::directory_iterator(from)) entries.push_back(e.path());
    std::sort(entries.begin(), entries.end());
    for (const auto& p : entries) {
      if (!fs::is_regular_file(p, ec)) continue;
      const std::string name = p.filename().string();
      if (p.extension() == ".json" && name.size() > 9 && name.substr(name.size() - 9) == ".npy.json") continue;
      if (p.extension() == ".json") json_files.push_back(p);
      if (p.extension() == ".csv") csv_files.push_back(p);
    }
  } else {
    json_files.push_back(from);
  }

  RunContents run;
  run.dir = dir;
  run.is_dir = is_dir;
  json& notes = run.notes;
  json& summaries = run.summaries;
  std::vector<Matrix>& matrices = run.matrices;
  std::map<std::string, std::string> scores_mode;  // canonical path -> "first-order"/"exact"
  std::set<std::string> matrix_files;               // relatedness CSVs whose matrix a summary holds
  json& selection = run.selection;

  auto add_csv = [&](const json& j, const char* field) {
    if (!j.contains(field) || !j[field].is_string()) return;
    if (auto p = resolve(j[field].get<std::string>(), dir)) csv_files.push_back(*p);
  };
  for (const auto& path : json_files) {
    json j;
    try {
      j = read_json_file(path.string());
    } catch (const std::exception& e) {
      if (!is_dir) throw DataError(fmt::format("{}: not a JSON summary: {}", path.string(), e.what()));
      notes.push_back(fmt::format("{}: skipped, not valid JSON", path.filename().string()));
      continue;
    }
    if (!j.is_object() || !j.contains("command") || !j["command"].is_string()) {
      if (!is_dir) throw DataError(fmt::format("{}: not an mtif summary (no \"command\" field)", path.string()));
      notes.push_back(fmt::format("{}: skipped, not an mtif summary", path.filename().string()));
      continue;
    }
    const std::string command = j["command"], file = path.filename().string();
    json s = {{"file", file}, {"command", command}};
    for (const char* k : {"data", "seed", "settings", "timings", "warnings"})
      if (j.contains(k)) s[k] = j[k];
    if (!s.contains("seed") && j.contains("settings") && j["settings"].is_object() && j["settings"].contains("seed"))
      s["seed"] = j["settings"]["seed"];
    summaries.push_back(s);

    if (command == "demo" && j.contains("relatedness") && j.contains("tasks")) {
      for (const char* method : {"mtif", "newton", "retrain"})
        if (j["relatedness"].contains(method))
          matrices.push_back(matrix_from_json(j["relatedness"][method], j["tasks"], j["tasks"], method, file));
      // The demo writes its data, scores and refits under fixed names beside the summary.
      for (const char* name : {"scores.csv", "loo.csv", "train.csv", "test.csv"})
        if (fs::is_regular_file(dir / name, ec)) csv_files.push_back(dir / name);
      if (fs::is_regular_file(dir / "scores.csv", ec)) scores_mode[canonical_key(dir / "scores.csv")] = "first-order";
      matrix_files.insert(canonical_key(dir / "relatedness.csv"));
    } else if (command == "relatedness" && j.contains("matrix")) {
      std::string method = j.value("/settings/method"_json_pointer, std::string("relatedness"));
      matrices.push_back(matrix_from_json(j["matrix"], j.at("sources"), j.at("targets"), method, file));
      if (j.contains("output") && j["output"].is_string())
        if (auto p = resolve(j["output"], dir)) matrix_files.insert(canonical_key(*p));
    } else if (command == "influence") {
      add_csv(j, "scores");
      if (j.contains("scores") && j["scores"].is_string())
        if (auto p = resolve(j["scores"], dir))
          scores_mode[canonical_key(*p)] = j.value("/settings/mode"_json_pointer, std::string("first-order"));
    } else if (command == "loo") {
      add_csv(j, "output");
    } else if (command == "group") {
      run.groups.push_back(report_groups_entry(j, file));
    } else if (command == "select") {
      selection = j;
      selection["file"] = file;
      if (!selection.contains("methods") || !selection["methods"].is_array()) {
        notes.push_back(file + ": selection summary without a \"methods\" list (see report/README.md)");
        selection = nullptr;
      }
    }
    if (!is_dir && j.contains("settings") && j["settings"].is_object())
      for (const char* k : {"train", "test"}) add_csv(j["settings"], k);
  }

  // CSVs, each once, by what their header says they are.
  std::set<std::string> seen;
  std::vector<fs::path> score_paths;
  std::vector<LooFile>& loos = run.loos;
  json& data_files = run.data_files;
  for (const auto& p : csv_files) {
    if (!seen.insert(canonical_key(p)).second) continue;
    Header h = read_header(p);
    switch (classify(h)) {
      case CsvKind::Scores: score_paths.push_back(p); break;
      case CsvKind::Loo: loos.push_back(read_loo(p)); break;
      case CsvKind::Relatedness: {
        if (matrix_files.count(canonical_key(p))) break;
        Matrix m = matrix_from_csv(p);
        bool dup = std::any_of(matrices.begin(), matrices.end(), [&](const Matrix& x) { return same_matrix(x, m); });
        if (!dup) matrices.push_back(m);
        break;
      }
      case CsvKind::Data: {
        CsvRecords csv(p);
        std::vector<std::string> f;
        long rows = -1;
        while (csv.next(f)) ++rows;
        data_files.push_back({{"file", p.filename().string()}, {"rows", rows}, {"columns", h.names}});
        break;
      }
      case CsvKind::Other: notes.push_back(p.filename().string() + ": skipped, not an mtif file"); break;
    }
  }

  // Matrices: MTIF, Newton, retrain first, in that order.
  auto rank = [](const Matrix& m) {
    return m.method == "mtif" ? 0 : m.method == "newton" ? 1 : m.method == "retrain" ? 2 : 3;
  };
  std::stable_sort(matrices.begin(), matrices.end(), [&](const Matrix& a, const Matrix& b) { return rank(a) < rank(b); });

  // Score files, each read once, after the LOO files whose pairs they predict.
  for (const auto& p : score_paths) {
    ScoresFile s = read_scores(p, top, loos);
    auto mode = scores_mode.find(canonical_key(p));
    s.mode = mode != scores_mode.end() ? mode->second : s.file;
    run.scores.push_back(std::move(s));
  }
  return run;
}

}  // namespace mtif::cli::report
