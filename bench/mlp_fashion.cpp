// Fashion-MNIST experiments for the shared-bottom network (issue 3):
//
//   mtif_bench_mlp agreement   small network on one-vs-rest tasks: every solver
//                              against the exact block solve, and every score
//                              against warm-started LOO refits and LDS subsets;
//   mtif_bench_mlp speed       all 60,000 training images, 10 one-vs-rest tasks,
//                              EK-FAC scores of every row against every task,
//                              timed against one training epoch.
//
// Data: scripts/fetch_data.sh (Debian dataset-fashion-mnist) -> data/fashion-mnist.
// Results are JSON (bench/results/mlp_*.json); see bench/README.md.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "mtif/block_schur_solver.hpp"
#include "mtif/image_data.hpp"
#include "mtif/iterative_solvers.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_ekfac.hpp"
#include "mtif/mlp_validation.hpp"

using namespace mtif;
using json = nlohmann::json;

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

VectorXd flat(const ScoreMatrix& m) { return Eigen::Map<const VectorXd>(m.data(), m.size()); }

json agreement_json(const AgreementSplit& a) {
  auto one = [](const Agreement& g) { return json{{"count", g.count}, {"pearson", g.pearson}, {"spearman", g.spearman}}; };
  return {{"all", one(a.all)}, {"within_task", one(a.within_task)}, {"between_task", one(a.between_task)}};
}

// Mean over targets of the Spearman correlation over rows (the per-target view of LOO agreement).
double mean_per_target_spearman(const MatrixXd& predicted, const MatrixXd& actual) {
  double sum = 0;
  for (Index t = 0; t < actual.cols(); ++t) sum += spearman(predicted.col(t), actual.col(t));
  return sum / double(actual.cols());
}

struct AgreementOptions {
  std::string data_dir = "data/fashion-mnist";
  int pool = 4;
  std::vector<int> hidden{32};
  Index pos = 50, neg = 50;
  double weight_decay = 0.03;
  double damping = 1e-3;
  int lds_subsets = 50;
  long retrain_steps = 300;
  std::uint64_t seed = 0;
  std::string out = "bench/results/mlp_agreement.json";
};

