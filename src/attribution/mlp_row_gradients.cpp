#include "mtif/mlp_row_gradients.hpp"

#include <algorithm>

#include "../models/mlp_impl.hpp"

namespace mtif {

MlpRowGradients::MlpRowGradients(const MlpModel& model, const Dataset& data) {
  const MlpImpl& net = model.impl();
  TorchData t = to_torch(data);
  LayerTrace trace = trace_forward(net, t.x, t.task_begin);
  std::vector<torch::Tensor> wrt = trace.preactivations;
  wrt.push_back(trace.outputs);
  // d(sum_r l_r)/dz_r = dl_r/dz_r: rows do not interact.
  auto deltas = torch::autograd::grad({net.row_loss(trace.outputs, t.y).sum()}, wrt);
  for (size_t l = 0; l < trace.inputs.size(); ++l) trunk_.push_back({to_eigen(trace.inputs[l]), to_eigen(deltas[l])});
  features_ = to_eigen(trace.features);
  head_delta_ = to_eigen(deltas.back());
  task_begin_ = data.task_begin;
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
  accumulate_layer(features_.middleRows(begin, n_k), head_delta_.middleRows(begin, n_k),
                   stack_directions(features_.cols(), head_delta_.cols(), D,
                                    [&](Index j) { return theta_dirs.col(j).data(); }),
                   out);
  return out;
}

}  // namespace mtif
