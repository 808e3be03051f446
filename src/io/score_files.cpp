#include "mtif/score_files.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <stdexcept>

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

// Shortest text that reads back as the same double (std::to_chars, like
// fmt's "{}"), appended without a format string to parse per value.
template <class Number>
void append_number(std::string& out, Number v) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, v).ptr;
  out.append(text, end);
}

// The lines of train rows [first, last): every target of each row.
void format_influence_rows(std::string& out, const InfluenceScores& scores, Index first, Index last,
                           const std::vector<std::string>& quoted_tasks, const std::vector<std::string>& quoted_targets) {
  out.clear();
  std::string row_prefix;  // "train_row,train_task," is the same on every target's line
  for (Index r = first; r < last; ++r) {
    row_prefix.clear();
    append_number(row_prefix, r);
    row_prefix += ',';
    row_prefix += quoted_tasks[scores.train_task[r]];
    row_prefix += ',';
    for (size_t t = 0; t < quoted_targets.size(); ++t) {
      out += row_prefix;
      out += quoted_targets[t];
      out += ',';
      append_number(out, scores.total(r, t));
      out += ',';
      append_number(out, scores.task_part(r, t));
      out += ',';
      append_number(out, scores.shared_part(r, t));
      out += '\n';
    }
  }
}

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
  AtomicFile file(path);
  const std::string header = fmt::format(
      "train_row,train_task,target_task{},loss_change_if_removed,task_part,shared_part\n", targets.rows() ? ",target_row" : "");
  file.write(header.data(), header.size());
  const Index rows = scores.total.rows();
  const Index chunk_rows = std::max<Index>(1, (Index{1} << 15) / std::max(1, targets.size()));  // ~2 MB of text
  const Index chunks = (rows + chunk_rows - 1) / chunk_rows;
  std::string error;  // an exception may not leave an OpenMP region: the first one is rethrown after it
#pragma omp parallel
  {
    std::string text;
#pragma omp for ordered schedule(static, 1)
    for (Index c = 0; c < chunks; ++c) {
      format_influence_rows(text, scores, c * chunk_rows, std::min(rows, (c + 1) * chunk_rows), quoted_tasks,
                            quoted_targets);
#pragma omp ordered
      if (error.empty()) {
        try {
          file.write(text.data(), text.size());
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
