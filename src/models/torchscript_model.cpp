// A user's multitask network from a TorchScript file, as a NetworkImpl:
// the parameters are sorted into gamma and theta_k by name patterns, and
// every call goes through the module's own method, so the curvature,
// gradients and refits are those of the user's model, by autograd.
#include <fmt/format.h>
#include <fnmatch.h>
#include <torch/script.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <stdexcept>

#include "mtif/atomic_file.hpp"
#include "mtif/csv_reader.hpp"  // DataError: bad input exits with 2
#include "network_impl.hpp"

namespace mtif {

namespace {

bool matches(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
  for (const auto& p : patterns)
    if (matches(p, name)) return true;
  return false;
}

std::string task_pattern(const std::string& pattern, int k) {
  std::string out = pattern;
  const auto at = out.find("{k}");
  if (at != std::string::npos) out.replace(at, 3, std::to_string(k));
  return out;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

class TorchScriptImpl : public NetworkImpl {
 public:
  TorchScriptImpl(torch::jit::Module module, TorchScriptSpec spec, int tasks)
      : module_(std::move(module)), spec_(std::move(spec)), theta_(tasks) {
    sort_parameters();
  }

  std::unique_ptr<NetworkImpl> clone() const override {
    torch::jit::Module copied;
    {
      torch::NoGradGuard no_grad;  // the copies must be leaves, not clones recorded by autograd
      copied = module_.deepcopy();
    }
    auto copy = std::make_unique<TorchScriptImpl>(std::move(copied), spec_, num_tasks());
    copy->config = config;
    return copy;
  }
  int num_tasks() const override { return static_cast<int>(theta_.size()); }
  const std::vector<torch::Tensor>& task_parameters(int k) const override { return theta_[k]; }
  const std::vector<torch::Tensor>& shared_parameters() const override { return gamma_; }

  torch::Tensor outputs(const torch::Tensor& x, const RowTasks& rows) const override {
    auto method = module_.find_method(spec_.method);
    return (*method)({x, rows.task_of_row}).toTensor();
  }

  std::string describe() const override {
    return fmt::format("TorchScript module {} (method {})", spec_.path, spec_.method);
  }

  const torch::jit::Module& module() const { return module_; }

 private:
  // Every parameter into exactly one of gamma, theta_k or frozen, in the module's order.
  void sort_parameters() {
    for (const auto& p : module_.named_parameters(/*recurse=*/true)) {
      std::vector<std::string> claims;
      if (matches_any(spec_.frozen, p.name)) claims.push_back("frozen");
      if (matches_any(spec_.shared, p.name)) claims.push_back("shared");
      int task = -1;
      for (int k = 0; k < num_tasks(); ++k)
        if (matches(task_pattern(spec_.task, k), p.name)) {
          claims.push_back(fmt::format("task {}", k));
          task = k;
        }
      if (claims.empty())
        throw DataError(fmt::format(
            "{}: parameter '{}' is matched by no pattern (shared {}, task {} for tasks 0-{}, frozen {}): "
            "every parameter must be shared, a task's or frozen",
            spec_.path, p.name, fmt::join(spec_.shared, ","), spec_.task, num_tasks() - 1,
            spec_.frozen.empty() ? "none" : fmt::format("{}", fmt::join(spec_.frozen, ","))));
      if (claims.size() > 1)
        throw DataError(fmt::format("{}: parameter '{}' is matched by more than one pattern ({})",
                                             spec_.path, p.name, fmt::join(claims, ", ")));
      torch::Tensor t = p.value;
      t.requires_grad_(claims[0] != "frozen");
      if (claims[0] == "shared") gamma_.push_back(t);
      if (task >= 0) theta_[task].push_back(t);
    }
    for (int k = 0; k < num_tasks(); ++k)
      if (theta_[k].empty())
        throw DataError(fmt::format("{}: task {} has no parameters matching '{}': the module has no head for it",
                                             spec_.path, k, task_pattern(spec_.task, k)));
    if (gamma_.empty())
      throw DataError(fmt::format("{}: no parameter matches the shared patterns ({})", spec_.path,
                                           fmt::join(spec_.shared, ",")));
  }

  torch::jit::Module module_;
  TorchScriptSpec spec_;
  std::vector<std::vector<torch::Tensor>> theta_;
  std::vector<torch::Tensor> gamma_;
};

torch::jit::Module read_module(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0) throw DataError(path + ": cannot read the file");
  try {
    return torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw DataError(path + ": not a TorchScript file (save one with torch.jit.save): " +
                             first_line(e.what_without_backtrace()));
  }
}

// The contract on a batch of real rows: one row per input, the right width, float64, finite.
void check_outputs(const TorchScriptImpl& net, const Dataset& inputs) {
  // A few rows of every task, so that every head is exercised.
  const Index per_task = std::max<Index>(1, 256 / std::max(1, inputs.num_tasks()));
  std::vector<int64_t> picked;
  for (int k = 0; k < inputs.num_tasks(); ++k)
    for (Index i = 0; i < std::min(per_task, inputs.task_rows(k)); ++i) picked.push_back(inputs.task_begin[k] + i);
  const Index rows = Index(picked.size());
  if (rows == 0) return;
  TorchData data = to_torch(inputs);
  torch::Tensor idx = torch::tensor(picked, torch::kLong);
  torch::Tensor x = data.x.index_select(0, idx);
  torch::Tensor tasks = data.rows().task_of_row.index_select(0, idx);
  torch::Tensor f;
  try {
    torch::NoGradGuard no_grad;
    f = net.outputs(x, mixed_rows(tasks));
  } catch (const std::exception& e) {
    throw DataError(fmt::format("{}: the method failed on {} rows of the data: {}", net.describe(), rows,
                                         first_line(e.what())));
  }
  if (f.dim() != 2 || f.size(0) != rows || f.size(1) != net.out_dim())
    throw DataError(fmt::format("{}: outputs have shape {} for {} rows, expected [{}, {}] (one prediction "
                                         "per row from its own task's head)",
                                         net.describe(), shape_of(f), rows, rows, net.out_dim()));
  if (f.scalar_type() != torch::kFloat64)
    throw DataError(net.describe() + ": outputs are not float64 (mtif converts the module to double: make "
                                              "new tensors with x's dtype, e.g. x.new_zeros)");
  if (!torch::isfinite(f).all().item<bool>())
    throw DataError(fmt::format("{}: NaN or infinite outputs on the first {} rows of the data",
                                         net.describe(), rows));
}

}  // namespace

MlpModel load_torchscript_model(const TorchScriptSpec& spec, const MlpConfig& objective, int tasks,
                                const Dataset& inputs) {
  // The profiling executor specialises graphs on first runs; its optimised
  // graphs do not always keep double-backward paths, which MTIF needs.
  torch::jit::setGraphExecutorOptimize(false);
  torch::jit::Module module = read_module(spec.path);
  if (!module.find_method(spec.method))
    throw DataError(fmt::format("{}: the module has no method '{}' (expected {}(x, task) -> outputs)",
                                         spec.path, spec.method, spec.method));
  module.to(torch::kFloat64);
  module.eval();
  auto net = std::make_unique<TorchScriptImpl>(std::move(module), spec, tasks);
  net->config = objective;
  check_outputs(*net, inputs);
  return MlpModel(std::move(net));
}

void save_torchscript_model(const MlpModel& model, const std::string& path) {
  const auto* net = dynamic_cast<const TorchScriptImpl*>(&model.impl());
  if (!net) throw std::invalid_argument("saving as TorchScript needs a TorchScript model");
  TemporaryPath temporary(path);
  try {
    net->module().save(temporary.path());
  } catch (const c10::Error& e) {
    throw DataError(path + ": cannot write the model: " + first_line(e.what_without_backtrace()));
  }
  try {
    temporary.commit();
  } catch (const std::runtime_error& e) {
    throw DataError(e.what());
  }
}

}  // namespace mtif
