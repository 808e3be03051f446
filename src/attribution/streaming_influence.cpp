#include "mtif/streaming.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "mtif/output.hpp"
#include "mtif/score_files.hpp"

namespace mtif {

size_t parse_memory_size(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument(
        fmt::format("--memory '{}': {} (expected a size like 2G, 512M, 64K or a byte count)", text, why));
  };
  if (text.empty()) throw bad("empty");
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw bad("not a number");
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();  // "2GB", "2GiB" read as 2G
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  double scale = 1;
  if (unit.empty()) scale = 1;
  else if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else throw bad("unknown unit '" + text.substr(used) + "'");
  if (!std::isfinite(value) || value <= 0) throw bad("must be positive");
  const double bytes = value * scale;
  if (bytes > 1e18) throw bad("too large");
  if (bytes < 1) throw bad("less than one byte");
  return static_cast<size_t>(bytes);
}

size_t bytes_per_chunk_row(Index d, int T, size_t csv_line_bytes) {
  // X (+1 intercept), the raw values read (.npy bytes or parsed CSV values),
  // gathered task rows and U (d doubles each); y, scale, order, task id, line
  // number; scores (8 T) and their float32 copy (4 T). CSV: the block's text,
  // counted twice (a growing string may hold up to twice its length).
  return static_cast<size_t>(8 * (d + 1) * 4 + 12 * T + 64 + 2 * csv_line_bytes);
}

// ------------------------------------------------------------ reading chunks

