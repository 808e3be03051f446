#include "mtif/score_files.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <stdexcept>

#include "mtif/number_text.hpp"
#include "mtif/output.hpp"

namespace mtif {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void append_target(fmt::memory_buffer& buf, const Targets& targets, int t, const std::vector<std::string>& names) {
  fmt::format_to(std::back_inserter(buf), "{}", csv_quote(names[targets.task[t]]));
  if (targets.rows()) fmt::format_to(std::back_inserter(buf), ",{}", targets.test_row[t]);
}

// Room for the text of one number: at most 24 characters for a double and 20
// for a 64-bit integer.
constexpr std::size_t kNumberRoom = kShortestDoubleRoom;

char* put_text(char* out, const std::string& text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

char* put_number(char* out, Index v) { return std::to_chars(out, out + kNumberRoom, v).ptr; }

// Shortest text that reads back as the same double (the text of std::to_chars
// and of fmt's "{}"), twice as fast as std::to_chars.
char* put_number(char* out, double v) { return write_shortest(out, v); }

std::size_t longest(const std::vector<std::string>& texts) {
  std::size_t n = 0;
  for (const auto& t : texts) n = std::max(n, t.size());
  return n;
}

// The CSV lines of train rows [first, last), every target of each row, into a
// buffer sized for the longest possible lines (no capacity check per append:
// formatting is the cost of a large CSV). Returns the number of chars written.
class InfluenceLines {
 public:
  InfluenceLines(const InfluenceScores& scores, const std::vector<std::string>& quoted_tasks,
                 const std::vector<std::string>& quoted_targets)
      : scores_(scores),
        quoted_tasks_(quoted_tasks),
        quoted_targets_(quoted_targets),
        longest_line_(kNumberRoom + longest(quoted_tasks) + longest(quoted_targets) + 3 * kNumberRoom + 6) {}

  std::size_t room(Index rows) const { return std::size_t(rows) * quoted_targets_.size() * longest_line_; }

  std::size_t format(char* text, Index first, Index last) const {
    char* out = text;
    for (Index r = first; r < last; ++r) {
      // "train_row,train_task," is the same on every target's line: formatted once, copied.
      char prefix[kNumberRoom + 2];
      char* prefix_end = put_number(prefix, r);
      *prefix_end++ = ',';
      const std::string& task = quoted_tasks_[scores_.train_task[r]];
      const double* total = &scores_.total(r, 0);
      const double* task_part = &scores_.task_part(r, 0);
      const double* shared_part = &scores_.shared_part(r, 0);
      for (std::size_t t = 0; t < quoted_targets_.size(); ++t) {
        out = std::copy(prefix, prefix_end, out);
        out = put_text(out, task);
        *out++ = ',';
        out = put_text(out, quoted_targets_[t]);
        *out++ = ',';
        out = put_number(out, total[t]);
        *out++ = ',';
        out = put_number(out, task_part[t]);
        *out++ = ',';
        out = put_number(out, shared_part[t]);
        *out++ = '\n';
      }
    }
    return std::size_t(out - text);
  }

 private:
  const InfluenceScores& scores_;
  const std::vector<std::string>& quoted_tasks_;
  const std::vector<std::string>& quoted_targets_;
  std::size_t longest_line_;
};

// Formatting the 10^7 lines of a large run took 6x the time of writing them as
// .npy, so chunks of rows are formatted on all threads and written in order
// (the ordered section): one thread writes while the others format.
void write_influence_csv(const std::string& path, const InfluenceScores& scores, const Targets& targets,
                         const std::vector<std::string>& task_names) {
  std::vector<std::string> quoted_tasks, quoted_targets;
  for (const auto& name : task_names) quoted_tasks.push_back(csv_quote(name));
  for (int t = 0; t < targets.size(); ++t)
    quoted_targets.push_back(targets.rows() ? fmt::format("{},{}", quoted_tasks[targets.task[t]], targets.test_row[t])
                                            : quoted_tasks[targets.task[t]]);
  if (scores.task_part.rows() != scores.total.rows() || scores.shared_part.rows() != scores.total.rows())
    throw std::logic_error("influence CSV: scores without their task and shared parts");
  AtomicFile file(path);
  const std::string header = fmt::format(
      "train_row,train_task,target_task{},loss_change_if_removed,task_part,shared_part\n", targets.rows() ? ",target_row" : "");
  file.write(header.data(), header.size());
  const InfluenceLines lines(scores, quoted_tasks, quoted_targets);
  const Index rows = scores.total.rows();
  const Index chunk_rows = std::max<Index>(1, (Index{1} << 15) / std::max(1, targets.size()));  // ~2 MB of text
  const Index chunks = (rows + chunk_rows - 1) / chunk_rows;
  std::string error;  // an exception may not leave an OpenMP region: the first one is rethrown after it
#pragma omp parallel
  {
    std::vector<char> text(lines.room(chunk_rows));  // sized once per thread, never zero-filled again
#pragma omp for ordered schedule(static, 1)
    for (Index c = 0; c < chunks; ++c) {
      const std::size_t size = lines.format(text.data(), c * chunk_rows, std::min(rows, (c + 1) * chunk_rows));
#pragma omp ordered
      if (error.empty()) {
        try {
          file.write(text.data(), size);
        } catch (const std::exception& e) {
          error = e.what();
        }
      }
    }
  }
  if (!error.empty()) throw std::runtime_error(error);
  file.commit();
}

}  // namespace

std::string target_task_name(const Targets& targets, int t, const std::vector<std::string>& task_names) {
  if (!targets.rows()) return task_names[targets.task[t]];
  return fmt::format("{}#{}", task_names[targets.task[t]], targets.test_row[t]);
}

void write_influence(const std::string& path, const InfluenceScores& scores, const Targets& targets,
                     const std::vector<std::string>& task_names, const nlohmann::json& settings) {
  if (ends_with(path, ".npy")) {
    nlohmann::json sidecar = settings;
    sidecar["matrix"] = "loss_change_if_removed";
    sidecar["rows"] = "train rows in file order (train_row 0..n-1)";
    std::vector<std::string> row_task;
    for (int k : scores.train_task) row_task.push_back(task_names[k]);
    sidecar["train_task"] = row_task;
    std::vector<std::string> cols;
    for (int t = 0; t < targets.size(); ++t) cols.push_back(target_task_name(targets, t, task_names));
    sidecar["columns"] = cols;
    sidecar["sign"] = "positive: removing the row raises the target's loss (the row helps); negative: it hurts";
    write_npy(path, scores.total);
    write_json_file(path + ".json", sidecar);
    return;
  }
  write_influence_csv(path, scores, targets, task_names);
}

void write_loo(const std::string& path, const MatrixXd& actual, const std::vector<Index>& rows,
               const std::vector<int>& row_task, const Targets& targets, const std::vector<std::string>& task_names) {
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "train_row,train_task,target_task{},actual_loss_change\n",
                 targets.rows() ? ",target_row" : "");
  for (size_t i = 0; i < rows.size(); ++i) {
    for (int t = 0; t < targets.size(); ++t) {
      fmt::format_to(std::back_inserter(buf), "{},{},", rows[i], csv_quote(task_names[row_task[rows[i]]]));
      append_target(buf, targets, t, task_names);
      fmt::format_to(std::back_inserter(buf), ",{}\n", actual(i, t));
    }
  }
  file.write(buf);
  file.commit();
}

