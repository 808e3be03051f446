#include "mtif/mlp_influence.hpp"

#include <fmt/format.h>

#include "../models/mlp_impl.hpp"

namespace mtif {

MlpTargets mlp_task_targets(const MlpModel& model, const Dataset& test) {
  const NetworkImpl& net = model.impl();
  TorchData data = to_torch(test);
  torch::Tensor loss = net.row_loss(net.outputs(data.x, data.rows()), data.y);
  auto params = net.all_parameters();
  MlpTargets out;
  for (int k = 0; k < test.num_tasks(); ++k) {
    const Index m = test.task_rows(k);
    if (m == 0) continue;
    torch::Tensor mean = loss.narrow(0, test.task_begin[k], m).mean();
    out.task.push_back(k);
    out.gradient.push_back(to_blocks(net, gradient_or_zero(mean, params)));
  }
  return out;
}

MlpTargets mlp_row_targets(const MlpModel& model, const Dataset& test) {
  const NetworkImpl& net = model.impl();
  TorchData data = to_torch(test);
  torch::Tensor loss = net.row_loss(net.outputs(data.x, data.rows()), data.y);
  auto params = net.all_parameters();
  MlpTargets out;
  out.task.resize(test.num_rows());
  out.gradient.resize(test.num_rows());
  out.test_row.resize(test.num_rows());
  for (Index i = 0; i < test.num_rows(); ++i) {  // stored row i is file row test.file_row[i]
    const Index row = test.file_row[i];
    out.task[row] = test.task_of_row(i);
    out.test_row[row] = row;
    out.gradient[row] = to_blocks(net, gradient_or_zero(loss[i], params));
  }
  return out;
}

VectorXd mlp_target_losses(const MlpModel& model, const Dataset& test, const MlpTargets& targets) {
  if (!targets.test_row.empty()) {  // row targets: each test row's own loss
    const VectorXd row_loss = model.row_losses(test);
    const std::vector<Index> stored = test.stored_row_of_file_row();
    VectorXd out(targets.test_row.size());
    for (size_t t = 0; t < targets.test_row.size(); ++t) out(Index(t)) = row_loss(stored[targets.test_row[t]]);
    return out;
  }
  VectorXd per_task = model.task_mean_loss(test), out(targets.task.size());
  for (size_t t = 0; t < targets.task.size(); ++t) out(t) = per_task(targets.task[t]);
  return out;
}

InfluenceScores mlp_influence(const MlpModel& model, const Dataset& train, const MlpRowGradients& rows,
                              const BlockInverse& solver, const MlpTargets& targets, bool with_parts) {
  const int K = train.num_tasks(), T = static_cast<int>(targets.task.size());
  const Index n = train.num_rows(), p = model.shared_size();
  // Target side: q_t = a_gamma - B_k^T A_k^-1 a_theta, then V = N^-1 Q.
  MatrixXd Q(p, T);
  std::vector<VectorXd> task_direction(T);
  for (int t = 0; t < T; ++t) {
    const int k = targets.task[t];
    task_direction[t] = solver.solve_task(k, targets.gradient[t].theta[k]);
    Q.col(t) = solver.partial_out(k, targets.gradient[t].theta[k], targets.gradient[t].gamma);
  }
  std::vector<std::string> names(T);
  for (int t = 0; t < T; ++t) {
    const std::string task = "task '" + train.task_names[targets.task[t]] + "'";
    names[t] = targets.test_row.empty() ? task : fmt::format("test row {} ({})", targets.test_row[t], task);
  }
  solver.name_next_columns(std::move(names));
  MatrixXd V = solver.solve_schur(Q);
  std::vector<MatrixXd> BV = solver.border_all(V);
  // shared part = g_r . s_t with s_t = (theta_j: -A_j^-1 B_j v_t, gamma: v_t), all targets at once
  std::vector<BlockVector> shared_dirs(T);
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < K; ++j) shared_dirs[t].theta.push_back(-solver.solve_task(j, BV[j].col(t)));
    shared_dirs[t].gamma = V.col(t);
  }
  MatrixXd shared = rows.dot(shared_dirs);
  // task part = g_theta . A_k^-1 a_theta, only for rows of the target's own task
  MatrixXd task = MatrixXd::Zero(n, T);
  for (int t = 0; t < T; ++t) {
    const int k = targets.task[t];
    task.block(train.task_begin[k], t, train.task_rows(k), 1) = rows.head_dot(k, task_direction[t]);
  }

  InfluenceScores out;
  out.total.resize(n, T);
  if (with_parts) {
    out.task_part.resize(n, T);
    out.shared_part.resize(n, T);
  }
  out.train_task.resize(n);
  for (int l = 0; l < K; ++l)
    for (Index i = train.task_begin[l]; i < train.task_begin[l + 1]; ++i) {
      const double scale = 1.0 / double(train.task_rows(l));  // removing a row of task l: weight 1/n_l
      const Index row = train.file_row[i];
      out.train_task[row] = l;
      out.total.row(row) = scale * (shared.row(i) + task.row(i));
      if (with_parts) {
        out.shared_part.row(row) = scale * shared.row(i);
        out.task_part.row(row) = scale * task.row(i);
      }
    }
  return out;
}

}  // namespace mtif
