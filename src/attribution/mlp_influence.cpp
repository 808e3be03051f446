#include "mtif/mlp_influence.hpp"

#include "../models/mlp_impl.hpp"

namespace mtif {

MlpTargets mlp_task_targets(const MlpModel& model, const Dataset& test) {
  const MlpImpl& net = model.impl();
  TorchData data = to_torch(test);
  torch::Tensor loss = net.row_loss(net.outputs(net.features(data.x), data.task_begin), data.y);
  auto params = net.all_parameters();
  MlpTargets out;
  for (int k = 0; k < test.num_tasks(); ++k) {
    const Index m = test.task_rows(k);
    if (m == 0) continue;
    torch::Tensor mean = loss.narrow(0, test.task_begin[k], m).mean();
    out.task.push_back(k);
    out.gradient.push_back(to_blocks(net, torch::autograd::grad({mean}, params, {}, true, false, true)));
  }
  return out;
}

namespace {
// Sum over outputs of dl/df * (J dir): the directional derivative of each row's loss.
VectorXd row_directional_derivative(const MlpCurvature& curvature, const BlockVector& dir) {
  return curvature.output_jvp(dir).cwiseProduct(curvature.output_loss_gradient()).rowwise().sum();
}
}  // namespace

InfluenceScores mlp_influence(const MlpModel& model, const Dataset& train, const MlpCurvature& curvature,
                              const BlockInverse& solver, const MlpTargets& targets, bool with_parts) {
  (void)model;
  const int K = train.num_tasks(), T = static_cast<int>(targets.task.size());
  const Index n = train.num_rows(), p = curvature.shared_size();
  // Target side: q_t = a_gamma - B_k^T A_k^-1 a_theta, then V = N^-1 Q.
  MatrixXd Q(p, T);
  std::vector<VectorXd> task_direction(T);
  for (int t = 0; t < T; ++t) {
    const int k = targets.task[t];
    task_direction[t] = solver.solve_task(k, targets.gradient[t].theta[k]);
    Q.col(t) = solver.partial_out(k, targets.gradient[t].theta[k], targets.gradient[t].gamma);
  }
  MatrixXd V = solver.solve_schur(Q);
  std::vector<MatrixXd> BV = solver.border_all(V);

  InfluenceScores out;
  out.total.resize(n, T);
  if (with_parts) {
    out.task_part.setZero(n, T);
    out.shared_part.resize(n, T);
  }
  out.train_task.resize(n);
  VectorXd row_scale(n);  // 1/n_l, stored order
  for (int l = 0; l < K; ++l)
    for (Index i = train.task_begin[l]; i < train.task_begin[l + 1]; ++i) {
      row_scale(i) = 1.0 / double(train.task_rows(l));
      out.train_task[train.file_row[i]] = l;
    }
  for (int t = 0; t < T; ++t) {
    // shared part = g_r . s_t with s_t = (theta_j: -A_j^-1 B_j v_t, gamma: v_t)
    BlockVector shared_dir;
    for (int j = 0; j < K; ++j) shared_dir.theta.push_back(-solver.solve_task(j, BV[j].col(t)));
    shared_dir.gamma = V.col(t);
    VectorXd shared = row_directional_derivative(curvature, shared_dir).cwiseProduct(row_scale);
    // task part = g_theta . A_k^-1 a_theta, only for rows of the target's own task
    const int k = targets.task[t];
    BlockVector own_dir;
    for (int j = 0; j < K; ++j) own_dir.theta.push_back(VectorXd::Zero(curvature.head_size(j)));
    own_dir.theta[k] = task_direction[t];
    own_dir.gamma = VectorXd::Zero(p);
    VectorXd task = row_directional_derivative(curvature, own_dir).cwiseProduct(row_scale);
    for (Index i = 0; i < n; ++i) {
      const bool own = train.task_of_row(i) == k;
      const Index row = train.file_row[i];
      out.total(row, t) = shared(i) + (own ? task(i) : 0.0);
      if (with_parts) {
        out.shared_part(row, t) = shared(i);
        if (own) out.task_part(row, t) = task(i);
      }
    }
  }
  return out;
}

}  // namespace mtif