namespace {

void append_intercept(NpyRows& X, bool intercept) {
  if (!intercept) return;
  NpyRows with(X.rows(), X.cols() + 1);
  with.leftCols(X.cols()) = X;
  with.col(X.cols()).setOnes();
  X.swap(with);
}

Index read_npy_chunks(const RowSource& source, Index chunk_rows, Index row_begin, Index row_end,
                      const std::vector<std::string>& task_names, const std::function<void(RowChunk&)>& on_chunk) {
  const auto file = [&](const char* name) { return (std::filesystem::path(source.npy_dir) / name).string(); };
  NpyHeader xh = read_npy_header(file("X.npy"));
  if (xh.kind != 'f' || xh.shape.size() != 2)
    throw DataError(fmt::format("{}: features must be a 2-D float32 or float64 array (got shape {})", xh.path,
                                xh.shape_text()));
  const Index n = xh.rows();
  NpyHeader yh = read_npy_header(file("y.npy"));
  NpyHeader th = read_npy_header(file("task.npy"));
  for (const NpyHeader* h : {&yh, &th})
    if (h->cols() != 1 || h->rows() != n)
      throw DataError(fmt::format("{}: shape {} does not match the {} rows of {} (expected ({},) or ({}, 1))", h->path,
                                  h->shape_text(), n, xh.path, n, n));
  if (th.kind == 'f') throw DataError(th.path + ": task ids must be an integer array (e.g. np.int32)");
  const Index end = row_end < 0 ? n : std::min(row_end, n);
  const double max_id = task_names.empty() ? 1e7 : double(task_names.size());
  RowChunk chunk;
  for (Index b = row_begin; b < end; b += chunk_rows) {
    const Index e = std::min(end, b + chunk_rows);
    chunk.first_row = b;
    chunk.X = read_npy_rows(xh, b, e);
    for (Index i = 0; i < chunk.X.rows(); ++i)
      for (Index j = 0; j < chunk.X.cols(); ++j)
        if (!std::isfinite(chunk.X(i, j)))
          throw DataError(fmt::format("{}: row {}, column {}: value {} (features and targets must be finite)",
                                      xh.path, b + i, j, chunk.X(i, j)));
    append_intercept(chunk.X, source.intercept);
    chunk.y = read_npy_rows(yh, b, e).col(0);
    for (Index i = 0; i < chunk.y.size(); ++i)
      if (!std::isfinite(chunk.y(i)))
        throw DataError(fmt::format("{}: row {}: value {} (targets must be finite)", yh.path, b + i, chunk.y(i)));
    NpyRows ids = read_npy_rows(th, b, e);
    chunk.task.resize(e - b);
    for (Index i = 0; i < e - b; ++i) {
      const double v = ids(i, 0);
      if (v < 0 || v >= max_id)
        throw DataError(fmt::format("{}: row {}: task id {} is outside 0..{}", th.path, b + i, v,
                                    static_cast<long long>(max_id) - 1));
      chunk.task[i] = static_cast<int>(v);
    }
    on_chunk(chunk);
  }
  return n;
}

// Reads the CSV a block of lines at a time and parses each block on its own
// (header + lines, with the line numbers of the file in errors).
Index read_csv_chunks(const RowSource& source, Index chunk_rows, Index row_begin, Index row_end,
                      const std::vector<std::string>& task_names, const std::function<void(RowChunk&)>& on_chunk,
                      std::vector<std::string>* labels_out) {
  const std::string& path = source.csv_path;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!in) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::unordered_map<std::string, int> ids;
  std::vector<std::string> labels = task_names;
  for (size_t k = 0; k < labels.size(); ++k) ids.emplace(labels[k], static_cast<int>(k));
  const bool fixed = !task_names.empty();
  char* line = nullptr;
  size_t capacity = 0;
  std::unique_ptr<char, void (*)(void*)> line_owner(nullptr, &std::free);
  const auto read_line = [&](std::string& out) {
    ssize_t got = ::getline(&line, &capacity, in.get());
    line_owner.release();
    line_owner.reset(line);
    if (got < 0) return false;
    out.assign(line, static_cast<size_t>(got));
    return true;
  };
  std::string header;
  if (!read_line(header)) throw DataError(fmt::format("{}:1:1: empty file (expected a header line)", path));
  if (header.empty() || header.back() != '\n') header.push_back('\n');
  std::string text, one;
  Index train_rows = 0;  // training rows before this block
  long next_line = 2;    // file line of the next line read
  bool any = false;
  RowChunk chunk;
  const Index end = row_end < 0 ? std::numeric_limits<Index>::max() : row_end;
  for (bool more = true; more;) {
    text = header;
    const long first_line = next_line;
    Index lines = 0;
    while (lines < chunk_rows && (more = read_line(one))) {
      if (!one.empty() && one.back() != '\n') one.push_back('\n');
      text += one;
      ++next_line;
      ++lines;
    }
    if (lines == 0) break;
    bool blank = true;
    for (size_t c = header.size(); c < text.size() && blank; ++c) blank = std::isspace(static_cast<unsigned char>(text[c]));
    if (blank) continue;  // only blank lines: the parser wants a data row
    CsvOptions options = source.csv;
    options.line_offset = first_line - 2;
    ParsedCsv parsed = parse_csv(text, path, options);
    if (parsed.has_split && !parsed.test.y.empty())
      throw DataError(fmt::format("{}: has a '{}' column with test rows; streaming reads the test rows from --test",
                                  path, options.split_column));
    const RawRows& raw = parsed.train;
    const Index rows = static_cast<Index>(raw.y.size());
    const Index d = static_cast<Index>(raw.feature_names.size());
    any = any || rows > 0;
    // This process's rows of the block (MPI: a rank keeps [row_begin, row_end)).
    const Index lo = std::clamp(row_begin - train_rows, Index(0), rows);
    const Index hi = std::clamp(end - train_rows, Index(0), rows);
    std::vector<int> global(raw.task_names.size());
    for (size_t local = 0; local < raw.task_names.size(); ++local) {
      auto it = ids.find(raw.task_names[local]);
      if (it == ids.end()) {
        if (fixed)
          throw DataError(fmt::format("{}: task '{}' was not there when the file was first read (did it change?)",
                                      path, raw.task_names[local]));
        it = ids.emplace(raw.task_names[local], static_cast<int>(labels.size())).first;
        labels.push_back(raw.task_names[local]);
      }
      global[local] = it->second;
    }
    if (hi > lo) {
      chunk.first_row = train_rows + lo;
      chunk.feature_names = raw.feature_names;
      chunk.X = Eigen::Map<const NpyRows>(raw.values.data() + lo * d, hi - lo, d);
      append_intercept(chunk.X, source.intercept);
      chunk.y = Eigen::Map<const VectorXd>(raw.y.data() + lo, hi - lo);
      chunk.task.resize(hi - lo);
      for (Index i = lo; i < hi; ++i) chunk.task[i - lo] = global[raw.task[i]];
      on_chunk(chunk);
    }
    train_rows += rows;
  }
  if (!any) throw DataError(fmt::format("{}:2:1: no data rows after the header", path));
  if (labels_out) *labels_out = labels;
  return train_rows;
}

// Stable order of a chunk's rows by task, and the runs [runs[i], runs[i+1])
// of equal tasks in it: each run is one task's rows, handled as one block.
void order_by_task(const std::vector<int>& task, std::vector<Index>& order, std::vector<Index>& runs) {
  order.resize(task.size());
  std::iota(order.begin(), order.end(), Index(0));
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return task[a] < task[b]; });
  runs.clear();
  for (size_t i = 0; i < order.size(); ++i)
    if (i == 0 || task[order[i]] != task[order[i - 1]]) runs.push_back(static_cast<Index>(i));
  runs.push_back(static_cast<Index>(order.size()));
}

}  // namespace

