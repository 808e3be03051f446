#include "report_page.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

// Built only with MTIF_WITH_REPORT (the chart library from npm); without it
// `mtif report` says how to get it (cmd_report.cpp).
#ifdef MTIF_WITH_REPORT
namespace mtif::report_assets {
// Null-terminated piece lists, generated at build time from report/.
extern const char* const template_html[];
extern const char* const report_js[];
extern const char* const chart_library_js[];
}  // namespace mtif::report_assets

namespace mtif::cli::report {

using nlohmann::json;

namespace {
// JSON inside <script type="application/json">: "<", ">" and "&" only occur
// inside JSON strings, where \u escapes mean the same characters, so no
// "</script>" or "<!--" in the data can end the element.
std::string json_for_script(const json& j) {
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace), out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else if (c == '>') out += "\\u003e";
    else if (c == '&') out += "\\u0026";
    else out += c;
  }
  return out;
}

std::string join(const char* const* pieces) {
  std::string s;
  for (; *pieces; ++pieces) s += *pieces;
  return s;
}

}  // namespace

// Fills the template's markers, each exactly once; markers are looked for in
// the template only, so text in the data can never be taken for one.
std::string render_page(const json& page) {
  const std::string tpl = join(report_assets::template_html);
  const std::pair<std::string, std::string> fills[] = {{"{{DATA_JSON}}", json_for_script(page)},
                                                       {"{{CHART_LIBRARY}}", join(report_assets::chart_library_js)},
                                                       {"{{REPORT_JS}}", join(report_assets::report_js)}};
  std::vector<std::tuple<size_t, size_t, const std::string*>> at;  // position, marker length, text
  for (const auto& [marker, text] : fills) {
    size_t p = tpl.find(marker);
    if (p == std::string::npos || tpl.find(marker, p + 1) != std::string::npos)
      throw std::logic_error("report template must hold " + marker + " exactly once");
    at.emplace_back(p, marker.size(), &text);
  }
  std::sort(at.begin(), at.end());
  std::string out;
  size_t pos = 0;
  for (auto [p, len, text] : at) {
    out.append(tpl, pos, p - pos);
    out += *text;
    pos = p + len;
  }
  out.append(tpl, pos);
  return out;
}

}  // namespace mtif::cli::report
#endif