void write_relatedness(const std::string& path, const Relatedness& r, const Targets& targets,
                       const std::vector<std::string>& task_names) {
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "source_task,target_task{},loss_change_if_removed\n",
                 targets.rows() ? ",target_row" : "");
  for (Index l = 0; l < r.matrix.rows(); ++l)
    for (int t = 0; t < targets.size(); ++t) {
      fmt::format_to(std::back_inserter(buf), "{},", csv_quote(task_names[l]));
      append_target(buf, targets, t, task_names);
      fmt::format_to(std::back_inserter(buf), ",{}\n", r.matrix(l, t));
    }
  file.write(buf);
  file.commit();
}

void write_lds(const std::string& path, const LdsResult& lds, const Targets& targets,
               const std::vector<std::string>& task_names) {
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "subset,target_task{},predicted_loss_change,actual_loss_change\n",
                 targets.rows() ? ",target_row" : "");
  for (Index s = 0; s < lds.actual.rows(); ++s)
    for (int t = 0; t < targets.size(); ++t) {
      fmt::format_to(std::back_inserter(buf), "{},", s);
      append_target(buf, targets, t, task_names);
      fmt::format_to(std::back_inserter(buf), ",{},{}\n", lds.predicted(s, t), lds.actual(s, t));
    }
  file.write(buf);
  file.commit();
}

nlohmann::json lds_to_json(const LdsResult& lds, const Targets& targets, const std::vector<std::string>& task_names) {
  nlohmann::json per_target = nlohmann::json::object();
  for (int t = 0; t < targets.size(); ++t) {
    const double v = lds.per_target(t);
    per_target[target_task_name(targets, t, task_names)] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  }
  return {{"mean", std::isfinite(lds.mean) ? nlohmann::json(lds.mean) : nlohmann::json(nullptr)},
          {"per_target", per_target},
          {"subsets", lds.actual.rows()}};
}

nlohmann::json matrix_to_json(const MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Index i = 0; i < m.rows(); ++i) {
    std::vector<double> row(m.cols());
    for (Index j = 0; j < m.cols(); ++j) row[j] = m(i, j);
    rows.push_back(row);
  }
  return rows;
}

namespace {
nlohmann::json one(const Agreement& a) {
  auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"count", a.count},
          {"pearson", num(a.pearson)},
          {"spearman", num(a.spearman)},
          {"max_abs_error", num(a.max_abs_error)},
          {"max_rel_error", num(a.max_rel_error)}};
}
}  // namespace

nlohmann::json agreement_to_json(const AgreementSplit& a) {
  return {{"all", one(a.all)}, {"within_task", one(a.within_task)}, {"between_task", one(a.between_task)}};
}

}  // namespace mtif