int run_agreement(const AgreementOptions& o) {
  json result;
  auto t0 = Clock::now();
  ImageSplit images = read_fashion_mnist(o.data_dir);
  OneVsRestOptions cast;
  cast.train_pos = o.pos;
  cast.train_neg = o.neg;
  cast.pool = o.pool;
  cast.seed = o.seed;
  TrainTest data = one_vs_rest_tasks(images, cast);
  const Dataset& train = data.train;
  MlpConfig config;
  config.hidden = o.hidden;
  config.head = HeadKind::Binary;
  config.weight_decay = o.weight_decay;
  config.learning_rate = 1e-2;
  config.epochs = 30;
  config.batch_size = 64;
  config.seed = o.seed;
  MlpRetrainProtocol protocol;
  protocol.steps = o.retrain_steps;
  MlpModel model = mlp_retrain(train_mlp(train, config), train, VectorXd::Ones(train.num_rows()), protocol);
  BlockVector g = model.objective_gradient(train);
  result["setup"] = {{"data", "Fashion-MNIST one-vs-rest"}, {"pool", o.pool}, {"train_rows", train.num_rows()},
                     {"tasks", train.num_tasks()}, {"test_rows", data.test.num_rows()},
                     {"features", train.num_features()}, {"hidden", o.hidden}, {"shared_params", model.shared_size()},
                     {"weight_decay", o.weight_decay}, {"damping", o.damping}, {"seed", o.seed},
                     {"fit", "Adam lr 1e-2, 30 epochs, batch 64, then L-BFGS polish (same protocol as refits)"},
                     {"stationarity_max_abs_gradient", g.gamma.cwiseAbs().maxCoeff()},
                     {"protocol", protocol.describe()}};
  result["test_accuracy_note"] = "see task losses";
  result["test_task_loss"] = model.task_mean_loss(data.test);
  std::cerr << "fit " << since(t0) << " s\n";

  MlpTargets targets = mlp_task_targets(model, data.test);
  MlpRowGradients rows(model, train);
  std::map<std::string, InfluenceScores> scores;
  json solvers;
  auto timed = [&](const std::string& name, auto make_scores) {
    auto t = Clock::now();
    scores[name] = make_scores();
    solvers[name]["seconds"] = since(t);
    std::cerr << name << " " << since(t) << " s\n";
  };
  MlpCurvature hessian(model, train, CurvatureKind::Hessian, 0.0);
  MlpCurvature ggn(model, train, CurvatureKind::GaussNewton, o.damping);
  timed("exact_hessian", [&] {
    BlockSchurSolver s(exact_block_hessian(hessian));
    solvers["exact_hessian"]["warnings"] = s.warnings();
    return mlp_influence(model, train, rows, s, targets);
  });
  timed("exact_ggn", [&] {
    BlockSchurSolver s(exact_block_hessian(ggn));
    return mlp_influence(model, train, rows, s, targets);
  });
  timed("cg_hessian", [&] {
    CgSolver s(hessian, CgOptions{1000, 1e-10});
    solvers["cg_hessian"]["warnings"] = s.warnings().size();
    return mlp_influence(model, train, rows, s, targets);
  });
  timed("cg_ggn", [&] {
    CgSolver s(ggn, CgOptions{1000, 1e-10});
    auto out = mlp_influence(model, train, rows, s, targets);
    solvers["cg_ggn"]["warnings"] = s.warnings().size();
    return out;
  });
  timed("lissa_ggn", [&] {
    LissaOptions lo;
    lo.depth = 2000;
    lo.tolerance = 1e-6;
    LissaSolver s(ggn, lo);
    auto out = mlp_influence(model, train, rows, s, targets);
    solvers["lissa_ggn"]["warnings"] = s.warnings().size();
    solvers["lissa_ggn"]["scale"] = s.scale();
    double worst = 0;
    for (const auto& r : s.reports()) worst = std::max(worst, r.relative_residual);
    solvers["lissa_ggn"]["worst_relative_residual"] = worst;
    return out;
  });
  timed("ekfac", [&] {
    MlpEkfacSolver s(model, train, o.damping);
    return mlp_influence(model, train, rows, s, targets);
  });
  for (auto& [name, s] : scores) {
    const std::string ref = name.find("hessian") != std::string::npos ? "exact_hessian" : "exact_ggn";
    solvers[name]["vs_exact"] = {{"reference", ref},
                                 {"pearson", pearson(flat(s.total), flat(scores[ref].total))},
                                 {"spearman", spearman(flat(s.total), flat(scores[ref].total))}};
  }

  // LOO over every training row (>= 100 rows per task when pos + neg >= 100).
  auto t1 = Clock::now();
  std::vector<Index> all(train.num_rows());
  std::iota(all.begin(), all.end(), 0);
  MatrixXd actual = mlp_leave_one_out(model, train, data.test, targets, all, protocol);
  result["loo"]["seconds"] = since(t1);
  result["loo"]["rows"] = all.size();
  std::cerr << "loo " << since(t1) << " s\n";
  std::vector<int> row_task;
  for (Index r : all) row_task.push_back(scores.begin()->second.train_task[r]);

  auto t2 = Clock::now();
  RefitLosses refit = mlp_refit_losses(model, train, data.test, targets, protocol);
  VectorXd base = refit(VectorXd::Ones(train.num_rows()));
  // Refit each subset once and score every method on the same subsets.
  std::vector<VectorXd> subset_losses;
  std::vector<VectorXd> subset_weights;
  RefitLosses recording = [&](const VectorXd& w) {
    for (size_t i = 0; i < subset_weights.size(); ++i)
      if (subset_weights[i] == w) return subset_losses[i];
    subset_weights.push_back(w);
    subset_losses.push_back(refit(w));
    return subset_losses.back();
  };
  for (auto& [name, s] : scores) {
    MatrixXd predicted = s.total;
    solvers[name]["loo"] = agreement_json(compare_scores(predicted, actual, row_task, targets.task));
    solvers[name]["loo"]["mean_per_target_spearman"] = mean_per_target_spearman(predicted, actual);
    LdsResult lds = linear_datamodeling_score(s.total, train, base, recording, 0.5, o.lds_subsets, o.seed + 7);
    solvers[name]["lds"] = {{"mean", lds.mean}, {"per_target", lds.per_target}};
  }
  result["lds"] = {{"subsets", o.lds_subsets}, {"keep_fraction", 0.5}, {"seconds", since(t2)}};
  result["solvers"] = solvers;
  result["peak_rss_mb"] = peak_rss_mb();
  std::ofstream(o.out) << result.dump(2) << '\n';
  std::cout << result["solvers"].dump(2) << '\n';
  return 0;
}

struct SpeedOptions {
  std::string data_dir = "data/fashion-mnist";
  std::vector<int> hidden{64};
  int epochs = 2;
  double damping = 1e-3;
  std::string out = "bench/results/mlp_speed.json";
};

