#include "support/dense_reference.hpp"

namespace mtif::test {
namespace {
Index num_params(const Dataset& data) { return (data.num_tasks() + 1) * data.num_features(); }

VectorXd direction(const Dataset& data, Index i, int k) {
  const Index d = data.num_features();
  VectorXd u = VectorXd::Zero(num_params(data));
  u.segment(k * d, d) = data.X.row(i).transpose();
  u.tail(d) = data.X.row(i).transpose();
  return u;
}

MatrixXd penalty(const Dataset& data, const LinearConfig& c) {
  const Index d = data.num_features(), P = num_params(data);
  VectorXd diag(P);
  diag.head(P - d).setConstant(c.lambda_task);
  diag.tail(d).setConstant(c.lambda_shared);
  return diag.asDiagonal();
}
}  // namespace

DenseProblem dense_problem(const LinearModel& model, const Dataset& train) {
  const Index n = train.num_rows(), P = num_params(train);
  DenseProblem p;
  p.H = penalty(train, model.config);
  p.row_gradients.resize(P, n);
  p.row_directions.resize(P, n);
  p.row_curvature.resize(n);
  VectorXd f = model.predict(train);
  for (Index i = 0; i < n; ++i) {
    int k = train.task_of_row(i);
    VectorXd u = direction(train, i, k);
    double h = loss_curvature(model.config.loss, f(i), train.y(i));
    p.H += (h / double(train.task_rows(k))) * u * u.transpose();
    p.row_gradients.col(i) = loss_derivative(model.config.loss, f(i), train.y(i)) * u;
    p.row_directions.col(i) = u;
    p.row_curvature(i) = h;
    p.row_task.push_back(k);
  }
  return p;
}

VectorXd dense_task_target_gradient(const LinearModel& model, const Dataset& test, int k) {
  VectorXd a = VectorXd::Zero(num_params(test));
  VectorXd f = model.predict(test);
  for (Index i = test.task_begin[k]; i < test.task_begin[k + 1]; ++i)
    a += loss_derivative(model.config.loss, f(i), test.y(i)) * direction(test, i, k);
  return a / double(test.task_rows(k));
}

VectorXd dense_squared_fit(const Dataset& train, const LinearConfig& config, const VectorXd& weight) {
  MatrixXd H = penalty(train, config);
  VectorXd b = VectorXd::Zero(num_params(train));
  for (Index i = 0; i < train.num_rows(); ++i) {
    int k = train.task_of_row(i);
    VectorXd u = direction(train, i, k);
    double w = weight(i) / double(train.task_rows(k));
    H += w * u * u.transpose();
    b += w * train.y(i) * u;
  }
  return H.fullPivLu().solve(b);
}

LinearModel unstack(const VectorXd& w, const LinearModel& like) {
  LinearModel m = like;
  const Index d = like.gamma.size();
  for (int k = 0; k < like.num_tasks(); ++k) m.theta[k] = w.segment(k * d, d);
  m.gamma = w.tail(d);
  return m;
}

}  // namespace mtif::test