Index read_row_chunks(const RowSource& source, Index chunk_rows, Index row_begin, Index row_end,
                      const std::vector<std::string>& task_names, const std::function<void(RowChunk&)>& on_chunk,
                      std::vector<std::string>* labels_out) {
  if (chunk_rows < 1) throw std::invalid_argument("chunk size must be at least one row");
  if (!source.npy_dir.empty()) return read_npy_chunks(source, chunk_rows, row_begin, row_end, task_names, on_chunk);
  return read_csv_chunks(source, chunk_rows, row_begin, row_end, task_names, on_chunk, labels_out);
}

// ------------------------------------------------------------ pass 1: sums

GramSums accumulate_gram(const RowSource& source, Index chunk_rows, const MpiWorld* world) {
  GramSums s;
  Index d = -1;
  std::vector<Index> order, runs;
  const auto grow = [&](int K) {  // task ids are learnt as rows arrive
    while (static_cast<int>(s.xtx.size()) < K) {
      s.xtx.push_back(MatrixXd::Zero(d, d));
      s.xty.push_back(VectorXd::Zero(d));
      s.n.push_back(0);
    }
    if (s.yty.size() < K) {
      const Index old = s.yty.size();
      s.yty.conservativeResize(K);
      s.yty.tail(K - old).setZero();
    }
  };
  const auto add_chunk = [&](RowChunk& c) {
    if (d < 0) d = c.X.cols();
    if (s.feature_names.empty()) s.feature_names = c.feature_names;  // CSV: the header's names
    if (c.rows() == 0) return;
    order_by_task(c.task, order, runs);
    grow(c.task[order.back()] + 1);
    // One task per run, so threads never add to the same sums; each task's
    // rows are added in file order whatever the thread count.
    const int num_runs = static_cast<int>(runs.size()) - 1;
#pragma omp parallel for schedule(dynamic)
    for (int r = 0; r < num_runs; ++r) {
      const Index a = runs[r], b = runs[r + 1];
      const int k = c.task[order[a]];
      NpyRows gathered(b - a, d);
      VectorXd gathered_y(b - a);
      for (Index i = a; i < b; ++i) {
        gathered.row(i - a) = c.X.row(order[i]);
        gathered_y(i - a) = c.y(order[i]);
      }
      s.xtx[k].selfadjointView<Eigen::Lower>().rankUpdate(gathered.transpose());
      s.xty[k].noalias() += gathered.transpose() * gathered_y;
      s.n[k] += b - a;
      s.yty(k) += gathered_y.squaredNorm();
    }
  };
  // Each rank reads its own rows; the row count comes from the file itself.
  Index begin = 0, end = -1;
  if (world) {
    // The total number of rows is needed before the range: .npy headers give it at once.
    Index total = 0;
    if (!source.npy_dir.empty()) {
      total = read_npy_header((std::filesystem::path(source.npy_dir) / "X.npy").string()).rows();
    } else {  // CSV: count the training rows once (every rank reads the file anyway)
      total = read_row_chunks(source, chunk_rows, 0, 0, {}, [](RowChunk&) {});
    }
    std::tie(begin, end) = world->row_range(total);
  }
  std::vector<std::string> labels;
  s.rows = read_row_chunks(source, chunk_rows, begin, end, {}, add_chunk, &labels);
  // Task count and feature count agree on every rank before the sums are combined.
  int K = static_cast<int>(s.xtx.size());
  if (!source.npy_dir.empty()) {
    const std::string tasks_txt = (std::filesystem::path(source.npy_dir) / "tasks.txt").string();
    if (std::filesystem::exists(tasks_txt)) {
      std::ifstream in(tasks_txt);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) throw DataError(fmt::format("{}:{}: empty task label", tasks_txt, labels.size() + 1));
        labels.push_back(line);
      }
      if (K > static_cast<int>(labels.size()))
        throw DataError(fmt::format("{}: task id {} has no label ({} labels)", tasks_txt, K - 1, labels.size()));
    }
  }
  if (world) {
    K = world->max(K);
    d = world->max(static_cast<int>(d));
  }
  if (d < 0) d = read_npy_header((std::filesystem::path(source.npy_dir) / "X.npy").string()).cols() + source.intercept;
  if (source.npy_dir.empty() ? false : labels.empty())
    for (int k = 0; k < K; ++k) labels.push_back(std::to_string(k));
  K = std::max(K, static_cast<int>(labels.size()));
  grow(K);
  for (auto& m : s.xtx) m.triangularView<Eigen::StrictlyUpper>() = m.transpose();
  if (world) {  // rank-order sums: identical on every rank
    std::vector<double> buffer;
    for (int k = 0; k < K; ++k) {
      buffer.insert(buffer.end(), s.xtx[k].data(), s.xtx[k].data() + s.xtx[k].size());
      buffer.insert(buffer.end(), s.xty[k].data(), s.xty[k].data() + d);
      buffer.push_back(s.yty(k));
      buffer.push_back(double(s.n[k]));
    }
    world->sum(buffer.data(), buffer.size());
    size_t at = 0;
    for (int k = 0; k < K; ++k) {
      s.xtx[k] = Eigen::Map<const MatrixXd>(buffer.data() + at, d, d);
      at += d * d;
      s.xty[k] = Eigen::Map<const VectorXd>(buffer.data() + at, d);
      at += d;
      s.yty(k) = buffer[at++];
      s.n[k] = static_cast<Index>(buffer[at++]);
    }
  }
  // CSV: number the tasks in the order mtif sorts labels (as the in-memory reader does).
  if (source.npy_dir.empty()) {
    std::vector<int> perm(labels.size());
    std::iota(perm.begin(), perm.end(), 0);
    std::sort(perm.begin(), perm.end(), [&](int a, int b) { return task_label_less(labels[a], labels[b]); });
    GramSums sorted = s;
    for (size_t k = 0; k < perm.size(); ++k) {
      sorted.xtx[k] = s.xtx[perm[k]];
      sorted.xty[k] = s.xty[perm[k]];
      sorted.yty(k) = s.yty(perm[k]);
      sorted.n[k] = s.n[perm[k]];
      sorted.task_names.push_back(labels[perm[k]]);
    }
    s = std::move(sorted);
  } else {
    s.task_names = labels;
  }
  const std::string where = source.npy_dir.empty() ? source.csv_path : source.npy_dir + "/task.npy";
  if (s.rows == 0) throw DataError(where + ": no training rows");
  for (int k = 0; k < K; ++k)
    if (s.n[k] == 0)
      throw DataError(fmt::format("{}: task '{}' (id {}) has no training rows", where, s.task_names[k], k));
  if (s.feature_names.empty()) {  // .npy: named as mtif generate names them
    const Index features = d - (source.intercept ? 1 : 0);
    for (Index j = 0; j < features; ++j) s.feature_names.push_back(fmt::format("x{}", j + 1));
  }
  if (source.intercept) s.feature_names.push_back("(intercept)");
  return s;
}

