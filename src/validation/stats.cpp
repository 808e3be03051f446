#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "mtif/validation.hpp"

namespace mtif {

double pearson(const VectorXd& a, const VectorXd& b) {
  if (a.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  VectorXd ca = a.array() - a.mean();
  VectorXd cb = b.array() - b.mean();
  double denom = ca.norm() * cb.norm();
  return denom > 0 ? ca.dot(cb) / denom : std::numeric_limits<double>::quiet_NaN();
}

VectorXd average_ranks(const VectorXd& v) {
  std::vector<Index> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](Index i, Index j) { return v(i) < v(j); });
  VectorXd ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v(order[j + 1]) == v(order[i])) ++j;
    double rank = 0.5 * double(i + j);  // ties share their average rank
    for (size_t m = i; m <= j; ++m) ranks(order[m]) = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman(const VectorXd& a, const VectorXd& b) { return pearson(average_ranks(a), average_ranks(b)); }

namespace {
Agreement agreement(const std::vector<double>& p, const std::vector<double>& a) {
  Agreement g;
  g.count = static_cast<Index>(p.size());
  if (p.empty()) {
    g.pearson = g.spearman = std::numeric_limits<double>::quiet_NaN();
    return g;
  }
  VectorXd vp = Eigen::Map<const VectorXd>(p.data(), p.size());
  VectorXd va = Eigen::Map<const VectorXd>(a.data(), a.size());
  g.pearson = pearson(vp, va);
  g.spearman = spearman(vp, va);
  g.max_abs_error = (vp - va).cwiseAbs().maxCoeff();
  double scale = va.cwiseAbs().maxCoeff();
  g.max_rel_error = scale > 0 ? g.max_abs_error / scale : g.max_abs_error;
  return g;
}
}  // namespace

AgreementSplit compare_scores(const MatrixXd& predicted, const MatrixXd& actual, const std::vector<int>& row_task,
                              const std::vector<int>& target_task) {
  std::vector<double> p_all, a_all, p_in, a_in, p_out, a_out;
  for (Index r = 0; r < predicted.rows(); ++r)
    for (Index t = 0; t < predicted.cols(); ++t) {
      bool within = row_task[r] == target_task[t];
      (within ? p_in : p_out).push_back(predicted(r, t));
      (within ? a_in : a_out).push_back(actual(r, t));
      p_all.push_back(predicted(r, t));
      a_all.push_back(actual(r, t));
    }
  return {agreement(p_all, a_all), agreement(p_in, a_in), agreement(p_out, a_out)};
}

}  // namespace mtif
