// mtif._core: the Python extension over mtif_core (pybind11).
//
// Thin on purpose: every number comes from the same library calls as the CLI
// (read_train_test, fit_linear, BlockSchurSolver, linear_influence, ...), so
// the Python API and `mtif influence` agree bit for bit. The scikit-learn
// flavoured classes live in python/mtif/__init__.py on top of this module.
//
// Large results (the n x T score matrices) are handed to NumPy without a copy:
// the row-major ScoreMatrix moves onto the heap and a capsule frees it when the
// array dies. Heavy calls release the GIL. Library exceptions become Python
// exceptions with the same one-line message (DataError -> mtif.DataError, a
// ValueError; std::invalid_argument -> ValueError; others -> RuntimeError).
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <memory>

#include "mtif/block_schur_solver.hpp"
#include "mtif/csv_reader.hpp"
#include "mtif/row_indices.hpp"
#include "mtif/linear_curvature.hpp"
#include "mtif/linear_influence.hpp"
#include "mtif/linear_model.hpp"
#include "mtif/progress.hpp"
#include "mtif/score_files.hpp"
#include "mtif/surrogate.hpp"
#include "mtif/task_grouping.hpp"
#include "mtif/validation.hpp"

namespace py = pybind11;
using namespace mtif;

namespace {

using DatasetPtr = std::shared_ptr<Dataset>;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Zero-copy hand-over of a row-major matrix to NumPy.
py::array_t<double> to_numpy(ScoreMatrix&& m) {
  auto* owner = new ScoreMatrix(std::move(m));
  py::capsule free_when_done(owner, [](void* p) { delete static_cast<ScoreMatrix*>(p); });
  const auto rows = static_cast<py::ssize_t>(owner->rows()), cols = static_cast<py::ssize_t>(owner->cols());
  return py::array_t<double>({rows, cols}, {cols * static_cast<py::ssize_t>(sizeof(double)), py::ssize_t(sizeof(double))},
                             owner->data(), free_when_done);
}

// Rows of a data set back in file order (Dataset stores them grouped by task).
MatrixXd features_in_file_order(const Dataset& d) {
  MatrixXd out(d.num_rows(), d.num_features());
  for (Index i = 0; i < d.num_rows(); ++i) out.row(d.file_row[i]) = d.X.row(i);
  return out;
}
VectorXd target_in_file_order(const Dataset& d) {
  VectorXd out(d.num_rows());
  for (Index i = 0; i < d.num_rows(); ++i) out(d.file_row[i]) = d.y(i);
  return out;
}
std::vector<int> task_in_file_order(const Dataset& d) {
  std::vector<int> out(d.num_rows());
  for (int k = 0; k < d.num_tasks(); ++k)
    for (Index i = d.task_begin[k]; i < d.task_begin[k + 1]; ++i) out[d.file_row[i]] = k;
  return out;
}

// Dataset from NumPy arrays. Task ids are 0..K-1 (the Python layer maps labels
// to ids); every value is checked like the readers check theirs.
DatasetPtr dataset_from_arrays(py::array_t<double, py::array::c_style | py::array::forcecast> X,
                               py::array_t<double, py::array::c_style | py::array::forcecast> y,
                               py::array_t<long long, py::array::c_style | py::array::forcecast> task,
                               std::vector<std::string> task_names, std::vector<std::string> feature_names,
                               std::string source) {
  if (X.ndim() != 2) throw DataError(fmt::format("{}: X must be 2-D (rows x features), got {} dimensions", source, X.ndim()));
  const Index n = X.shape(0), d = X.shape(1);
  if (y.size() != n || task.size() != n)
    throw DataError(fmt::format("{}: X has {} rows but y has {} and task has {}", source, n, y.size(), task.size()));
  if (feature_names.empty())
    for (Index j = 0; j < d; ++j) feature_names.push_back(fmt::format("x{}", j + 1));
  if (static_cast<Index>(feature_names.size()) != d)
    throw DataError(fmt::format("{}: {} feature names for {} columns", source, feature_names.size(), d));
  RawRows raw;
  raw.feature_names = std::move(feature_names);
  raw.task_names = std::move(task_names);
  raw.values.assign(X.data(), X.data() + n * d);
  raw.y.assign(y.data(), y.data() + n);
  auto t = task.unchecked<1>();
  for (Index i = 0; i < n; ++i) {
    if (t(i) < 0 || t(i) >= static_cast<long long>(raw.task_names.size()))
      throw DataError(fmt::format("{}: row {}: task id {} is outside 0..{}", source, i, t(i), raw.task_names.size() - 1));
    raw.task.push_back(static_cast<int>(t(i)));
    if (!std::isfinite(raw.y[i])) throw DataError(fmt::format("{}: row {}: y is {}", source, i, raw.y[i]));
    for (Index j = 0; j < d; ++j)
      if (!std::isfinite(raw.values[i * d + j]))
        throw DataError(fmt::format("{}: row {}: feature '{}' is {}", source, i, raw.feature_names[j], raw.values[i * d + j]));
  }
  return std::make_shared<Dataset>(make_dataset(raw, source));
}

CsvOptions csv_options(const std::string& target, const std::string& task_column, const std::vector<std::string>& features) {
  CsvOptions o;
  o.target_column = target;
  o.task_column = task_column;
  o.features = features;
  return o;
}

// A fitted linear multitask model with its factored block Hessian. It keeps a
// reference to the training data (shared, not copied) for scoring and refits.
class LinearEngine {
 public:
  LinearEngine(const std::string& loss, double lambda_task, double lambda_shared, bool intercept) {
    if (loss != "squared" && loss != "logistic")
      throw std::invalid_argument(fmt::format("loss '{}': the linear model takes 'squared' or 'logistic'", loss));
    if (!(lambda_task > 0) || !(lambda_shared > 0))
      throw std::invalid_argument("lambda_task and lambda_shared must be positive");
    config_.loss = parse_loss(loss);
    config_.lambda_task = lambda_task;
    config_.lambda_shared = lambda_shared;
    config_.intercept = intercept;
  }

