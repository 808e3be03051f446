// EK-FAC on a user's TorchScript module: a Conv2d layer (by its image patches)
// and a Linear layer found in the graph. The defining property of EK-FAC must
// hold for both: in the Kronecker eigenbasis its corrected eigenvalues are the
// exact Gauss-Newton curvature along each basis direction, v^T C v for
// v = vec(Q_S e_i (Q_A e_j)^T). For a convolution this holds only if the
// correction uses each row's whole gradient (summed over positions), not the
// per-position pieces, so the test catches that mistake.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/script.h>
#include <unistd.h>

#include <filesystem>

#include "mtif/mlp_curvature.hpp"
#include "mtif/mlp_ekfac.hpp"
#include "mtif/mlp_validation.hpp"
#include "support/test_data.hpp"

namespace mtif {
namespace {

constexpr int kSide = 4, kChannels = 2, kHidden = 3, kTasks = 2;

// 4x4 images -> conv 2x2 (2 channels) -> tanh -> flatten (2x3x3) -> linear 3 -> tanh -> one head per task.
std::string conv_source() {
  std::string s = fmt::format(
      "def forward(self, x, task):\n"
      "    c = torch.tanh(torch.conv2d(x.view(-1, 1, {0}, {0}), self.trunk_conv_w, self.trunk_conv_b))\n"
      "    h = torch.tanh(torch.linear(c.flatten(1), self.trunk_fc_w, self.trunk_fc_b))\n"
      "    out = h.new_zeros([x.size(0), 1])\n",
      kSide);
  for (int k = 0; k < kTasks; ++k)
    s += fmt::format(
        "    idx{0} = (task == {0}).nonzero().squeeze(1)\n"
        "    out = out.index_add(0, idx{0}, torch.linear(h.index_select(0, idx{0}), self.head{0}_w, self.head{0}_b))\n",
        k);
  return s + "    return out\n";
}

std::string save_conv_module() {
  torch::manual_seed(7);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::jit::Module m("MtifTestConv");
  m.register_parameter("trunk_conv_w", torch::randn({kChannels, 1, 2, 2}, f64) * 0.7, false);
  m.register_parameter("trunk_conv_b", torch::randn({kChannels}, f64) * 0.1, false);
  const int flat = kChannels * (kSide - 1) * (kSide - 1);
  m.register_parameter("trunk_fc_w", torch::randn({kHidden, flat}, f64) * 0.4, false);
  m.register_parameter("trunk_fc_b", torch::randn({kHidden}, f64) * 0.1, false);
  for (int k = 0; k < kTasks; ++k) {
    m.register_parameter(fmt::format("head{}_w", k), torch::randn({1, kHidden}, f64), false);
    m.register_parameter(fmt::format("head{}_b", k), torch::zeros({1}, f64), false);
  }
  m.define(conv_source());
  const std::string path =
      (std::filesystem::temp_directory_path() / fmt::format("mtif-ekfac-conv-{}.pt", getpid())).string();
  m.save(path);
  return path;
}

// The shared-parameter vector of a basis direction of one layer (zero elsewhere).
VectorXd layer_direction(const MlpEkfacSolver::Layer& layer, Index shared_size, Index i, Index j) {
  MatrixXd direction = layer.grad_basis.col(i) * layer.input_basis.col(j).transpose();  // out x (in+1)
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> w = direction.leftCols(layer.in);
  VectorXd v = VectorXd::Zero(shared_size);
  v.segment(layer.weight_offset, w.size()) = Eigen::Map<const VectorXd>(w.data(), w.size());
  if (layer.bias_offset >= 0) v.segment(layer.bias_offset, layer.out) = direction.col(layer.in);
  return v;
}

TEST(MlpEkfacSolver, ConvolutionAndLinearLayersOfAModuleKeepTheDefiningProperty) {
  TrainTest data = test::make_data(kTasks, kSide * kSide, {30, 25}, 10, LossKind::Logistic, 4);
  const std::string path = save_conv_module();
  TorchScriptSpec spec;
  spec.path = path;
  spec.shared = {"trunk_*"};
  spec.task = "head{k}_*";
  MlpConfig config;
  config.head = HeadKind::Binary;
  config.weight_decay = 1e-2;
  MlpModel model = load_torchscript_model(spec, config, kTasks, data.train);
  std::filesystem::remove(path);

  const double damping = 1e-3;
  MlpCurvature curvature(model, data.train, CurvatureKind::GaussNewton, damping);
  BlockHessian dense = exact_block_hessian(curvature);
  MlpEkfacSolver ekfac(model, data.train, damping);
  EXPECT_TRUE(ekfac.warnings().empty()) << ekfac.warnings()[0];  // every shared parameter is covered
  ASSERT_EQ(ekfac.layers().size(), 2u);
  const auto& conv = ekfac.layers()[0];
  EXPECT_EQ(conv.in, 4);  // one input channel x a 2x2 kernel
  EXPECT_EQ(conv.out, kChannels);
  EXPECT_EQ(ekfac.layers()[1].in, kChannels * (kSide - 1) * (kSide - 1));
  for (const auto& layer : ekfac.layers()) {
    for (Index i = 0; i < layer.out; ++i) {
      for (Index j : {Index(0), layer.in / 2, layer.in}) {
        VectorXd v = layer_direction(layer, model.shared_size(), i, j);
        EXPECT_NEAR(v.dot(dense.C * v), layer.eigenvalues(i, j), 1e-9 * layer.eigenvalues(i, j))
            << layer.name << " (" << i << ", " << j << ")";
      }
    }
  }
  // Head blocks are exact Gauss-Newton blocks.
  for (int k = 0; k < kTasks; ++k)
    EXPECT_LT((ekfac.solve_task(k, dense.A[k]) - MatrixXd::Identity(dense.A[k].rows(), dense.A[k].rows()))
                  .cwiseAbs().maxCoeff(), 1e-9);
}

}  // namespace
}  // namespace mtif
