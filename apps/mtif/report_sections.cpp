#include "report_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mtif/csv_reader.hpp"
#include "mtif/npy.hpp"
#include "mtif/score_files.hpp"
#include "mtif/output.hpp"
#include "mtif/validation.hpp"

namespace mtif::cli::report {

namespace {

namespace fs = std::filesystem;

json matrix_json(const Matrix& m) {
  return {{"method", m.method}, {"label", m.label},     {"file", m.file},
          {"sources", m.sources}, {"targets", m.targets}, {"matrix", matrix_to_json(m.values)}};
}

struct Agree {
  Index count = 0;
  double pearson = std::nan(""), spearman = std::nan("");
};
Agree agree(const std::vector<double>& x, const std::vector<double>& y) {
  Agree a;
  a.count = Index(x.size());
  if (x.size() >= 2) {
    Eigen::Map<const VectorXd> vx(x.data(), Index(x.size())), vy(y.data(), Index(y.size()));
    a.pearson = pearson(vx, vy);
    a.spearman = spearman(vx, vy);
  }
  return a;
}
json agree_json(const Agree& a) {
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"count", a.count}, {"pearson", num(a.pearson)}, {"spearman", num(a.spearman)}};
}

// LOTO: a predicted task matrix against the retrained one, same tasks.
json loto_json(const Matrix& predicted, const Matrix& truth) {
  json points = json::array();
  std::vector<double> x, y;
  for (size_t l = 0; l < truth.sources.size(); ++l)
    for (size_t t = 0; t < truth.targets.size(); ++t) {
      double a = truth.values(l, t), p = predicted.values(l, t);
      if (!std::isfinite(a) || !std::isfinite(p)) continue;
      x.push_back(a);
      y.push_back(p);
      points.push_back({a, p, truth.sources[l] == truth.targets[t] ? 1 : 0, l, t});
    }
  Agree g = agree(x, y);
  json j = agree_json(g);
  const std::string m = predicted.method;
  j.update({{"label", predicted.label},
            {"short", m == "mtif" ? "MTIF" : m == "newton" ? "Newton" : predicted.file},
            {"file", predicted.file},
            {"truth_file", truth.file},
            {"sources", truth.sources},
            {"targets", truth.targets},
            {"points", points}});
  return j;
}

json loo_json(const ScoresFile& s, const LooFile& loo, const std::map<std::pair<long, std::string>, double>& predicted,
              const std::string& mode) {
  json points = json::array();
  std::vector<double> ax, ay, wx, wy, bx, by;
  for (const auto& [key, pred] : predicted) {
    const auto& [row, target] = key;
    double actual = loo.actual.at(key);
    const std::string& row_task = loo.row_task.at(row);
    // Within-task: the row belongs to the target's task (row targets: "task (test row i)").
    bool within = target == row_task || target.rfind(row_task + " (test row ", 0) == 0;
    points.push_back({actual, pred, within ? 1 : 0, row, row_task, target});
    ax.push_back(actual);
    ay.push_back(pred);
    (within ? wx : bx).push_back(actual);
    (within ? wy : by).push_back(pred);
  }
  return {{"scores_file", s.file}, {"loo_file", loo.file},        {"mode", mode},
          {"all", agree_json(agree(ax, ay))}, {"within_task", agree_json(agree(wx, wy))},
          {"between_task", agree_json(agree(bx, by))}, {"points", points}};
}

// Summaries of every subcommand and the data files they read.
bool run_section(const RunContents& run, int, json& page) {
  page["summaries"] = run.summaries;
  page["data_files"] = run.data_files;
  return !run.summaries.empty() || !run.data_files.empty();
}

bool relatedness_section(const RunContents& run, int, json& page) {
  json rel = json::array();
  for (const auto& m : run.matrices) rel.push_back(matrix_json(m));
  page["relatedness"] = rel;
  return !rel.empty();
}