  void fit(const DatasetPtr& train) {
    py::gil_scoped_release release;
    auto start = std::chrono::steady_clock::now();
    // The CLI adds the intercept column to its own copy of the data; so do we.
    train_ = config_.intercept ? with_intercept(*train) : train;
    check_targets(*train_);
    model_ = fit_linear(*train_, config_);
    timings_["fit_s"] = seconds_since(start);
    start = std::chrono::steady_clock::now();
    solver_ = std::make_unique<BlockSchurSolver>(linear_block_hessian(model_, *train_), train_->task_names);
    timings_["factor_s"] = seconds_since(start);
  }

  py::dict influence(const DatasetPtr& test_in, const std::string& kind, const std::string& mode_name, bool parts) {
    InfluenceScores scores;
    Targets targets;
    {
      py::gil_scoped_release release;
      DatasetPtr test = prepared(test_in);
      const ScoreMode mode = parse_score_mode(mode_name);
      auto start = std::chrono::steady_clock::now();
      targets = make_targets(*test, kind);
      scores = linear_influence(model_, *train_, *solver_, targets, mode, parts);
      timings_["score_s"] = seconds_since(start);
    }
    py::dict out;
    out["total"] = to_numpy(std::move(scores.total));
    out["task_part"] = parts ? py::object(to_numpy(std::move(scores.task_part))) : py::none();
    out["shared_part"] = parts ? py::object(to_numpy(std::move(scores.shared_part))) : py::none();
    out["train_task"] = py::array_t<int>(scores.train_task.size(), scores.train_task.data());
    add_target_names(out, targets);
    if (scores.leverage.size()) out["leverage"] = scores.leverage;
    return out;
  }

