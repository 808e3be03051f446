#include "mtif/linear_curvature.hpp"

namespace mtif {

VectorXd row_loss_derivatives(const LinearModel& model, const Dataset& data) {
  VectorXd f = model.predict(data);
  VectorXd out(f.size());
  for (Index i = 0; i < f.size(); ++i) out(i) = loss_derivative(model.config.loss, f(i), data.y(i));
  return out;
}

VectorXd row_loss_curvatures(const LinearModel& model, const Dataset& data) {
  if (model.config.loss == LossKind::Squared) return VectorXd::Ones(data.num_rows());
  VectorXd f = model.predict(data);
  VectorXd out(f.size());
  for (Index i = 0; i < f.size(); ++i) out(i) = loss_curvature(model.config.loss, f(i), data.y(i));
  return out;
}

MatrixXd task_gram(const Dataset& data, int k, const VectorXd& row_weight) {
  const Index d = data.num_features();
  MatrixXd gram = MatrixXd::Zero(d, d);
  const Index n_k = data.task_rows(k);
  if (n_k == 0) return gram;
  const double scale = 1.0 / static_cast<double>(data.task_n(k));
  // sqrt(w) X_k, then a symmetric rank-n_k update (SYRK) of the lower half.
  MatrixXd scaled = row_weight.segment(data.task_begin[k], n_k).cwiseMax(0.0).cwiseSqrt().asDiagonal() * data.task_X(k);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose(), scale);
  gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  return gram;
}

BlockHessian linear_block_hessian(const LinearModel& model, const Dataset& train, const VectorXd* sample_weight,
                                  const RowSum* rows) {
  const int K = train.num_tasks();
  const Index d = train.num_features();
  VectorXd weight = row_loss_curvatures(model, train);
  if (sample_weight) weight = weight.cwiseProduct(*sample_weight);
  BlockHessian h;
  h.A.resize(K);
  h.B.resize(K);
  h.C_task.resize(K);
  h.C = model.config.lambda_shared * MatrixXd::Identity(d, d);
  h.task_ridge = model.config.lambda_task;  // A_k = B_k + lambda_task I
  h.shared_ridge = model.config.lambda_shared;
  std::vector<MatrixXd> gram(K);
#pragma omp parallel for schedule(dynamic)
  for (int k = 0; k < K; ++k) gram[k] = task_gram(train, k, weight);
  sum_over_rows(rows, gram);
  for (int k = 0; k < K; ++k) {
    h.A[k] = gram[k] + model.config.lambda_task * MatrixXd::Identity(d, d);
    h.B[k] = gram[k];
    h.C_task[k] = std::move(gram[k]);
  }
  for (int k = 0; k < K; ++k) h.C += h.C_task[k];
  return h;
}

BlockVector linear_gradient(const LinearModel& model, const Dataset& train, const VectorXd* sample_weight,
                            const RowSum* rows) {
  const int K = train.num_tasks();
  VectorXd r = row_loss_derivatives(model, train);
  if (sample_weight) r = r.cwiseProduct(*sample_weight);
  BlockVector g;
  g.theta.resize(K);
  g.gamma = model.config.lambda_shared * model.gamma;
  std::vector<VectorXd> data_term(K, VectorXd::Zero(train.num_features()));
  for (int k = 0; k < K; ++k) {
    const Index n_k = train.task_rows(k);
    if (n_k > 0)
      data_term[k] = train.task_X(k).transpose() * r.segment(train.task_begin[k], n_k) / double(train.task_n(k));
  }
  sum_over_rows(rows, data_term);
  for (int k = 0; k < K; ++k) {
    g.theta[k] = data_term[k] + model.config.lambda_task * model.theta[k];
    g.gamma += data_term[k];
  }
  return g;
}

}  // namespace mtif
