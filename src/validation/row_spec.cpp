#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string_view>

#include "mtif/row_indices.hpp"
#include "mtif/validation.hpp"

namespace mtif {
namespace {
Index parse_index(std::string_view s, const std::string& spec) {
  Index value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value < 0)
    throw std::invalid_argument("bad row list '" + spec + "': '" + std::string(s) + "' is not a row index");
  return value;
}
}  // namespace

std::vector<Index> parse_row_spec(const std::string& spec, Index n) {
  std::vector<Index> rows;
  if (spec == "all") {
    for (Index i = 0; i < n; ++i) rows.push_back(i);
    return rows;
  }
  std::string_view rest(spec);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view piece = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t dash = piece.find('-');
    Index first = parse_index(piece.substr(0, dash), spec);
    Index last = dash == std::string_view::npos ? first : parse_index(piece.substr(dash + 1), spec);
    if (last < first) throw std::invalid_argument("bad row list '" + spec + "': range ends before it starts");
    if (last >= n)
      throw std::invalid_argument("bad row list '" + spec + "': row " + std::to_string(last) +
                                  " is past the last training row (" + std::to_string(n - 1) + ")");
    for (Index i = first; i <= last; ++i) rows.push_back(i);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  if (rows.empty()) throw std::invalid_argument("bad row list '" + spec + "': no rows");
  return rows;
}

void check_row_indices(const std::vector<Index>& rows, Index n) {
  for (Index r : rows)
    if (r < 0 || r >= n)
      throw std::invalid_argument("row " + std::to_string(r) + " is outside 0.." + std::to_string(n - 1));
}

}  // namespace mtif