  py::dict loo(const DatasetPtr& test_in, const std::vector<Index>& rows, const std::string& kind) {
    MatrixXd actual;
    Targets targets;
    {
      py::gil_scoped_release release;
      check_row_indices(rows, train_->num_rows());
      DatasetPtr test = prepared(test_in);
      auto start = std::chrono::steady_clock::now();
      targets = make_targets(*test, kind);
      actual = leave_one_out(model_, *train_, *test, targets, rows);
      timings_["refits_s"] = seconds_since(start);
    }
    py::dict out;
    out["actual"] = actual;
    out["rows"] = rows;
    add_target_names(out, targets);
    return out;
  }

  py::dict relatedness(const DatasetPtr& test_in, const std::string& method) {
    Relatedness r;
    Targets targets;
    {
      py::gil_scoped_release release;
      DatasetPtr test = prepared(test_in);
      targets = task_targets(model_, *test);
      if (method == "mtif") r = relatedness_by_mtif(model_, *train_, *test, targets);
      else if (method == "newton") r = relatedness_by_newton(model_, *train_, *test, targets);
      else if (method == "retrain") r = relatedness_by_retraining(model_, *train_, *test, targets);
      else throw std::invalid_argument(fmt::format("method '{}': use 'mtif', 'newton' or 'retrain'", method));
      timings_["relatedness_s"] = r.seconds;
    }
    py::dict out;
    out["matrix"] = r.matrix;
    out["method"] = r.method;
    out["sources"] = train_->task_names;
    add_target_names(out, targets);
    return out;
  }

  // Surrogate-model task affinity, as `mtif relatedness --method surrogate` (issue 14).
  py::dict surrogate(const DatasetPtr& test_in, int subsets, double keep, const std::string& losses,
                     int projection_dim, double ridge, int validate_subsets, std::uint64_t seed) {
    SurrogateResult r;
    Targets targets;
    {
      py::gil_scoped_release release;
      DatasetPtr test = prepared(test_in);
      targets = task_targets(model_, *test);
      const SubsetLossMethod method = parse_subset_loss_method(losses);
      const GradientEstimateConfig gradient{projection_dim, seed};
      SubsetLossFunction loss_of = [&](const TaskSubsets& k) {
        return linear_subset_losses(model_, *train_, *test, targets, k, method, gradient);
      };
      r = relatedness_by_surrogate(train_->num_tasks(), loss_of,
                                   SurrogateConfig{subsets, keep, ridge, validate_subsets, seed},
                                   losses == "gradient" ? "gradient-estimate" : "surrogate");
      timings_["relatedness_s"] = r.relatedness.seconds;
    }
    py::dict out;
    out["matrix"] = r.relatedness.matrix;
    out["method"] = r.relatedness.method;
    out["sources"] = train_->task_names;
    add_target_names(out, targets);
    out["intercept"] = r.surrogate.intercept;
    out["subsets"] = r.subsets;
    out["losses"] = r.losses;
    out["held_out"] = r.held_out;
    out["held_out_losses"] = r.held_out_losses;
    out["held_out_r2"] = r.held_out_r2;
    out["fitted_r2"] = r.fitted_r2;
    return out;
  }

  // Target losses after training on each subset (keep[s][l]: task l kept).
  MatrixXd subset_losses(const DatasetPtr& test_in, const TaskSubsets& keep, const std::string& losses,
                         int projection_dim, std::uint64_t seed) {
    py::gil_scoped_release release;
    DatasetPtr test = prepared(test_in);
    Targets targets = task_targets(model_, *test);
    return linear_subset_losses(model_, *train_, *test, targets, keep, parse_subset_loss_method(losses),
                                GradientEstimateConfig{projection_dim, seed});
  }