int run_speed(const SpeedOptions& o) {
  ImageSplit images = read_fashion_mnist(o.data_dir);
  OneVsRestOptions cast;  // 600 positives + 5400 negatives per task, every image once: all 60,000
  cast.train_pos = 600;
  cast.train_neg = 5400;
  cast.test_pos = 100;
  cast.test_neg = 900;
  cast.disjoint = true;
  TrainTest data = one_vs_rest_tasks(images, cast);
  const Dataset& train = data.train;
  MlpConfig config;
  config.hidden = o.hidden;
  config.head = HeadKind::Binary;
  config.weight_decay = 1e-4;
  config.learning_rate = 1e-3;
  config.batch_size = 128;
  config.epochs = o.epochs;
  auto t0 = Clock::now();
  MlpModel model = train_mlp(train, config);
  const double epoch_s = since(t0) / o.epochs;
  std::cerr << "epoch " << epoch_s << " s\n";
  json r;
  r["setup"] = {{"train_rows", train.num_rows()}, {"tasks", train.num_tasks()}, {"features", train.num_features()},
                {"hidden", o.hidden}, {"shared_params", model.shared_size()}, {"precision", "float64"},
                {"epoch", "Adam, batch 128, mean over " + std::to_string(o.epochs) + " epochs"}};
  r["test_task_loss"] = model.task_mean_loss(data.test);
  r["epoch_s"] = epoch_s;
  auto t1 = Clock::now();
  MlpEkfacSolver ekfac(model, train, o.damping);
  const double factor_s = since(t1);
  auto t2 = Clock::now();
  MlpTargets targets = mlp_task_targets(model, data.test);
  const double targets_s = since(t2);
  auto t3 = Clock::now();
  MatrixXd Q(model.shared_size(), targets.task.size());
  for (size_t t = 0; t < targets.task.size(); ++t) Q.col(t) = targets.gradient[t].gamma;
  MatrixXd solved = ekfac.solve_schur(Q);
  const double ihvp_s = since(t3);
  auto t4 = Clock::now();
  MlpRowGradients rows(model, train);
  const double row_pass_s = since(t4);
  auto t5 = Clock::now();
  InfluenceScores scores = mlp_influence(model, train, rows, ekfac, targets, false);
  const double score_s = since(t5);
  const double total = factor_s + targets_s + row_pass_s + score_s;
  r["ekfac"] = {{"factors_s", ekfac.timings().factors_s},
                {"eigendecomposition_s", ekfac.timings().eigen_s},
                {"eigenvalue_correction_s", ekfac.timings().correction_s},
                {"target_gradients_s", targets_s},
                {"ihvps_s", ihvp_s},
                {"row_gradient_pass_s", row_pass_s},
                {"scoring_s_incl_ihvps", score_s},
                {"total_s", total},
                {"ratio_to_epoch", total / epoch_s},
                {"scores", scores.total.size()},
                {"finite", scores.total.allFinite()}};
  r["peak_rss_mb"] = peak_rss_mb();
  std::ofstream(o.out) << r.dump(2) << '\n';
  std::cout << r.dump(2) << '\n';
  (void)solved;
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST experiments for the shared-bottom network"};
  app.require_subcommand(1);
  AgreementOptions a;
  auto* agree = app.add_subcommand("agreement", "solvers vs exact, scores vs LOO and LDS (small network)");
  agree->add_option("--data", a.data_dir)->capture_default_str();
  agree->add_option("--pool", a.pool)->capture_default_str();
  agree->add_option("--hidden", a.hidden)->delimiter(',')->capture_default_str();
  agree->add_option("--pos", a.pos)->capture_default_str();
  agree->add_option("--neg", a.neg)->capture_default_str();
  agree->add_option("--weight-decay", a.weight_decay)->capture_default_str();
  agree->add_option("--damping", a.damping)->capture_default_str();
  agree->add_option("--lds-subsets", a.lds_subsets)->capture_default_str();
  agree->add_option("--retrain-steps", a.retrain_steps)->capture_default_str();
  agree->add_option("--seed", a.seed)->capture_default_str();
  agree->add_option("--out", a.out)->capture_default_str();
  SpeedOptions s;
  auto* speed = app.add_subcommand("speed", "EK-FAC scores of all 60,000 rows x 10 tasks vs one epoch");
  speed->add_option("--data", s.data_dir)->capture_default_str();
  speed->add_option("--hidden", s.hidden)->delimiter(',')->capture_default_str();
  speed->add_option("--epochs", s.epochs)->capture_default_str();
  speed->add_option("--out", s.out)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (agree->parsed()) return run_agreement(a);
  return run_speed(s);
}