// Predicted against actual: task matrices against the retrained one (LOTO),
// row scores against leave-one-out refits (LOO pairs from every score file).
bool validation_section(const RunContents& run, int, json& page) {
  const std::vector<Matrix>& matrices = run.matrices;
  json loto = json::array(), loo = json::array();
  auto truth = std::find_if(matrices.begin(), matrices.end(), [](const Matrix& m) { return m.method == "retrain"; });
  if (truth != matrices.end())
    for (const auto& m : matrices)
      if (&m != &*truth && m.sources == truth->sources && m.targets == truth->targets) loto.push_back(loto_json(m, *truth));
  for (const auto& s : run.scores)
    for (size_t i = 0; i < run.loos.size(); ++i)
      if (!s.predicted[i].empty()) loo.push_back(loo_json(s, run.loos[i], s.predicted[i], s.mode));
  for (const auto& l : run.loos) {
    bool used = std::any_of(loo.begin(), loo.end(), [&](const json& x) { return x["loo_file"] == l.file; });
    if (!used) page["notes"].push_back(l.file + ": leave-one-out refits without a score file for the same rows and targets");
  }
  page["loto"] = loto;
  page["loo"] = loo;
  return !loo.empty() || !loto.empty();
}

// The most helpful and most harmful rows per task, from the first score file
// with task targets, with their thumbnails when the run has images.
bool top_rows_section(const RunContents& run, int top_count, json& page) {
  json top = nullptr;
  for (const auto& s : run.scores)
    if (top.is_null() && !s.row_targets) {
      top = {{"file", s.file}, {"count", top_count}, {"targets", json::array()}};
      for (const auto& t : s.target_order)
        top["targets"].push_back({{"target", t}, {"helps", s.helps.at(t)}, {"hurts", s.hurts.at(t)}});
    }
  std::error_code ec;
  const fs::path& dir = run.dir;
  // Thumbnails: images.npy (float64, one row of h*w pixels in [0,1] per
  // training row, file order) and optionally images.npy.json {"height", "width"}.
  json images = nullptr;
  if (run.is_dir && fs::is_regular_file(dir / "images.npy", ec) && !top.is_null()) {
    MatrixXd pixels = read_npy((dir / "images.npy").string());
    long h = 0, w = 0;
    if (fs::is_regular_file(dir / "images.npy.json", ec)) {
      json shape = read_json_file((dir / "images.npy.json").string());
      h = shape.value("height", 0L);
      w = shape.value("width", 0L);
    } else {
      h = w = std::lround(std::sqrt(double(pixels.cols())));
    }
    if (h <= 0 || w <= 0 || h * w != pixels.cols())
      throw DataError(fmt::format("{}: rows of {} pixels are not {} x {} images", (dir / "images.npy").string(),
                                  pixels.cols(), h, w));
    images = {{"file", "images.npy"}, {"height", h}, {"width", w}, {"rows", json::object()}};
    for (const auto& t : top["targets"])
      for (const char* list : {"helps", "hurts"})
        for (const auto& r : t[list]) {
          long row = r[0];
          if (row < 0 || row >= pixels.rows())
            throw DataError(fmt::format("{}: no image for train row {} ({} images)", (dir / "images.npy").string(), row,
                                        pixels.rows()));
          std::vector<int> px(pixels.cols());
          for (Index k = 0; k < pixels.cols(); ++k)
            px[k] = int(std::lround(255 * std::clamp(pixels(row, k), 0.0, 1.0)));
          images["rows"][std::to_string(row)] = px;
        }
  }

  page["top_rows"] = top;
  page["images"] = images;
  return !top.is_null();
}

bool selection_section(const RunContents& run, int, json& page) {
  page["selection"] = run.selection;
  return !run.selection.is_null();
}

// Task groups chosen by mtif group, per budget, with their baselines.
bool groups_section(const RunContents& run, int, json& page) {
  page["groups"] = run.groups;
  return !run.groups.empty();
}

}  // namespace

const std::vector<ReportSection>& report_sections() {
  static const std::vector<ReportSection> sections{{"run", &run_section},
                                                   {"relatedness", &relatedness_section},
                                                   {"validation", &validation_section},
                                                   {"top_rows", &top_rows_section},
                                                   {"selection", &selection_section},
                                                   {"groups", &groups_section}};
  return sections;
}

json build_page(const std::string& from, const RunContents& run, int top, int& sections_found) {
  json page = {{"from", from}, {"generated_by", "mtif 0.1.0 report"}, {"notes", run.notes}};
  sections_found = 0;
  for (const ReportSection& section : report_sections()) sections_found += section.build(run, top, page) ? 1 : 0;
  return page;
}

}  // namespace mtif::cli::report
