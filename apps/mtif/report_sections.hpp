// The sections of the report page, in page order. Each builds its fields of
// the page's JSON blob (schema: report/README.md) from what the run left
// behind; report/report.js draws them. A new section is one more entry in
// report_sections() (and its drawing in report.js).
#pragma once

#include <vector>

#include "report_inputs.hpp"

namespace mtif::cli::report {

struct ReportSection {
  const char* name;
  // Sets the section's fields of `page` (null or empty when the run has no
  // input for it; notes go to page["notes"]); true when it had input.
  bool (*build)(const RunContents& run, int top, json& page);
};

const std::vector<ReportSection>& report_sections();

// The page's JSON blob: the run's notes, then every section; `sections_found`
// counts the sections that had input.
json build_page(const std::string& from, const RunContents& run, int top, int& sections_found);

}  // namespace mtif::cli::report
