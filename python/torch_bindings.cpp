// mtif._torch: the network engine (built-in shared-bottom MLP, soft sharing,
// or a user's TorchScript module) for Python, over mtif_torch.
//
// A separate extension from mtif._core so that `import mtif` does not load
// LibTorch; python/mtif/networks.py imports it on first use. The data sets are
// mtif._core.Dataset objects (pybind11 shares registered types between
// extensions built against the same pybind11). The user's torch.nn.Module
// reaches C++ as a TorchScript file written by Python (torch.jit.save): torch's
// own Python bindings and these do not share a tensor type, a file they share.
// Every number comes from the same library calls as `mtif ... --model mlp|torchscript`.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>

#include "mtif/csv_reader.hpp"
#include "mtif/row_indices.hpp"
#include "mtif/mlp_influence.hpp"
#include "mtif/mlp_model.hpp"
#include "mtif/mlp_validation.hpp"
#include "mtif/network_fit.hpp"
#include "mtif/network_solver.hpp"
#include "mtif/validation.hpp"

namespace py = pybind11;
using namespace mtif;

namespace {

using DatasetPtr = std::shared_ptr<Dataset>;

template <typename T>
T setting(const py::dict& d, const char* key, T fallback) {
  return d.contains(key) ? d[key].cast<T>() : fallback;
}

NetworkSpec spec_from(const py::dict& s) {
  NetworkSpec spec;
  spec.model = setting<std::string>(s, "model", "mlp");
  MlpConfig& c = spec.config;
  c.hidden = setting(s, "hidden", c.hidden);
  c.activation = setting(s, "activation", c.activation);
  c.head = parse_head_kind(setting<std::string>(s, "loss", "logistic"));
  c.weight_decay = setting(s, "weight_decay", c.weight_decay);
  c.optimizer = setting(s, "optimizer", c.optimizer);
  c.learning_rate = setting(s, "lr", c.learning_rate);
  c.epochs = setting(s, "epochs", c.epochs);
  c.batch_size = setting(s, "batch_size", c.batch_size);
  c.seed = setting<std::uint64_t>(s, "seed", c.seed);
  c.sharing = setting(s, "sharing", c.sharing);
  c.coupling = setting(s, "coupling", c.coupling);
  TorchScriptSpec& m = spec.module;
  m.path = setting(s, "module_path", m.path);
  m.method = setting(s, "method", m.method);
  m.shared = setting(s, "shared", m.shared);
  m.task = setting(s, "task_params", m.task);
  m.frozen = setting(s, "frozen", m.frozen);
  spec.module_weights = setting(s, "weights", spec.module_weights);
  spec.polish_steps = setting(s, "polish_steps", spec.polish_steps);
  return spec;
}

NetworkSolverOptions solver_from(const py::dict& s) {
  NetworkSolverOptions o;
  o.solver = setting(s, "solver", o.solver);
  o.curvature = setting(s, "curvature", o.curvature);
  o.damping = setting(s, "damping", o.damping);
  o.cg_iterations = setting(s, "cg_iterations", o.cg_iterations);
  o.cg_tolerance = setting(s, "cg_tolerance", o.cg_tolerance);
  o.lissa_scale = setting(s, "lissa_scale", o.lissa_scale);
  o.lissa_depth = setting(s, "lissa_depth", o.lissa_depth);
  return o;
}

MlpRetrainProtocol protocol_from(const py::dict& s) {
  MlpRetrainProtocol p;
  p.optimizer = setting(s, "retrain_optimizer", p.optimizer);
  p.steps = setting(s, "retrain_steps", p.steps);
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A JSON summary as the Python objects json.loads gives (dicts, lists, numbers, strings).
py::object to_python(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

// A network fitted (or taken at its weights) on a training set.
class NetworkEngine {
 public:
  explicit NetworkEngine(py::dict settings) : spec_(spec_from(settings)), settings_(std::move(settings)) {}

  void fit(const DatasetPtr& train) {
    py::gil_scoped_release release;
    if (spec_.config.head == HeadKind::Softmax) spec_.config.classes = int(train->y.maxCoeff()) + 1;
    FittedNetwork fitted = fit_network(spec_, *train);
    train_ = train;
    model_ = std::make_unique<MlpModel>(std::move(fitted.model));
    max_abs_gradient_ = fitted.max_abs_gradient;
    warnings_ = fitted.warnings;
    for (const auto& [name, seconds] : fitted.timings) timings_[name] = seconds;
  }

  py::dict influence(const DatasetPtr& test, const std::string& kind, bool parts) {
    InfluenceScores scores;
    MlpTargets targets;
    {
      py::gil_scoped_release release;
      check(*test);
      targets = make_targets(*test, kind);
      scores = network_scores(targets, parts);
    }
    py::dict out;
    out["total"] = scores.total;
    out["task_part"] = parts ? py::object(py::cast(scores.task_part)) : py::none();
    out["shared_part"] = parts ? py::object(py::cast(scores.shared_part)) : py::none();
    out["train_task"] = scores.train_task;
    add_target_names(out, targets);
    return out;
  }

  // Warm-started refits without each row (file order), and the scores they test.
  py::dict loo(const DatasetPtr& test, const std::vector<Index>& rows, const std::string& kind) {
    const MlpRetrainProtocol protocol = protocol_from(settings_);
    MatrixXd actual;
    MlpTargets targets;
    InfluenceScores scores;
    {
      py::gil_scoped_release release;
      check(*test);
      check_row_indices(rows, train_->num_rows());
      targets = make_targets(*test, kind);
      auto start = std::chrono::steady_clock::now();
      actual = mlp_leave_one_out(*model_, *train_, *test, targets, rows, protocol);
      timings_["refits_s"] = seconds_since(start);
    }
    py::dict out;
    out["refit_stops"] = to_python(protocol.stops->json());
    out["actual"] = actual;
    out["rows"] = rows;
    add_target_names(out, targets);
    return out;
  }

  py::dict relatedness(const DatasetPtr& test, const std::string& method) {
    const MlpRetrainProtocol protocol = protocol_from(settings_);
    Relatedness r;
    MlpTargets targets;
    {
      py::gil_scoped_release release;
      check(*test);
      targets = mlp_task_targets(*model_, *test);
      if (method == "mtif") {
        auto start = std::chrono::steady_clock::now();
        r.method = "mtif";
        r.matrix = sum_by_source_task(network_scores(targets, false), train_->num_tasks());
        r.seconds = seconds_since(start);
      } else if (method == "retrain") {
        r = mlp_relatedness_by_retraining(*model_, *train_, *test, targets, protocol);
      } else {
        throw std::invalid_argument(fmt::format("method '{}': networks take 'mtif' or 'retrain'", method));
      }
      timings_["relatedness_s"] = r.seconds;
    }
    py::dict out;
    if (protocol.stops->count() > 0) out["refit_stops"] = to_python(protocol.stops->json());
    out["matrix"] = r.matrix;
    out["method"] = r.method;
    out["sources"] = train_->task_names;
    add_target_names(out, targets);
    return out;
  }

  // Same protocol as `mtif lds --model ...`: refits warm-started from the fit.
  py::dict lds(const DatasetPtr& test, int subsets, double keep, std::uint64_t seed, const std::string& kind) {
    const MlpRetrainProtocol protocol = protocol_from(settings_);
    LdsResult result;
    MlpTargets targets;
    {
      py::gil_scoped_release release;
      check(*test);
      if (subsets < 3) throw std::invalid_argument("lds needs at least 3 subsets");
      if (!(keep > 0 && keep < 1)) throw std::invalid_argument("keep must lie strictly between 0 and 1");
      targets = make_targets(*test, kind);
      InfluenceScores scores = network_scores(targets, false);
      auto start = std::chrono::steady_clock::now();
      RefitLosses refit = mlp_refit_losses(*model_, *train_, *test, targets, protocol);
      result = linear_datamodeling_score(scores.total, *train_, refit(VectorXd::Ones(train_->num_rows())), refit,
                                         keep, subsets, seed);
      timings_["lds_s"] = seconds_since(start);
    }
    py::dict out;
    out["refit_stops"] = to_python(protocol.stops->json());
    out["per_target"] = result.per_target;
    out["mean"] = result.mean;
    out["predicted"] = result.predicted;
    out["actual"] = result.actual;
    add_target_names(out, targets);
    return out;
  }

  VectorXd task_loss(const DatasetPtr& data) const {
    check(*data);
    return model_->task_mean_loss(*data);
  }

  // The module with the weights attributed (TorchScript models only).
  void save(const std::string& path) const {
    check_fitted();
    if (model_->is_builtin_mlp() || spec_.model != "torchscript")
      throw std::invalid_argument("save() writes TorchScript modules; this model is the built-in network");
    save_torchscript_model(*model_, path);
  }

  std::string describe() const { check_fitted(); return model_->describe(); }
  double max_abs_gradient() const { check_fitted(); return max_abs_gradient_; }
  Index train_rows() const { check_fitted(); return train_->num_rows(); }
  std::vector<std::string> warnings() const { return warnings_; }
  std::map<std::string, double> timings() const { return timings_; }

 private:
  void check_fitted() const {
    if (!model_) throw std::runtime_error("the model is not fitted: call fit(train) first");
  }

  void check(const Dataset& data) const {
    check_fitted();
    if (data.task_names != train_->task_names)
      throw DataError(fmt::format("{}: its tasks differ from the training set's (read it with like=train)", data.source));
    if (data.feature_names != train_->feature_names)
      throw DataError(fmt::format("{}: its features differ from the training set's", data.source));
  }

  MlpTargets make_targets(const Dataset& test, const std::string& kind) const {
    if (kind == "tasks") return mlp_task_targets(*model_, test);
    if (kind == "rows") return mlp_row_targets(*model_, test);
    throw std::invalid_argument(fmt::format("targets '{}': use 'tasks' or 'rows'", kind));
  }

  // The solver is built once per call: its products depend on the weights only,
  // but a Python session may change the solver settings between calls.
  InfluenceScores network_scores(const MlpTargets& targets, bool parts) {
    auto start = std::chrono::steady_clock::now();
    NetworkSolver solver = make_network_solver(*model_, *train_, solver_from(settings_));
    timings_["curvature_s"] = seconds_since(start);
    start = std::chrono::steady_clock::now();
    MlpRowGradients rows(*model_, *train_);
    InfluenceScores scores = mlp_influence(*model_, *train_, rows, *solver.solver, targets, parts);
    timings_["score_s"] = seconds_since(start);
    for (const auto& w : solver.solver->warnings())
      if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(w);
    return scores;
  }

  void add_target_names(py::dict& out, const MlpTargets& targets) const {
    std::vector<std::string> names;
    for (int k : targets.task) names.push_back(train_->task_names[k]);
    out["target_task"] = names;
    out["target_row"] = targets.test_row.empty() ? std::vector<Index>(targets.task.size(), -1) : targets.test_row;
  }

  NetworkSpec spec_;
  py::dict settings_;
  DatasetPtr train_;
  std::unique_ptr<MlpModel> model_;
  double max_abs_gradient_ = 0;
  std::vector<std::string> warnings_;
  std::map<std::string, double> timings_;
};

}  // namespace

PYBIND11_MODULE(_torch, m) {
  m.doc() = "mtif network engine over LibTorch (use mtif.TorchMultitask / mtif.SharedBottomMLP)";
  py::module_::import("mtif._core");  // Dataset and DataError are registered there
  py::class_<NetworkEngine>(m, "NetworkEngine",
                            "A network (built-in MLP or TorchScript module) and its curvature solver "
                            "(mtif.TorchMultitask and mtif.SharedBottomMLP wrap it).")
      .def(py::init<py::dict>(), py::arg("settings"), "Settings as the CLI's network flags (dict, see networks.py).")
      .def("fit", &NetworkEngine::fit, py::arg("train"), "Train (or take the module's weights) and polish.")
      .def("influence", &NetworkEngine::influence, py::arg("test"), py::arg("targets"), py::arg("parts"),
           "First-order scores of every training row: dict of total (rows x targets), parts and names.")
      .def("loo", &NetworkEngine::loo, py::arg("test"), py::arg("rows"), py::arg("targets") = "tasks",
           "Leave-one-out refits of the given rows under the retrain protocol.")
      .def("relatedness", &NetworkEngine::relatedness, py::arg("test"), py::arg("method"),
           "Task x task matrix by method mtif | retrain | tag | gradcos.")
      .def("lds", &NetworkEngine::lds, py::arg("test"), py::arg("subsets"), py::arg("keep"), py::arg("seed"),
           py::arg("targets") = "tasks", "Linear datamodeling score over random subsets refitted by the protocol.")
      .def("task_loss", &NetworkEngine::task_loss, py::arg("data"), "Mean loss of each task on `data`.")
      .def("save", &NetworkEngine::save, py::arg("path"), "Save the weights (the module, or the MLP's JSON).")
      .def_property_readonly("description", &NetworkEngine::describe, "Architecture and parameter counts.")
      .def_property_readonly("max_abs_gradient", &NetworkEngine::max_abs_gradient,
                             "Largest |gradient| of the training loss at the weights used.")
      .def_property_readonly("train_rows", &NetworkEngine::train_rows, "Training rows of the fit.")
      .def_property_readonly("warnings", &NetworkEngine::warnings, "Warnings of the fit and the solver.")
      .def_property_readonly("timings", &NetworkEngine::timings, "Seconds per phase inside C++.");
}