// ------------------------------------------------------------ fit from the sums

BlockHessian block_hessian_from_gram(const GramSums& sums, const LinearConfig& config) {
  const int K = static_cast<int>(sums.xtx.size());
  const Index d = sums.xtx.empty() ? 0 : sums.xtx[0].rows();
  BlockHessian h;
  h.C = config.lambda_shared * MatrixXd::Identity(d, d);
  h.task_ridge = config.lambda_task;  // A_k = B_k + lambda_task I
  h.shared_ridge = config.lambda_shared;
  for (int k = 0; k < K; ++k) {
    MatrixXd G = sums.xtx[k] / double(sums.n[k]);
    h.A.push_back(G + config.lambda_task * MatrixXd::Identity(d, d));
    h.B.push_back(G);
    h.C += G;
    h.C_task.push_back(std::move(G));
  }
  return h;
}

LinearModel fit_from_gram(const GramSums& sums, const LinearConfig& config) {
  if (config.loss != LossKind::Squared)
    throw std::invalid_argument("streaming (--memory) fits the squared loss only; the logistic loss runs in memory");
  const int K = static_cast<int>(sums.xtx.size());
  const Index d = sums.xtx[0].rows();
  LinearModel m;
  m.config = config;
  m.feature_names = sums.feature_names;
  m.task_names = sums.task_names;
  m.theta.assign(K, VectorXd::Zero(d));
  m.gamma = VectorXd::Zero(d);
  BlockSchurSolver solver(block_hessian_from_gram(sums, config), sums.task_names);
  // Gradient of sum_k (1/2n_k)|y_k - X_k w_k|^2 + penalties, from the sums.
  const auto gradient = [&](BlockVector& g) {
    g.theta.resize(K);
    g.gamma = config.lambda_shared * m.gamma;
    double worst = 0;
    for (int k = 0; k < K; ++k) {
      VectorXd data = (sums.xtx[k] * m.task_weights(k) - sums.xty[k]) / double(sums.n[k]);
      g.theta[k] = data + config.lambda_task * m.theta[k];
      g.gamma += data;
      worst = std::max(worst, g.theta[k].cwiseAbs().maxCoeff());
    }
    return std::max(worst, g.gamma.cwiseAbs().maxCoeff());
  };
  // The objective is quadratic: one Newton step from zero is the fit; a
  // second (iterative refinement) removes what rounding left, as fit_linear does.
  BlockVector g;
  for (int it = 0; it < 3; ++it) {
    m.report.gradient_max_abs = gradient(g);
    if (m.report.gradient_max_abs <= config.gradient_tolerance) break;
    BlockVector step = solver.apply(g);
    m.gamma -= step.gamma;
    for (int k = 0; k < K; ++k) m.theta[k] -= step.theta[k];
    m.report.iterations = it + 1;
  }
  m.report.gradient_max_abs = gradient(g);
  double objective = 0.5 * config.lambda_shared * m.gamma.squaredNorm();
  for (int k = 0; k < K; ++k) {
    const VectorXd w = m.task_weights(k);
    objective += 0.5 * (sums.yty(k) - 2 * w.dot(sums.xty[k]) + w.dot(sums.xtx[k] * w)) / double(sums.n[k]);
    objective += 0.5 * config.lambda_task * m.theta[k].squaredNorm();
  }
  m.report.objective = objective;
  m.report.stop = m.report.gradient_max_abs <= config.gradient_tolerance ? FitStop::GradientTolerance
                                                                         : FitStop::IterationLimit;
  m.report.converged = fit_converged(m.report, config.gradient_tolerance);
  return m;
}

