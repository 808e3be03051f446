#include "mtif/linear_influence.hpp"

#include <Eigen/QR>
#include <fmt/format.h>

#include <sys/mman.h>

#include <cstdint>
#include <stdexcept>

#include "mtif/linear_curvature.hpp"
#include "mtif/progress.hpp"

namespace mtif {

ScoreMode parse_score_mode(const std::string& name) {
  if (name == "first-order") return ScoreMode::FirstOrder;
  if (name == "exact") return ScoreMode::Exact;
  throw std::invalid_argument("unknown mode '" + name + "' (expected first-order or exact)");
}

std::string score_mode_name(ScoreMode mode) { return mode == ScoreMode::Exact ? "exact" : "first-order"; }

namespace {

// A factor F with F^T F = Z^T Z, with at most min(rows, cols) rows.
MatrixXd compact_factor(const MatrixXd& z) {
  if (z.rows() <= z.cols()) return z;
  Eigen::HouseholderQR<MatrixXd> qr(z);
  return qr.matrixQR().topRows(z.cols()).triangularView<Eigen::Upper>();
}

}  // namespace

Targets task_targets(const LinearModel& model, const Dataset& test) {
  VectorXd r = row_loss_derivatives(model, test);
  VectorXd h = row_loss_curvatures(model, test);
  Targets out;
  std::vector<VectorXd> grads;
  for (int k = 0; k < test.num_tasks(); ++k) {
    const Index m = test.task_rows(k);
    if (m == 0) continue;
    out.task.push_back(k);
    out.test_row.push_back(-1);
    grads.push_back(test.task_X(k).transpose() * r.segment(test.task_begin[k], m) / double(m));
    MatrixXd z = (h.segment(test.task_begin[k], m) / double(m)).cwiseSqrt().asDiagonal() * test.task_X(k);
    out.curvature_factor.push_back(compact_factor(z));
  }
  out.gradient.resize(test.num_features(), out.size());
  for (int t = 0; t < out.size(); ++t) out.gradient.col(t) = grads[t];
  return out;
}

Targets row_targets(const LinearModel& model, const Dataset& test) {
  VectorXd r = row_loss_derivatives(model, test);
  VectorXd h = row_loss_curvatures(model, test);
  const Index m = test.num_rows();
  Targets out;
  out.task.resize(m);
  out.test_row.resize(m);
  out.gradient.resize(test.num_features(), m);
  out.curvature_factor.resize(m);
  for (Index i = 0; i < m; ++i) {
    const Index t = test.file_row[i];  // targets in file order
    out.task[t] = test.task_of_row(i);
    out.test_row[t] = t;
    out.gradient.col(t) = r(i) * test.X.row(i).transpose();
    out.curvature_factor[t] = std::sqrt(h(i)) * test.X.row(i);
  }
  return out;
}

VectorXd target_losses(const LinearModel& model, const Dataset& test, const Targets& targets) {
  VectorXd out(targets.size());
  if (!targets.rows()) {
    VectorXd per_task = task_mean_loss(model, test);
    for (int t = 0; t < targets.size(); ++t) out(t) = per_task(targets.task[t]);
    return out;
  }
  VectorXd f = model.predict(test);
  for (Index i = 0; i < test.num_rows(); ++i) out(test.file_row[i]) = loss_value(model.config.loss, f(i), test.y(i));
  return out;
}

namespace {

// Everything about train task l that the per-row formulas need.
struct TrainBlock {
  MatrixXd A_inv;  // A_l^-1
  MatrixXd P;      // I - B_l^T A_l^-1: maps a row's gradient direction to p_r (mtif-math.md 3)
};

TrainBlock train_block(const BlockInverse& solver, int l, Index d) {
  TrainBlock b;
  b.A_inv = solver.solve_task(l, MatrixXd::Identity(d, d));
  b.P = solver.partialling_matrix(l, d);
  return b;
}

// Asks the kernel for 2 MB pages on a large, not yet touched matrix: first
// writes to fresh 4 KB pages dominated the scoring time (measured 0.15 s ->
// 0.05 s for 10^7 scores). Only advice: ignored where unsupported.
void advise_huge_pages(ScoreMatrix& m) {
  constexpr uintptr_t kHuge = 2u << 20;
  auto begin = reinterpret_cast<uintptr_t>(m.data());
  uintptr_t end = begin + sizeof(double) * static_cast<uintptr_t>(m.size());
  uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = end & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

class LinearScorer {
 public:
  LinearScorer(const LinearModel& model, const Dataset& train, const BlockInverse& solver, const Targets& targets,
               ScoreMode mode, bool with_parts)
      : model_(model),
        train_(train),
        solver_(solver),
        targets_(targets),
        mode_(mode),
        with_parts_(with_parts),
        d_(train.num_features()) {}

  InfluenceScores run() {
    const Index n = train_.num_rows();
    const int T = targets_.size();
    out_.mode = mode_;
    out_.total.resize(n, T);  // every row is written by exactly one task
    advise_huge_pages(out_.total);
    if (with_parts_) {
      out_.task_part.resize(n, T);
      out_.shared_part.resize(n, T);
    }
    out_.train_task.resize(n);
    if (mode_ == ScoreMode::Exact) out_.leverage.setZero(n);
    derivative_ = row_loss_derivatives(model_, train_);
    curvature_ = row_loss_curvatures(model_, train_);
    prepare_targets();
    const int K = train_.num_tasks();
    std::string error;
    Progress progress("rows scored", n);
#pragma omp parallel
    {
      MatrixXd workspace;  // per thread, reused across tasks: avoids a fresh large buffer per task
#pragma omp for schedule(dynamic)
      for (int l = 0; l < K; ++l) {
        try {
          score_task(l, workspace);
          progress.add(train_.task_rows(l));
        } catch (const std::exception& e) {  // exceptions must not leave an OpenMP region
#pragma omp critical
          error = e.what();
        }
      }
    }
    if (!error.empty()) throw std::runtime_error(error);
    return std::move(out_);
  }

 private:
  // q_t = a_t - B_k^T A_k^-1 a_t for every target, then V = N^-1 Q in one solve.
  void prepare_targets() {
    const int K = train_.num_tasks();
    const int T = targets_.size();
    targets_of_task_.assign(K, {});
    for (int t = 0; t < T; ++t) targets_of_task_[targets_.task[t]].push_back(t);
    A_inv_a_.resize(d_, T);
    MatrixXd Q(d_, T);
    for (int k = 0; k < K; ++k) {
      const auto& ts = targets_of_task_[k];
      if (ts.empty()) continue;
      MatrixXd a(d_, ts.size());
      for (size_t j = 0; j < ts.size(); ++j) a.col(j) = targets_.gradient.col(ts[j]);
      MatrixXd solved = solver_.solve_task(k, a);
      MatrixXd q = solver_.partial_out(k, a, a);
      for (size_t j = 0; j < ts.size(); ++j) {
        A_inv_a_.col(ts[j]) = solved.col(j);
        Q.col(ts[j]) = q.col(j);
      }
    }
    V_ = solver_.solve_schur(Q);
    if (mode_ == ScoreMode::Exact) prepare_second_order();
  }

  // For the change of V_t to second order: with Delta gamma = c r s_r,
  // Delta w_k = D_k Delta gamma (+ c r A_l^-1 x when k = l), D_k = I - A_k^-1 B_k,
  // and the loss change adds 1/2 |F_t Delta w_k|^2.
  void prepare_second_order() {
    const int K = train_.num_tasks();
    std::vector<MatrixXd> D(K);
    for (int k = 0; k < K; ++k)
      if (!targets_of_task_[k].empty())
        D[k] = solver_.partialling_matrix(k, d_).transpose();  // I - A_k^-1 B_k
    factor_offset_.assign(targets_.size() + 1, 0);
    for (int t = 0; t < targets_.size(); ++t)
      factor_offset_[t + 1] = factor_offset_[t] + targets_.curvature_factor[t].rows();
    G_all_t_.resize(d_, factor_offset_.back());
    for (int t = 0; t < targets_.size(); ++t)
      G_all_t_.middleCols(factor_offset_[t], targets_.curvature_factor[t].rows()) =
          (targets_.curvature_factor[t] * D[targets_.task[t]]).transpose();
  }

  void score_task(int l, MatrixXd& workspace) {
    const Index n_l = train_.task_rows(l);  // rows held here
    if (n_l == 0) return;
    const double norm = double(train_.task_n(l));  // n_l of the objective (all processes)
    const Index begin = train_.task_begin[l];
    auto X = train_.task_X(l);
    TrainBlock block = train_block(solver_, l, d_);
    // Per-row scale: r / n_l (first order) or r / (n_l - h lev) (exact, 3.2).
    VectorXd scale = derivative_.segment(begin, n_l) / norm;
    MatrixXd S;  // rows s_r = N^-1 P_l x_r (exact mode)
    if (mode_ == ScoreMode::Exact) {
      MatrixXd E = solver_.solve_schur(block.P);  // N^-1 P_l
      MatrixXd M = block.A_inv + block.P.transpose() * E;
      VectorXd lev = (X * M).cwiseProduct(X).rowwise().sum();
      for (Index i = 0; i < n_l; ++i) {
        double h_lev = curvature_(begin + i) * lev(i);
        double denominator = norm - h_lev;
        // Other losses: the one-step Newton approximation, which a refit would not reproduce anyway.
        // With positive lambdas a removal never makes the Hessian singular, so for the squared
        // loss a denominator at or below zero is rounding near unit leverage: the refit decides.
        const bool near_unit = denominator < kRefitGap * norm && model_.config.loss == LossKind::Squared;
        if (!(denominator > 0) && !near_unit)
          throw std::runtime_error(fmt::format("row {} has leverage {:.6g} >= n = {}: its removal makes the Hessian "
                                               "singular; raise the lambdas",
                                               train_.file_row[begin + i], h_lev, norm));
        scale(i) = near_unit ? refit_scale(begin + i, norm) : derivative_(begin + i) / denominator;
        out_.leverage(train_.file_row[begin + i]) = h_lev / norm;
      }
      S = X * E.transpose();
    }
    MatrixXd W = block.P.transpose() * V_;  // d x T: p_r^T v_t = r x^T W
    // Row-major blocks, so copying a row into the file-order output is contiguous.
    ScoreMatrix shared(n_l, targets_.size());
    shared.noalias() = X * W;
    shared = scale.asDiagonal() * shared;
    ScoreMatrix total = shared;
    ScoreMatrix task;
    if (with_parts_) task.setZero(n_l, targets_.size());
    for (int t : targets_of_task_[l]) {
      VectorXd own = scale.cwiseProduct(X * A_inv_a_.col(t));
      total.col(t) += own;
      if (with_parts_) task.col(t) = own;
    }
    if (mode_ == ScoreMode::Exact) add_second_order(l, X, block, S, scale, total, workspace);
    for (Index i = 0; i < n_l; ++i) {
      const Index row = train_.file_row[begin + i];
      out_.train_task[row] = l;
      out_.total.row(row) = total.row(i);
      if (with_parts_) {
        out_.task_part.row(row) = task.row(i);
        out_.shared_part.row(row) = shared.row(i);
      }
    }
  }

  // Near unit leverage, r / (n_l - h lev) divides a residual by a
  // difference of nearly equal numbers: each keeps only the digits above
  // eps cond(H) / (1 - leverage), far fewer than a refit has (sweep seeds
  // 63, 129, 166). Below this gap (3 digits lost) the squared loss takes
  // the scale from a refit without the row instead: r / (n_l - h lev) =
  // l'(f_without_r(x_r)) / n_l, the leave-one-out residual (mtif-math.md 3.2).
  static constexpr double kRefitGap = 1e-3;
  // Each such row costs one fit; past this many, exact mode refuses.
  static constexpr long kMaxRefits = 1000;

  double refit_scale(Index r, double norm) {
    const Index file_row = train_.file_row[r];
    for (int k = 0; k < train_.num_tasks(); ++k)
      if (train_.task_n(k) != train_.task_rows(k))
        throw std::runtime_error(fmt::format(
            "train row {} has leverage within {:g} of 1: exact mode would refit without it, which needs all rows in "
            "one process; run without MPI or raise the lambdas",
            file_row, kRefitGap));
    long count;
#pragma omp atomic capture
    count = ++refits_;
    if (count > kMaxRefits)
      throw std::runtime_error(fmt::format(
          "more than {} train rows (row {} among them) have leverage within {:g} of 1: exact mode would refit "
          "without each of them; raise the lambdas, or use 'mtif loo' on chosen rows",
          kMaxRefits, file_row, kRefitGap));
    VectorXd weight = VectorXd::Ones(train_.num_rows());
    weight(r) = 0;
    LinearModel refit = fit_linear(train_, model_.config, &weight, &model_);
    if (!refit.report.converged)
      throw std::runtime_error(fmt::format("the refit without train row {} (leverage within {:g} of 1) {}", file_row,
                                           kRefitGap, describe(refit.report)));
    const int l = train_.task_of_row(r);
    const double f = train_.X.row(r).dot(refit.task_weights(l));
    return loss_derivative(model_.config.loss, f, train_.y(r)) / norm;
  }

  template <typename XBlock>
  void add_second_order(int l, const XBlock& X, const TrainBlock& block, const MatrixXd& S, const VectorXd& scale,
                        ScoreMatrix& total, MatrixXd& Y) const {
    const Index n_l = X.rows();
    constexpr Index kChunk = 256;
    // One target at a time: the chunk x rank block Y stays in cache.
    for (Index start = 0; start < n_l; start += kChunk) {
      const Index rows = std::min(kChunk, n_l - start);
      const auto S_chunk = S.middleRows(start, rows);
      const VectorXd half_scale_sq = 0.5 * scale.segment(start, rows).array().square().matrix();
      std::vector<char> own(targets_.size(), 0);
      for (int t : targets_of_task_[l]) own[t] = 1;
      for (int t = 0; t < targets_.size(); ++t) {
        const Index width = factor_offset_[t + 1] - factor_offset_[t];
        Y.resize(rows, width);
        Y.noalias() = S_chunk * G_all_t_.middleCols(factor_offset_[t], width);
        if (own[t]) Y.noalias() += X.middleRows(start, rows) * (targets_.curvature_factor[t] * block.A_inv).transpose();
        total.col(t).segment(start, rows) += half_scale_sq.cwiseProduct(Y.rowwise().squaredNorm());
      }
    }
  }

  const LinearModel& model_;
  const Dataset& train_;
  const BlockInverse& solver_;
  const Targets& targets_;
  ScoreMode mode_;
  bool with_parts_;
  Index d_;
  VectorXd derivative_, curvature_;
  std::vector<std::vector<int>> targets_of_task_;
  MatrixXd A_inv_a_, V_, G_all_t_;  // G_all_t_: d x (sum of ranks), factor F_t D_k of each target, transposed
  std::vector<Index> factor_offset_;
  long refits_ = 0;  // rows scored through a refit (refit_scale)
  InfluenceScores out_;
};

}  // namespace

InfluenceScores linear_influence(const LinearModel& model, const Dataset& train, const BlockInverse& solver,
                                 const Targets& targets, ScoreMode mode, bool with_parts) {
  return LinearScorer(model, train, solver, targets, mode, with_parts).run();
}

MatrixXd sum_by_source_task(const InfluenceScores& scores, int num_tasks) {
  MatrixXd out = MatrixXd::Zero(num_tasks, scores.total.cols());
  for (Index r = 0; r < scores.total.rows(); ++r) out.row(scores.train_task[r]) += scores.total.row(r);
  return out;
}

}  // namespace mtif
