// A TorchScript module that computes the built-in MLP with the same weights
// must give the same outputs, gradients, curvature products, head blocks,
// influence scores and training steps: the general path and the built-in
// network are one engine. Bad modules are refused with a clear message.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mtif/iterative_solvers.hpp"
#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_influence.hpp"
#include "mtif/mlp_validation.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

MlpConfig small_config() {
  MlpConfig c;
  c.hidden = {6};
  c.head = HeadKind::Binary;
  c.weight_decay = 1e-2;
  c.learning_rate = 0.05;
  c.epochs = 40;
  c.batch_size = 32;
  c.seed = 3;
  return c;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / fmt::format("mtif-ts-{}-{}", getpid(), name)).string();
}

// TorchScript source of a one-hidden-layer tanh MLP with one linear head per
// task; `output` replaces the returned expression (for broken modules).
std::string mlp_source(int tasks, const std::string& output = "out") {
  std::string s =
      "def forward(self, x, task):\n"
      "    h = torch.tanh(torch.addmm(self.trunk_b0, x, self.trunk_w0.t()))\n"
      "    out = h.new_zeros([x.size(0), 1])\n";
  for (int k = 0; k < tasks; ++k)
    s += fmt::format(
        "    idx{0} = (task == {0}).nonzero().squeeze(1)\n"
        "    out = out.index_add(0, idx{0}, torch.addmm(self.head{0}_b, h.index_select(0, idx{0}), self.head{0}_w.t()))\n",
        k);
  return s + "    return " + output + "\n";
}

torch::Tensor as_tensor(const VectorXd& v, std::vector<int64_t> shape) {
  return torch::from_blob(const_cast<double*>(v.data()), shape, kDouble).clone();
}

// The built-in model's weights in a scripted module (parameters trunk_* and head<k>_*).
std::string export_mlp(const MlpModel& model, Index inputs, const std::string& name,
                       const std::string& output = "out", bool extra_parameter = false) {
  const int hidden = model.config().hidden[0];
  BlockVector w = model.parameters();
  torch::jit::Module m("MtifTestMlp");
  m.register_parameter("trunk_w0", as_tensor(w.gamma.head(hidden * inputs), {hidden, inputs}), false);
  m.register_parameter("trunk_b0", as_tensor(w.gamma.tail(hidden), {hidden}), false);
  for (int k = 0; k < model.num_tasks(); ++k) {
    m.register_parameter(fmt::format("head{}_w", k), as_tensor(w.theta[k].head(hidden), {1, hidden}), false);
    m.register_parameter(fmt::format("head{}_b", k), as_tensor(w.theta[k].tail(1), {1}), false);
  }
  if (extra_parameter) m.register_parameter("scale", torch::ones({1}, kDouble), false);
  m.define(mlp_source(model.num_tasks(), output));
  const std::string path = temp_path(name);
  m.save(path);
  return path;
}

TorchScriptSpec spec_of(const std::string& path) {
  TorchScriptSpec s;
  s.path = path;
  s.shared = {"trunk_*"};
  s.task = "head{k}_*";
  return s;
}

struct Twins {
  TrainTest data = test::make_data(3, 5, {40, 25, 50}, 30, LossKind::Logistic, 2);
  // Polished to a minimum, so that the Hessian (not only Gauss-Newton) is positive definite.
  MlpModel builtin = mlp_retrain(train_mlp(data.train, small_config()), data.train,
                                 VectorXd::Ones(data.train.num_rows()), MlpRetrainProtocol{});
  std::string path = export_mlp(builtin, data.train.num_features(), "twin.pt");
  MlpModel scripted = load_torchscript_model(spec_of(path), builtin.config(), 3, data.train);
  ~Twins() { std::filesystem::remove(path); }
};

double relative_gap(const MatrixXd& a, const MatrixXd& b) {
  return (a - b).cwiseAbs().maxCoeff() / std::max(1e-300, a.cwiseAbs().maxCoeff());
}

double relative_gap(const BlockVector& a, const BlockVector& b) {
  double gap = relative_gap(a.gamma, b.gamma);
  for (size_t k = 0; k < a.theta.size(); ++k) gap = std::max(gap, relative_gap(a.theta[k], b.theta[k]));
  return gap;
}

BlockVector random_blocks(const MlpModel& m, unsigned seed) {
  std::srand(seed);
  BlockVector v;
  for (int k = 0; k < m.num_tasks(); ++k) v.theta.push_back(VectorXd::Random(m.head_size(k)));
  v.gamma = VectorXd::Random(m.shared_size());
  return v;
}

