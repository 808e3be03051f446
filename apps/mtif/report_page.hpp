// The report's HTML: the template, the page script and the chart library are
// compiled into the binary (cmake/embed_report_assets.cmake); the page's JSON
// blob goes into a <script type="application/json"> element.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace mtif::cli::report {

// The self-contained page for `page` (only in builds with MTIF_WITH_REPORT).
std::string render_page(const nlohmann::json& page);

}  // namespace mtif::cli::report