Dataset read_streaming_test(const RowSource& source, const std::string& test_csv, const std::string& test_npy,
                            const GramSums& sums) {
  Dataset shape;  // the training set's tasks and features, no rows
  shape.task_names = sums.task_names;
  shape.feature_names = sums.feature_names;
  if (source.intercept) shape.feature_names.pop_back();
  Dataset test;
  if (!test_npy.empty()) {
    test = read_npy_dataset(test_npy, &shape);
  } else {
    if (test_csv.empty())
      throw std::invalid_argument("streaming reads the test rows from --test (or --test-npy), not from a split column");
    CsvOptions o = source.csv;
    test = read_with_tasks_of(test_csv, shape, o);
  }
  if (source.intercept) add_intercept(test);
  return test;
}

// ------------------------------------------------------------ pass 2: scores

StreamingScorer::StreamingScorer(const LinearModel& model, const BlockInverse& solver, const Targets& targets,
                                 const std::vector<Index>& task_n)
    : model_(model), task_n_(task_n) {
  const int K = model.num_tasks();
  const int T = targets.size();
  const Index d = model.gamma.size();
  own_targets_.assign(K, {});
  for (int t = 0; t < T; ++t) own_targets_[targets.task[t]].push_back(t);
  A_inv_a_.resize(d, T);
  MatrixXd Q(d, T);
  for (int k = 0; k < K; ++k) {
    const auto& ts = own_targets_[k];
    if (ts.empty()) continue;
    MatrixXd a(d, ts.size());
    for (size_t j = 0; j < ts.size(); ++j) a.col(j) = targets.gradient.col(ts[j]);
    MatrixXd solved = solver.solve_task(k, a);
    MatrixXd q = solver.partial_out(k, a, a);
    for (size_t j = 0; j < ts.size(); ++j) {
      A_inv_a_.col(ts[j]) = solved.col(j);
      Q.col(ts[j]) = q.col(j);
    }
  }
  V_ = solver.solve_schur(Q);
  Pt_.resize(K);
  for (int l = 0; l < K; ++l) {
    Pt_[l] = solver.partialling_matrix(l, d).transpose();
  }
}