TEST(TorchScriptModel, SameFunctionGradientsAndCurvatureAsBuiltin) {
  Twins t;
  EXPECT_FALSE(t.scripted.is_builtin_mlp());
  EXPECT_EQ(t.scripted.shared_size(), t.builtin.shared_size());
  EXPECT_LT(relative_gap(t.builtin.outputs(t.data.test), t.scripted.outputs(t.data.test)), 1e-12);
  EXPECT_LT(relative_gap(t.builtin.objective_gradient(t.data.train), t.scripted.objective_gradient(t.data.train)),
            1e-10);
  for (CurvatureKind kind : {CurvatureKind::GaussNewton, CurvatureKind::Hessian}) {
    MlpCurvature a(t.builtin, t.data.train, kind, 1e-3), b(t.scripted, t.data.train, kind, 1e-3);
    BlockVector v = random_blocks(t.builtin, 5);
    EXPECT_LT(relative_gap(a.apply(v), b.apply(v)), 1e-10);
    for (int k = 0; k < 3; ++k) EXPECT_LT(relative_gap(a.head_block(k), b.head_block(k)), 1e-10) << "task " << k;
  }
}

TEST(TorchScriptModel, SameInfluenceScoresAsBuiltin) {
  Twins t;
  for (CurvatureKind kind : {CurvatureKind::GaussNewton, CurvatureKind::Hessian}) {
    std::vector<InfluenceScores> scores;
    for (const MlpModel* model : {&t.builtin, &t.scripted}) {
      MlpCurvature curvature(*model, t.data.train, kind, 1e-3);
      BlockSchurSolver exact(exact_block_hessian(curvature));
      CgSolver cg(curvature, CgOptions{500, 1e-12});
      MlpTargets targets = mlp_task_targets(*model, t.data.test);
      MlpRowGradients rows(*model, t.data.train);
      scores.push_back(mlp_influence(*model, t.data.train, rows, exact, targets));
      scores.push_back(mlp_influence(*model, t.data.train, rows, cg, targets));
    }
    EXPECT_LT(relative_gap(scores[0].total, scores[2].total), 1e-9) << "exact";
    EXPECT_LT(relative_gap(scores[1].total, scores[3].total), 1e-9) << "cg";
    EXPECT_LT(relative_gap(scores[0].task_part, scores[2].task_part), 1e-9);
    EXPECT_LT(relative_gap(scores[0].shared_part, scores[2].shared_part), 1e-9);
  }
}

TEST(TorchScriptModel, TrainsLikeBuiltin) {
  Twins t;
  MlpTrainOptions options;
  options.steps = 25;
  options.warm_start = &t.builtin;
  MlpModel a = train_mlp(t.data.train, t.builtin.config(), options);
  options.warm_start = &t.scripted;
  MlpModel b = train_mlp(t.data.train, t.builtin.config(), options);
  EXPECT_GT(relative_gap(a.parameters().gamma, t.builtin.parameters().gamma), 1e-6);  // it did move
  EXPECT_LT(relative_gap(a.parameters(), b.parameters()), 1e-9);
}

std::string refusal(const TorchScriptSpec& spec, const Dataset& train, int tasks = 3) {
  try {
    load_torchscript_model(spec, small_config(), tasks, train);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "accepted";
}

TEST(TorchScriptModel, RefusesBadModules) {
  Twins t;
  const Dataset& train = t.data.train;
  const Index inputs = train.num_features();
  const std::string text = temp_path("not-a-module.pt");
  { std::ofstream(text) << "not a module\n"; }
  EXPECT_NE(refusal(spec_of(text), train).find("not a TorchScript file"), std::string::npos);

  TorchScriptSpec no_method = spec_of(t.path);
  no_method.method = "predict";
  EXPECT_NE(refusal(no_method, train).find("has no method 'predict'"), std::string::npos);

  const std::string extra = export_mlp(t.builtin, inputs, "extra.pt", "out * self.scale", true);
  EXPECT_NE(refusal(spec_of(extra), train).find("'scale' is matched by no pattern"), std::string::npos);
  TorchScriptSpec frozen = spec_of(extra);
  frozen.frozen = {"scale"};
  EXPECT_EQ(refusal(frozen, train), "accepted");

  TorchScriptSpec twice = spec_of(t.path);
  twice.shared = {"trunk_*", "head0_*"};
  EXPECT_NE(refusal(twice, train).find("matched by more than one pattern"), std::string::npos);

  TrainTest four = test::make_data(4, 5, {20, 20, 20, 20}, 10, LossKind::Logistic, 2);
  EXPECT_NE(refusal(spec_of(t.path), four.train, 4).find("task 3 has no parameters"), std::string::npos);

  const std::string wide = export_mlp(t.builtin, inputs, "wide.pt", "torch.cat([out, out], 1)");
  EXPECT_NE(refusal(spec_of(wide), train).find("outputs have shape"), std::string::npos);

  const std::string nan = export_mlp(t.builtin, inputs, "nan.pt", "out * float('nan')");
  EXPECT_NE(refusal(spec_of(nan), train).find("NaN"), std::string::npos);

  for (const auto& p : {text, extra, wide, nan}) std::filesystem::remove(p);
}

}  // namespace
}  // namespace mtif
