// Per-row losses of mtif-math.md 1.1, as functions of the prediction f.
#pragma once

#include <string>

namespace mtif {

enum class LossKind { Squared, Logistic };

LossKind parse_loss(const std::string& name);  // "squared" | "logistic"; throws std::invalid_argument
std::string loss_name(LossKind loss);

double loss_value(LossKind loss, double f, double y);      // l(f, y)
double loss_derivative(LossKind loss, double f, double y);  // dl/df
double loss_curvature(LossKind loss, double f, double y);   // d2l/df2 (the weight h of mtif-math.md 2)

}  // namespace mtif