void StreamingScorer::score(const RowChunk& c, ScoreMatrix& out) const {
  const Index n = c.rows(), d = c.X.cols();
  // Rows of one task together, so p_r = P_l x_r is one product per task.
  std::vector<Index> order, runs;
  order_by_task(c.task, order, runs);
  NpyRows U(n, d);  // shared by the threads below: each writes only its own rows
  VectorXd scale(n);
  const int num_runs = static_cast<int>(runs.size()) - 1;
#pragma omp parallel for schedule(dynamic)
  for (int run = 0; run < num_runs; ++run) {
    const Index a = runs[run], b = runs[run + 1];
    const int l = c.task[order[a]];
    NpyRows gathered(b - a, d);
    for (Index i = a; i < b; ++i) gathered.row(i - a) = c.X.row(order[i]);
    const VectorXd f = gathered * model_.task_weights(l);
    NpyRows U_task = gathered * Pt_[l];
    for (Index i = a; i < b; ++i) {
      const Index r = order[i];
      // Squared loss: dl/df = f - y; the objective weighs the row by 1/n_l.
      scale(r) = (f(i - a) - c.y(r)) / double(task_n_[l]);
      U.row(r) = scale(r) * U_task.row(i - a);
    }
  }
  out.resize(n, V_.cols());
  // Shared part p_r^T N^-1 q_t in blocks of rows, one block per thread at a
  // time (Eigen itself is built single-threaded here, EIGEN_DONT_PARALLELIZE).
  constexpr Index kBlock = 4096;
  const Index blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (Index blk = 0; blk < blocks; ++blk) {
    const Index r0 = blk * kBlock, rows = std::min(kBlock, n - r0);
    out.middleRows(r0, rows).noalias() = U.middleRows(r0, rows) * V_;
    for (Index r = r0; r < r0 + rows; ++r)  // task part, only for targets of the row's own task
      for (int t : own_targets_[c.task[r]]) out(r, t) += scale(r) * c.X.row(r).dot(A_inv_a_.col(t));
  }
}

void stream_scores(const RowSource& source, Index chunk_rows, const GramSums& sums, const StreamingScorer& scorer,
                   ScoreSink& sink, const MpiWorld* world) {
  Index begin = 0, end = sums.rows;
  if (world) std::tie(begin, end) = world->row_range(sums.rows);
  ScoreMatrix scores;
  read_row_chunks(source, chunk_rows, begin, end, sums.task_names, [&](RowChunk& c) {
    scorer.score(c, scores);
    sink.consume(c, scores);
  });
}

// ------------------------------------------------------------ sinks

namespace {

std::string npy_header(const char* descr, const std::string& shape) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape);
  size_t total = 10 + dict.size() + 1;  // magic, version, length, dict, '\n' -- padded to 64 bytes
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  return out + dict;
}

// A file of known size that several writers fill at offsets (pwrite), under a
// temporary name until rank 0 renames it: complete or absent.
class OffsetFile {
 public:
  OffsetFile(std::string path, const std::string& header, size_t data_bytes, const MpiWorld* world)
      : path_(std::move(path)), root_(!world || world->rank() == 0),
        temp_(path_, shared_tag(world)), header_bytes_(header.size()) {
    std::string error;
    if (root_) {
      try {
        fd_ = ::open(temp_.path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd_ < 0) throw std::runtime_error(fmt::format("{}: cannot write: {}", path_, std::strerror(errno)));
        write_at(0, header.data(), header.size());
        if (::ftruncate(fd_, static_cast<off_t>(header.size() + data_bytes)) != 0)
          throw std::runtime_error(fmt::format("{}: cannot size the file: {}", path_, std::strerror(errno)));
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    // The file exists before the other ranks open it; a failure on rank 0 is
    // thrown only after the barrier, so no rank is left waiting in it.
    if (world) world->barrier();
    if (!error.empty()) throw std::runtime_error(error);
    if (!root_) {
      fd_ = ::open(temp_.path().c_str(), O_WRONLY);
      if (fd_ < 0) throw std::runtime_error(fmt::format("{}: cannot write: {}", path_, std::strerror(errno)));
    }
  }
  ~OffsetFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!root_) temp_.release();  // rank 0 owns the name; it removes the file unless committed
  }
  void write_data(size_t offset, const void* data, size_t size) { write_at(header_bytes_ + offset, data, size); }
  void close_file() {
    if (fd_ >= 0 && ::close(fd_) != 0)
      throw std::runtime_error(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
    fd_ = -1;
  }
  void commit() { temp_.commit(); }  // rank 0, after every rank closed its descriptor

 private:
  void write_at(size_t offset, const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t done = ::pwrite(fd_, p, size, static_cast<off_t>(offset));
      if (done < 0 && errno == EINTR) continue;
      if (done <= 0) throw std::runtime_error(fmt::format("{}: write failed: {}", path_, std::strerror(errno)));
      p += done, offset += done, size -= done;
    }
  }
  // Every rank opens the one temporary: its name carries rank 0's process id.
  static std::string shared_tag(const MpiWorld* world) {
    if (!world) return "";
    return std::to_string(world->max(world->rank() == 0 ? static_cast<int>(::getpid()) : 0));
  }
  std::string path_;
  bool root_;
  TemporaryPath temp_;
  size_t header_bytes_;
  int fd_ = -1;
};

