#include "mtif/mlp_row_gradients.hpp"

#include <algorithm>

#include "../models/mlp_impl.hpp"

namespace mtif {

// Any network: g_r . v for every row r by double backward. With a probe u
// (one entry per row), grad_w sum_r u_r l_r = sum_r u_r g_r, and its dot
// product with v differentiated by u gives g_r . v for all rows at once: one
// backward pass per direction, over row chunks to bound the graph's memory.
struct MlpRowGradients::Generic {
  MlpModel model;
  TorchData data;

  static constexpr Index kChunk = 2048;

  // Rows [begin, begin + n) against directions given per parameter of `wrt`.
  MatrixXd chunk_dot(Index begin, Index n, const std::vector<torch::Tensor>& wrt,
                     const std::vector<std::vector<torch::Tensor>>& dirs) const {
    const NetworkImpl& net = model.impl();
    torch::Tensor x = data.x.narrow(0, begin, n);
    RowTasks rows = mixed_rows(data.rows().task_of_row.narrow(0, begin, n));
    torch::Tensor losses = net.row_loss(net.outputs(x, rows), data.y.narrow(0, begin, n));
    torch::Tensor probe = torch::ones({n}, losses.options()).requires_grad_();
    auto g = gradient_or_zero((losses * probe).sum(), wrt, true, true);
    MatrixXd out(n, Index(dirs.size()));
    for (size_t j = 0; j < dirs.size(); ++j) {
      torch::Tensor dot = torch::zeros({}, losses.options());
      for (size_t i = 0; i < g.size(); ++i) dot = dot + (g[i] * dirs[j][i]).sum();
      out.col(Index(j)) = to_eigen(gradient_or_zero(dot, {probe})[0]);
    }
    return out;
  }

  MatrixXd dot(Index begin, Index n, const std::vector<torch::Tensor>& wrt,
               const std::vector<std::vector<torch::Tensor>>& dirs) const {
    MatrixXd out(n, Index(dirs.size()));
    for (Index c = 0; c < n; c += kChunk) {
      const Index rows = std::min(kChunk, n - c);
      out.middleRows(c, rows) = chunk_dot(begin + c, rows, wrt, dirs);
    }
    return out;
  }
};

MlpRowGradients::~MlpRowGradients() = default;

MlpRowGradients::MlpRowGradients(const MlpModel& model, const Dataset& data) {
  TorchData t = to_torch(data);
  task_begin_ = data.task_begin;
  rows_ = data.num_rows();
  const MlpImpl* mlp = as_mlp(model.impl());
  if (!mlp) {
    generic_ = std::make_shared<Generic>(Generic{model, std::move(t)});
    return;
  }
  const MlpImpl& net = *mlp;
  LayerTrace trace = trace_forward(net, t.x, t.task_begin);
  std::vector<torch::Tensor> wrt = trace.preactivations;
  wrt.push_back(trace.outputs);
  // d(sum_r l_r)/dz_r = dl_r/dz_r: rows do not interact.
  auto deltas = torch::autograd::grad({net.row_loss(trace.outputs, t.y).sum()}, wrt);
  for (size_t l = 0; l < trace.inputs.size(); ++l) trunk_.push_back({to_eigen(trace.inputs[l]), to_eigen(deltas[l])});
  features_ = to_eigen(trace.features);
  head_delta_ = to_eigen(deltas.back());
}

namespace {
using RowMajorMap = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Directions for one linear layer, stacked for one product: W_j^T side by
// side (in x out*D) and the bias parts (out x D). Parameters are flattened as
// torch stores them: W (out x in, row-major), then b.
struct LayerDirections {
  MatrixXd weights, biases;
};

template <class GetBlock>
LayerDirections stack_directions(Index in, Index out, Index D, GetBlock block) {
  LayerDirections s{MatrixXd(in, out * D), MatrixXd(out, D)};
  for (Index j = 0; j < D; ++j) {
    const double* p = block(j);
    s.weights.middleCols(j * out, out) = RowMajorMap(p, out, in).transpose();
    s.biases.col(j) = Eigen::Map<const VectorXd>(p + out * in, out);
  }
  return s;
}

// out(r, j) += delta_r^T (W_j a_r + b_j), in row chunks (bounded memory, one chunk per thread).
void accumulate_layer(const Eigen::Ref<const MatrixXd>& input, const Eigen::Ref<const MatrixXd>& delta,
                      const LayerDirections& dirs, Eigen::Ref<MatrixXd> out) {
  const Index n = input.rows(), width = delta.cols(), D = dirs.biases.cols();
  constexpr Index kChunk = 2048;
  out.noalias() += delta * dirs.biases;
  const Index chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (Index c = 0; c < chunks; ++c) {
    const Index begin = c * kChunk, rows = std::min(kChunk, n - begin);
    MatrixXd moved = input.middleRows(begin, rows) * dirs.weights;  // W_j a_r for every j
    for (Index j = 0; j < D; ++j)
      out.block(begin, j, rows, 1) +=
          moved.middleCols(j * width, width).cwiseProduct(delta.middleRows(begin, rows)).rowwise().sum();
  }
}
}  // namespace

MatrixXd MlpRowGradients::dot(const std::vector<BlockVector>& dirs) const {
  const Index n = num_rows(), D = static_cast<Index>(dirs.size());
  MatrixXd out = MatrixXd::Zero(n, D);
  if (D == 0) return out;
  if (generic_) {
    const NetworkImpl& net = generic_->model.impl();
    std::vector<std::vector<torch::Tensor>> per_parameter;
    for (const auto& d : dirs) per_parameter.push_back(from_blocks(net, d));
    return generic_->dot(0, n, net.all_parameters(), per_parameter);
  }
  Index offset = 0;
  for (const Layer& layer : trunk_) {
    const Index in = layer.input.cols(), width = layer.delta.cols();
    accumulate_layer(layer.input, layer.delta,
                     stack_directions(in, width, D, [&](Index j) { return dirs[j].gamma.data() + offset; }), out);
    offset += width * in + width;
  }
  for (size_t k = 0; k + 1 < task_begin_.size(); ++k) {
    const Index begin = task_begin_[k], n_k = task_begin_[k + 1] - begin;
    if (n_k == 0) continue;
    accumulate_layer(features_.middleRows(begin, n_k), head_delta_.middleRows(begin, n_k),
                     stack_directions(features_.cols(), head_delta_.cols(), D,
                                      [&](Index j) { return dirs[j].theta[k].data(); }),
                     out.middleRows(begin, n_k));
  }
  return out;
}

MatrixXd MlpRowGradients::head_dot(int k, const MatrixXd& theta_dirs) const {
  const Index begin = task_begin_[k], n_k = task_begin_[k + 1] - begin, D = theta_dirs.cols();
  MatrixXd out = MatrixXd::Zero(n_k, D);
  if (n_k == 0 || D == 0) return out;
  if (generic_) {
    const auto& theta = generic_->model.impl().task_parameters(k);
    std::vector<std::vector<torch::Tensor>> per_parameter;
    for (Index j = 0; j < D; ++j) per_parameter.push_back(unflatten(theta_dirs.col(j), theta));
    return generic_->dot(begin, n_k, theta, per_parameter);
  }
  accumulate_layer(features_.middleRows(begin, n_k), head_delta_.middleRows(begin, n_k),
                   stack_directions(features_.cols(), head_delta_.cols(), D,
                                    [&](Index j) { return theta_dirs.col(j).data(); }),
                   out);
  return out;
}

}  // namespace mtif