  // Same protocol as `mtif lds`: first-order scores of every row, Newton refits
  // warm-started from the full fit with the removed rows at weight 0.
  py::dict lds(const DatasetPtr& test_in, int subsets, double keep, std::uint64_t seed, const std::string& kind) {
    LdsResult result;
    Targets targets;
    {
      py::gil_scoped_release release;
      if (subsets < 3) throw std::invalid_argument("lds needs at least 3 subsets");
      if (!(keep > 0 && keep < 1)) throw std::invalid_argument("keep must lie strictly between 0 and 1");
      DatasetPtr test = prepared(test_in);
      auto start = std::chrono::steady_clock::now();
      targets = make_targets(*test, kind);
      InfluenceScores scores = linear_influence(model_, *train_, *solver_, targets, ScoreMode::FirstOrder, false);
      const Dataset& train = *train_;
      RefitLosses refit = [&](const VectorXd& w) {
        return target_losses(fit_linear(train, model_.config, &w, &model_), *test, targets);
      };
      result = linear_datamodeling_score(scores.total, train, target_losses(model_, *test, targets), refit, keep,
                                         subsets, seed);
      timings_["lds_s"] = seconds_since(start);
    }
    py::dict out;
    out["per_target"] = result.per_target;
    out["mean"] = result.mean;
    out["predicted"] = result.predicted;
    out["actual"] = result.actual;
    add_target_names(out, targets);
    return out;
  }

  // Predictions for the rows of `data`, in file order.
  VectorXd predict(const DatasetPtr& data_in) const {
    DatasetPtr data = prepared(data_in);
    VectorXd stored = model_.predict(*data), out(stored.size());
    for (Index i = 0; i < data->num_rows(); ++i) out(data->file_row[i]) = stored(i);
    return out;
  }

  // Mean test loss of each task (NaN for a task without test rows).
  VectorXd task_loss(const DatasetPtr& data) const { return task_mean_loss(model_, *prepared(data)); }

  bool fitted() const { return solver_ != nullptr; }
  Index train_rows() const { check_fitted(); return train_->num_rows(); }
  const LinearModel& model() const { check_fitted(); return model_; }
  std::map<std::string, double> timings() const { return timings_; }
  std::vector<std::string> warnings() const { return solver_ ? solver_->warnings() : std::vector<std::string>{}; }
  // (issue 4) `select` goes here as one more method over include/mtif/selection.hpp,
  // taking the validation set like influence() takes the test set.

 private:
  static DatasetPtr with_intercept(const Dataset& d) {
    auto copy = std::make_shared<Dataset>(d);
    add_intercept(*copy);
    return copy;
  }

  void check_fitted() const {
    if (!solver_) throw std::runtime_error("the model is not fitted: call fit(train) first");
  }

  // Checks the fit, adds the intercept column when the model has one, and
  // that the data's tasks and features are the training set's.
  DatasetPtr prepared(const DatasetPtr& data) const {
    check_fitted();
    DatasetPtr d = config_.intercept ? with_intercept(*data) : data;
    if (d->task_names != train_->task_names)
      throw DataError(fmt::format("{}: its tasks differ from the training set's (read it with like=train)", d->source));
    if (d->feature_names != train_->feature_names)
      throw DataError(fmt::format("{}: its features differ from the training set's", d->source));
    return d;
  }

  void check_targets(const Dataset& d) const {
    if (config_.loss != LossKind::Logistic) return;
    for (Index i = 0; i < d.num_rows(); ++i)
      if (d.y(i) != 0.0 && d.y(i) != 1.0)
        throw DataError(fmt::format("{}: the logistic loss needs 0/1 targets, row {} has {}", d.source, d.file_row[i], d.y(i)));
  }

  Targets make_targets(const Dataset& test, const std::string& kind) const {
    if (kind == "tasks") return task_targets(model_, test);
    if (kind == "rows") return row_targets(model_, test);
    throw std::invalid_argument(fmt::format("targets '{}': use 'tasks' or 'rows'", kind));
  }

  void add_target_names(py::dict& out, const Targets& targets) const {
    std::vector<std::string> names;
    for (int t = 0; t < targets.size(); ++t) names.push_back(train_->task_names[targets.task[t]]);
    out["target_task"] = names;
    out["target_row"] = targets.rows() ? targets.test_row : std::vector<Index>(targets.size(), -1);
  }