class NpyFloat32Sink : public ScoreSink {
 public:
  NpyFloat32Sink(const std::string& path, Index rows, const Targets& targets, const std::vector<std::string>& names,
                 nlohmann::json settings, const MpiWorld* world)
      : path_(path), T_(targets.size()),
        scores_(path, npy_header("<f4", fmt::format("({}, {})", rows, targets.size())),
                size_t(rows) * targets.size() * 4, world),
        tasks_(path + ".train_task.npy", npy_header("<i4", fmt::format("({},)", rows)), size_t(rows) * 4, world),
        sidecar_(std::move(settings)) {
    sidecar_["matrix"] = "loss_change_if_removed";
    sidecar_["dtype"] = "float32";
    sidecar_["shape"] = {rows, targets.size()};
    sidecar_["rows"] = "train rows in file order (train_row 0..n-1)";
    sidecar_["train_task"] = "task id of each row (index into 'tasks'): " + path + ".train_task.npy (int32)";
    sidecar_["tasks"] = names;
    std::vector<std::string> cols;
    for (int t = 0; t < targets.size(); ++t) cols.push_back(target_task_name(targets, t, names));
    sidecar_["columns"] = cols;
    sidecar_["sign"] = "positive: removing the row raises the target's loss (the row helps); negative: it hurts";
  }

  void consume(const RowChunk& c, const ScoreMatrix& s) override {
    buffer_.resize(static_cast<size_t>(s.size()));
    Eigen::Map<Eigen::VectorXf>(buffer_.data(), s.size()) = Eigen::Map<const VectorXd>(s.data(), s.size()).cast<float>();
    scores_.write_data(size_t(c.first_row) * T_ * 4, buffer_.data(), buffer_.size() * 4);
    ids_.assign(c.task.begin(), c.task.end());
    tasks_.write_data(size_t(c.first_row) * 4, ids_.data(), ids_.size() * 4);
  }

  void finish(const MpiWorld* world) override {
    scores_.close_file();
    tasks_.close_file();
    if (world) world->barrier();  // every rank's rows are in
    if (world && world->rank() != 0) return;
    write_json_file(path_ + ".json", sidecar_);
    tasks_.commit();
    scores_.commit();
  }

 private:
  std::string path_;
  int T_;
  OffsetFile scores_, tasks_;
  nlohmann::json sidecar_;
  std::vector<float> buffer_;
  std::vector<int32_t> ids_;
};

struct Ranked {
  double score;
  Index row;
  int task;
};

class TopKSink : public ScoreSink {
 public:
  TopKSink(const std::string& path, int k, const Targets& targets, const std::vector<std::string>& names)
      : path_(path), k_(k), targets_(targets), names_(names), helpful_(targets.size()), harmful_(targets.size()) {}

  void consume(const RowChunk& c, const ScoreMatrix& s) override {
    for (Index i = 0; i < s.rows(); ++i)
      for (int t = 0; t < s.cols(); ++t) offer(t, {s(i, t), c.first_row + i, c.task[i]});
  }

  void finish(const MpiWorld* world) override {
    if (world && world->size() > 1) merge_ranks(*world);
    if (world && world->rank() != 0) return;
    AtomicFile file(path_);
    fmt::memory_buffer buf;
    fmt::format_to(std::back_inserter(buf), "target_task{},kind,rank,train_row,train_task,loss_change_if_removed\n",
                   targets_.rows() ? ",target_row" : "");
    for (int t = 0; t < targets_.size(); ++t)
      for (auto [kind, heap] : {std::pair{"helpful", &helpful_[t]}, std::pair{"harmful", &harmful_[t]}}) {
        std::vector<Ranked> best = drain(*heap);
        for (size_t r = 0; r < best.size(); ++r) {
          fmt::format_to(std::back_inserter(buf), "{}", csv_quote(names_[targets_.task[t]]));
          if (targets_.rows()) fmt::format_to(std::back_inserter(buf), ",{}", targets_.test_row[t]);
          fmt::format_to(std::back_inserter(buf), ",{},{},{},{},{}\n", kind, r + 1, best[r].row,
                         csv_quote(names_[best[r].task]), best[r].score);
        }
      }
    file.write(buf);
    file.commit();
  }

 private:
  // Helpful: larger score first; harmful: smaller first; ties: lower row first.
  struct Better {
    bool helpful;
    bool operator()(const Ranked& a, const Ranked& b) const {
      if (a.score != b.score) return helpful ? a.score > b.score : a.score < b.score;
      return a.row < b.row;
    }
  };
  // The heap's top is the worst row kept, the one a better row replaces.
  using Heap = std::priority_queue<Ranked, std::vector<Ranked>, Better>;

