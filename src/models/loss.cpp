#include "mtif/loss.hpp"

#include <cmath>
#include <stdexcept>

namespace mtif {
namespace {
double sigmoid(double f) {
  if (f >= 0) return 1.0 / (1.0 + std::exp(-f));
  double e = std::exp(f);
  return e / (1.0 + e);
}
// log(1 + e^f) without overflow.
double softplus(double f) { return std::max(f, 0.0) + std::log1p(std::exp(-std::abs(f))); }
}  // namespace

LossKind parse_loss(const std::string& name) {
  if (name == "squared") return LossKind::Squared;
  if (name == "logistic") return LossKind::Logistic;
  throw std::invalid_argument("unknown loss '" + name + "' (expected squared or logistic)");
}

std::string loss_name(LossKind loss) { return loss == LossKind::Squared ? "squared" : "logistic"; }

double loss_value(LossKind loss, double f, double y) {
  if (loss == LossKind::Squared) return 0.5 * (y - f) * (y - f);
  return softplus(f) - y * f;
}

double loss_derivative(LossKind loss, double f, double y) {
  if (loss == LossKind::Squared) return f - y;
  return sigmoid(f) - y;
}

double loss_curvature(LossKind loss, double f, double /*y*/) {
  if (loss == LossKind::Squared) return 1.0;
  double s = sigmoid(f);
  return s * (1.0 - s);
}

}  // namespace mtif