  LinearConfig config_;
  DatasetPtr train_;
  LinearModel model_;
  std::unique_ptr<BlockSchurSolver> solver_;
  std::map<std::string, double> timings_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "mtif C++ core (use the `mtif` package, not this module directly)";
  py::register_exception<DataError>(m, "DataError", PyExc_ValueError).attr("__doc__") =
      "Bad input data: the message is one line naming the file, line and column (a ValueError).";

  py::class_<Dataset, DatasetPtr>(m, "Dataset", "Multitask rows in C++ (mtif.Dataset wraps it).")
      .def_static("from_arrays", &dataset_from_arrays, py::arg("X"), py::arg("y"), py::arg("task"),
                  py::arg("task_names"), py::arg("feature_names"), py::arg("source"),
                  "Rows from NumPy: X (rows x features), y, task ids into task_names; source names them in errors.")
      .def_static(
          "read_train_test",
          [](const std::string& train, const std::string& test, const std::string& target,
             const std::string& task_column, const std::vector<std::string>& features) {
            TrainTest tt;
            {
              py::gil_scoped_release release;
              tt = read_train_test(train, test, csv_options(target, task_column, features));
            }
            return std::pair{std::make_shared<Dataset>(std::move(tt.train)), std::make_shared<Dataset>(std::move(tt.test))};
          },
          py::arg("train"), py::arg("test"), py::arg("target"), py::arg("task_column"), py::arg("features"),
          "(train, test) from two CSV files (test may be \"\": a split column in train), as `mtif` reads them.")
      .def_static("read_one",
                  [](const std::string& path, const std::string& target, const std::string& task_column,
                     const std::vector<std::string>& features) {
                    py::gil_scoped_release release;
                    std::ifstream in(path, std::ios::binary);
                    if (!in) throw DataError(path + ": cannot open the file");
                    std::stringstream text;
                    text << in.rdbuf();
                    // Without a split column every row is a training row; with one, the train rows.
                    ParsedCsv parsed = parse_csv(text.str(), path, csv_options(target, task_column, features));
                    return std::make_shared<Dataset>(make_dataset(parsed.train, path));
                  },
                  py::arg("path"), py::arg("target"), py::arg("task_column"), py::arg("features"),
                  "One CSV file on its own (its tasks in natural order).")
      .def_static("read_like",
                  [](const std::string& path, const Dataset& like, const std::string& target,
                     const std::string& task_column, const std::vector<std::string>& features) {
                    py::gil_scoped_release release;
                    return std::make_shared<Dataset>(
                        read_with_tasks_of(path, like, csv_options(target, task_column, features)));
                  },
                  py::arg("path"), py::arg("like"), py::arg("target"), py::arg("task_column"), py::arg("features"),
                  "One CSV file with the tasks and features of `like` (a task it lacks is an error).")
      .def_property_readonly("source", [](const Dataset& d) { return d.source; }, "Where the rows came from.")
      .def_property_readonly("task_names", [](const Dataset& d) { return d.task_names; }, "Task labels, by task id.")
      .def_property_readonly("feature_names", [](const Dataset& d) { return d.feature_names; }, "Feature columns.")
      .def_property_readonly("n_rows", &Dataset::num_rows, "Number of rows.")
      .def_property_readonly("n_tasks", &Dataset::num_tasks, "Number of tasks.")
      .def_property_readonly("n_features", &Dataset::num_features, "Number of features.")
      .def_property_readonly("X", &features_in_file_order, "Features, rows x features, in file order.")
      .def_property_readonly("y", &target_in_file_order, "Targets, in file order.")
      .def_property_readonly("task", &task_in_file_order, "Task id of every row, in file order.");