  void offer(int t, const Ranked& r) {
    for (Heap* h : {&helpful_[t], &harmful_[t]}) {
      if (static_cast<int>(h->size()) < k_) {
        h->push(r);
      } else if (k_ > 0 && better(h == &helpful_[t], r, h->top())) {
        h->pop();
        h->push(r);
      }
    }
  }
  static bool better(bool helpful, const Ranked& a, const Ranked& b) { return Better{helpful}(a, b); }

  std::vector<Ranked> drain(Heap heap) const {
    std::vector<Ranked> out;
    for (; !heap.empty(); heap.pop()) out.push_back(heap.top());
    std::reverse(out.begin(), out.end());  // best first
    return out;
  }

  // Every rank's candidates to every rank (a sum of buffers where each rank
  // fills only its own slot), then the same selection over all of them.
  void merge_ranks(const MpiWorld& world) {
    const int T = targets_.size();
    const size_t per_rank = size_t(T) * 2 * k_ * 3;
    std::vector<double> buffer(per_rank * world.size(), 0.0);
    double* mine = buffer.data() + per_rank * world.rank();
    for (int t = 0; t < T; ++t)
      for (int side = 0; side < 2; ++side) {
        std::vector<Ranked> kept = drain(side == 0 ? helpful_[t] : harmful_[t]);
        for (size_t j = 0; j < kept.size(); ++j) {
          double* e = mine + ((size_t(t) * 2 + side) * k_ + j) * 3;
          e[0] = kept[j].score, e[1] = double(kept[j].row + 1), e[2] = kept[j].task;  // row + 1: 0 marks an empty slot
        }
      }
    world.sum(buffer.data(), buffer.size());
    for (int t = 0; t < T; ++t) helpful_[t] = Heap(Better{true}), harmful_[t] = Heap(Better{false});
    for (int r = 0; r < world.size(); ++r)
      for (int t = 0; t < T; ++t)
        for (int side = 0; side < 2; ++side)
          for (int j = 0; j < k_; ++j) {
            const double* e = buffer.data() + per_rank * r + ((size_t(t) * 2 + side) * k_ + j) * 3;
            if (e[1] > 0) offer(t, {e[0], static_cast<Index>(e[1]) - 1, static_cast<int>(e[2])});
          }
  }

  std::string path_;
  int k_;
  const Targets& targets_;
  std::vector<std::string> names_;
  std::vector<Heap> helpful_, harmful_;

 public:
  void init_heaps() {
    for (auto& h : helpful_) h = Heap(Better{true});
    for (auto& h : harmful_) h = Heap(Better{false});
  }
};

class SourceSumsSink : public ScoreSink {
 public:
  SourceSumsSink(const std::string& path, const Targets& targets, const std::vector<std::string>& names)
      : path_(path), targets_(targets), names_(names),
        sums_(MatrixXd::Zero(static_cast<Index>(names.size()), targets.size())) {}

  void consume(const RowChunk& c, const ScoreMatrix& s) override {
    for (Index i = 0; i < s.rows(); ++i) sums_.row(c.task[i]) += s.row(i);  // file order, as sum_by_source_task
  }

  void finish(const MpiWorld* world) override {
    if (world) world->sum(sums_.data(), static_cast<size_t>(sums_.size()));
    if (world && world->rank() != 0) return;
    Relatedness r;
    r.method = "mtif";
    r.matrix = sums_;
    write_relatedness(path_, r, targets_, names_);
  }

 private:
  std::string path_;
  const Targets& targets_;
  std::vector<std::string> names_;
  MatrixXd sums_;
};

}  // namespace

std::unique_ptr<ScoreSink> npy_float32_sink(const std::string& path, Index rows, const Targets& targets,
                                            const std::vector<std::string>& task_names, nlohmann::json settings,
                                            const MpiWorld* world) {
  return std::make_unique<NpyFloat32Sink>(path, rows, targets, task_names, std::move(settings), world);
}

std::unique_ptr<ScoreSink> topk_sink(const std::string& path, int k, const Targets& targets,
                                     const std::vector<std::string>& task_names) {
  if (k < 1) throw std::invalid_argument("--reduce topk:K needs K >= 1");
  auto sink = std::make_unique<TopKSink>(path, k, targets, task_names);
  sink->init_heaps();
  return sink;
}

std::unique_ptr<ScoreSink> source_sums_sink(const std::string& path, const Targets& targets,
                                            const std::vector<std::string>& task_names) {
  return std::make_unique<SourceSumsSink>(path, targets, task_names);
}

}  // namespace mtif
