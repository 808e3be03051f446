#include "mtif/score_files.hpp"

#include <iterator>

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
  AtomicFile file(path);
  fmt::memory_buffer buf;
  fmt::format_to(std::back_inserter(buf), "train_row,train_task,target_task{},loss_change_if_removed,task_part,shared_part\n",
                 targets.rows() ? ",target_row" : "");
  for (Index r = 0; r < scores.total.rows(); ++r) {
    for (int t = 0; t < targets.size(); ++t) {
      fmt::format_to(std::back_inserter(buf), "{},{},", r, csv_quote(task_names[scores.train_task[r]]));
      append_target(buf, targets, t, task_names);
      fmt::format_to(std::back_inserter(buf), ",{},{},{}\n", scores.total(r, t), scores.task_part(r, t),
                     scores.shared_part(r, t));
    }
    if (buf.size() > (1 << 20)) file.write(buf);
  }
  file.write(buf);
  file.commit();
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
  fmt::format_to(std::back_inserter(buf), "subset,target_task,predicted_loss_change,actual_loss_change\n");
  for (Index s = 0; s < lds.actual.rows(); ++s)
    for (int t = 0; t < targets.size(); ++t)
      fmt::format_to(std::back_inserter(buf), "{},{},{},{}\n", s, csv_quote(target_task_name(targets, t, task_names)),
                     lds.predicted(s, t), lds.actual(s, t));
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