  py::class_<LinearEngine>(m, "LinearEngine",
                           "The linear multitask model and its factored block Hessian (mtif.LinearMultitask wraps it).")
      .def(py::init<const std::string&, double, double, bool>(), py::arg("loss"), py::arg("lambda_task"),
           py::arg("lambda_shared"), py::arg("intercept"), "Settings as the CLI's --loss, --lambda-task, "
           "--lambda-shared, --intercept.")
      .def("fit", &LinearEngine::fit, py::arg("train"), "Fit by Newton and factor the block Hessian.")
      .def("influence", &LinearEngine::influence, py::arg("test"), py::arg("targets"), py::arg("mode"),
           py::arg("parts"), "Scores of every training row: dict of total (rows x targets), parts and names.")
      .def("loo", &LinearEngine::loo, py::arg("test"), py::arg("rows"), py::arg("targets"),
           "Exact leave-one-out refits of the given rows: dict of actual changes and names.")
      .def("relatedness", &LinearEngine::relatedness, py::arg("test"), py::arg("method"),
           "Task x task matrix by method mtif | newton | retrain: dict of matrix and names.")
      .def("lds", &LinearEngine::lds, py::arg("test"), py::arg("subsets"), py::arg("keep"), py::arg("seed"),
           py::arg("targets"), "Linear datamodeling score over random subsets refitted by Newton.")
      .def("surrogate", &LinearEngine::surrogate, py::arg("test"), py::arg("subsets"), py::arg("keep"),
           py::arg("losses"), py::arg("projection_dim"), py::arg("ridge"), py::arg("validate_subsets"),
           py::arg("seed"), "Surrogate-model task affinity, as `mtif relatedness --method surrogate`.")
      .def("subset_losses", &LinearEngine::subset_losses, py::arg("test"), py::arg("keep"), py::arg("losses"),
           py::arg("projection_dim"), py::arg("seed"),
           "Target losses after training on each task subset (keep[s][l]: task l kept).")
      .def("predict", &LinearEngine::predict, py::arg("data"), "Predictions of every row, file order.")
      .def("task_loss", &LinearEngine::task_loss, py::arg("data"), "Mean loss of each task on `data`.")
      .def_property_readonly("fitted", &LinearEngine::fitted, "Whether fit has run.")
      .def_property_readonly("train_rows", &LinearEngine::train_rows, "Training rows of the fit.")
      .def_property_readonly("timings", &LinearEngine::timings, "Seconds per phase inside C++.")
      .def_property_readonly("warnings", &LinearEngine::warnings, "Warnings of the factorisation.")
      .def_property_readonly("gamma", [](const LinearEngine& e) { return e.model().gamma; }, "Shared weights.")
      .def_property_readonly("theta",
                             [](const LinearEngine& e) {
                               const LinearModel& m = e.model();
                               MatrixXd t(m.num_tasks(), m.gamma.size());
                               for (int k = 0; k < m.num_tasks(); ++k) t.row(k) = m.theta[k];
                               return t;
                             },
                             "Task weights, tasks x features.")
      .def_property_readonly("converged", [](const LinearEngine& e) { return e.model().report.converged; },
                             "Whether Newton converged.")
      .def_property_readonly("n_iter", [](const LinearEngine& e) { return e.model().report.iterations; },
                             "Newton iterations of the fit.")
      .def("to_json", [](const LinearEngine& e) { return to_json(e.model()).dump(); },
           "The fitted model as the CLI's --save JSON.");

  m.def("parse_row_spec", &parse_row_spec, py::arg("spec"), py::arg("n"),
        "Row indices of a --rows spec (\"0-9,20\", \"all\") for n rows.");
  // Task grouping (issue 14; include/mtif/task_grouping.hpp): affinity[k][l] = benefit to k from l.
  m.def(
      "group_tasks",
      [](const MatrixXd& affinity, int groups, const std::string& search) {
        GroupingResult r = group_tasks(affinity, groups, parse_grouping_method(search));
        py::dict out;
        out["groups"] = r.groups;
        out["objective"] = r.objective;
        out["search"] = r.method;
        out["evaluated"] = r.evaluated;
        return out;
      },
      py::arg("affinity"), py::arg("groups"), py::arg("search") = "auto",
      "Partition of the tasks into `groups` groups maximising the affinity inside them (mtif group).");
  m.def("set_progress", [](bool on) { set_progress_stream(on ? &std::cerr : nullptr); }, py::arg("on"),
        "show progress bars on stderr for long work (off by default in Python)");
}
