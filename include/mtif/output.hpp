// Output files: JSON and .npy writers (complete or absent, through AtomicFile),
// CSV quoting, and the readers of the same formats.
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "mtif/atomic_file.hpp"
#include "mtif/dataset.hpp"

namespace mtif {

// A CSV field as RFC 4180 wants it: quoted when it holds a comma, a quote,
// a line break or surrounding blanks (task labels may).
std::string csv_quote(const std::string& field);

void write_json_file(const std::string& path, const nlohmann::json& j);
nlohmann::json read_json_file(const std::string& path);
// The same from a stream (the fuzzer passes memory); `path` names it in messages.
nlohmann::json read_json(std::istream& in, const std::string& path);

// A float64 matrix in NumPy's .npy format (C order).
using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
void write_npy(const std::string& path, const RowMajorMatrix& m);
void write_npy(const std::string& path, const MatrixXd& m);  // copies to C order first
// Reads a 1-D (as one column) or 2-D .npy array of floats or integers; the
// header is checked strictly (npy.hpp), errors are one-line DataErrors.
MatrixXd read_npy(const std::string& path);

}  // namespace mtif
