// A user's multitask network from a TorchScript file, as a NetworkImpl:
// the parameters are sorted into gamma and theta_k by name patterns, and
// every call goes through the module's own method, so the curvature,
// gradients and refits are those of the user's model, by autograd.
#include <fmt/format.h>
#include <fnmatch.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <optional>
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

  std::vector<std::string> shared_names() const override { return gamma_names_; }

  // The method's graph, inlined, with the inputs and outputs of its
  // aten::linear and aten::conv2d calls on shared weights added to what it
  // returns: TorchScript has no forward hooks from C++, its graph says the same.
  KroneckerTrace kronecker_trace(const torch::Tensor& x, const RowTasks& rows) const override {
    if (!layer_graph_) find_layers();
    torch::jit::GraphFunction function("mtif_kronecker_trace", layer_graph_, nullptr);
    torch::jit::Stack stack{module_._ivalue(), x, rows.task_of_row};
    function.run(stack);
    auto values = stack.back().toTuple()->elements();
    KroneckerTrace trace;
    trace.outputs = values[0].toTensor();
    for (size_t l = 0; l < layers_.size(); ++l) {
      KroneckerLayer layer = layers_[l].layer;
      const torch::Tensor input = values[1 + 2 * l].toTensor().detach();
      layer.output = values[2 + 2 * l].toTensor();
      if (input.size(0) != x.size(0) || (!layers_[l].conv && input.dim() != 2))
        throw std::invalid_argument(fmt::format(
            "EK-FAC: {} is applied to a {} input, not to one row each of the {} rows (rows x features for "
            "Linear): use --solver cg", layer.name, shape_of(input), x.size(0)));
      layer.input = layers_[l].conv ? patches(input, layers_[l]) : input.unsqueeze(2);
      trace.layers.push_back(std::move(layer));
    }
    return trace;
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
      if (claims[0] == "shared") {
        gamma_.push_back(t);
        gamma_names_.push_back(p.name);
      }
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

  struct FoundLayer {
    KroneckerLayer layer;  // name, weight, bias
    bool conv = false;
    std::vector<int64_t> kernel, stride, padding, dilation;
  };

  static torch::Tensor patches(const torch::Tensor& input, const FoundLayer& f) {
    namespace F = torch::nn::functional;
    return F::unfold(input, F::UnfoldFuncOptions(f.kernel).stride(f.stride).padding(f.padding).dilation(f.dilation));
  }

  // A constant int[] (a prim::Constant, or a prim::ListConstruct of constant ints, as nn.Conv2d's are).
  static std::optional<std::vector<int64_t>> int_list(torch::jit::Value* v) {
    if (v->node()->kind() == c10::prim::ListConstruct) {
      std::vector<int64_t> out;
      for (torch::jit::Value* item : v->node()->inputs()) {
        auto value = torch::jit::toIValue(item);
        if (!value || !value->isInt()) return std::nullopt;
        out.push_back(value->toInt());
      }
      return out;
    }
    auto value = torch::jit::toIValue(v);
    if (!value || !value->isIntList()) return std::nullopt;
    return value->toIntVector();
  }

  // Inline inlines one level of calls per pass here (a Sequential's body
  // keeps its children's CallMethod nodes): repeat until none is left.
  static void inline_all_calls(torch::jit::Graph& graph) {
    auto has_calls = [&] {
      for (torch::jit::Node* node : graph.nodes())
        if (node->kind() == c10::prim::CallMethod || node->kind() == c10::prim::CallFunction) return true;
      return false;
    };
    for (int pass = 0; pass < 64 && has_calls(); ++pass) torch::jit::Inline(graph);
  }

  // Attribute paths (trunk.0.weight) of the values that prim::GetAttr chains from self produce.
  static std::map<const torch::jit::Value*, std::string> attribute_paths(torch::jit::Graph& graph) {
    std::map<const torch::jit::Value*, std::string> path{{graph.inputs()[0], ""}};
    for (torch::jit::Node* node : graph.nodes()) {
      if (node->kind() != c10::prim::GetAttr) continue;
      auto base = path.find(node->input(0));
      if (base == path.end()) continue;
      const std::string name = node->s(c10::attr::name);
      path[node->output()] = base->second.empty() ? name : base->second + "." + name;
    }
    return path;
  }

  // A linear or conv2d node on a shared weight that no other node uses; nullopt otherwise.
  std::optional<FoundLayer> layer_of(torch::jit::Node* node,
                                     const std::map<const torch::jit::Value*, std::string>& path) const {
    const bool conv = node->kind() == c10::aten::conv2d;
    if (!conv && node->kind() != c10::aten::linear) return std::nullopt;
    auto weight = path.find(node->input(1));
    if (weight == path.end() || node->input(1)->uses().size() != 1) return std::nullopt;
    FoundLayer found;
    found.conv = conv;
    found.layer.name = weight->second;
    found.layer.weight = shared_index(weight->second);
    if (found.layer.weight < 0) return std::nullopt;
    if (node->input(2)->type()->kind() != c10::TypeKind::NoneType) {
      auto bias = path.find(node->input(2));
      if (bias == path.end() || node->input(2)->uses().size() != 1) return std::nullopt;
      found.layer.bias = shared_index(bias->second);
      if (found.layer.bias < 0) return std::nullopt;
    }
    if (conv) {
      auto stride = int_list(node->input(3)), padding = int_list(node->input(4)), dilation = int_list(node->input(5));
      auto groups = torch::jit::toIValue(node->input(6));
      if (!stride || !padding || !dilation || !groups || groups->toInt() != 1) return std::nullopt;
      const torch::Tensor& w = gamma_[found.layer.weight];
      found.kernel = {w.size(2), w.size(3)};
      found.stride = *stride;
      found.padding = *padding;
      found.dilation = *dilation;
    }
    return found;
  }

  void find_layers() const {
    auto graph = module_.get_method(spec_.method).graph()->copy();
    inline_all_calls(*graph);
    const auto path = attribute_paths(*graph);
    std::vector<std::pair<torch::jit::Node*, FoundLayer>> candidates;
    std::map<std::string, int> uses;  // a weight called twice (shared between calls) is not one layer
    for (torch::jit::Node* node : graph->nodes())  // the top-level block: once per call
      if (auto found = layer_of(node, path)) {
        candidates.emplace_back(node, *found);
        ++uses[found->layer.name];
      }
    std::vector<torch::jit::Value*> returned{graph->outputs()[0]};
    for (const auto& [node, found] : candidates)
      if (uses[found.layer.name] == 1) {
        layers_.push_back(found);
        returned.push_back(node->input(0));
        returned.push_back(node->output());
      }
    torch::jit::Node* tuple = graph->insertNode(graph->createTuple(returned));
    graph->eraseOutput(0);
    graph->registerOutput(tuple->output());
    layer_graph_ = graph;
  }

  int shared_index(const std::string& name) const {
    for (size_t i = 0; i < gamma_names_.size(); ++i)
      if (gamma_names_[i] == name) return int(i);
    return -1;
  }

  torch::jit::Module module_;
  TorchScriptSpec spec_;
  std::vector<std::vector<torch::Tensor>> theta_;
  std::vector<torch::Tensor> gamma_;
  std::vector<std::string> gamma_names_;
  mutable std::shared_ptr<torch::jit::Graph> layer_graph_;  // found on first use
  mutable std::vector<FoundLayer> layers_;
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
