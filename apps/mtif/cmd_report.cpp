// mtif report --from RUN_DIR_OR_SUMMARY --out report.html
//
// Gathers what a run left behind (JSON summaries of any subcommand, score /
// LOO / relatedness CSVs recognised by their header, an optional images.npy)
// into one JSON blob, and writes a self-contained HTML page: the template,
// the page script and the chart library are compiled into the binary
// (cmake/embed_report_assets.cmake), the blob goes into a
// <script type="application/json"> element and report/report.js draws it.
// The blob's schema is in report/README.md. Sections whose inputs are absent
// are skipped and listed as absent in the page.
//
// The steps, one file each: report_inputs.cpp reads the run, report_sections.cpp
// builds the page's sections from it (a list: a new section is one entry),
// report_page.cpp renders the HTML.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "mtif/atomic_file.hpp"
#include "mtif/csv_reader.hpp"
#include "options.hpp"
#include "report_inputs.hpp"
#include "report_page.hpp"
#include "report_sections.hpp"

namespace mtif::cli {

namespace {

using nlohmann::json;

struct ReportOptions {
  std::string from, out;
  int top = 10;
  OutputOptions verbosity;  // --quiet / --verbose
};

void run_report(const ReportOptions& o) {
#ifndef MTIF_WITH_REPORT
  (void)o;
  throw std::runtime_error(
      "this mtif was built without the report page (report/node_modules was missing): run scripts/setup.sh, "
      "then reconfigure with -DMTIF_WITH_REPORT=ON and rebuild");
#else
  if (o.top < 1) throw std::invalid_argument("--top must be at least 1");
  int found = 0;
  const report::RunContents run = report::read_run(o.from, o.top);
  const json page = report::build_page(o.from, run, o.top, found);
  if (found == 0)
    throw DataError(fmt::format("{}: nothing to report: no mtif summary (*.json) or output (*.csv) found", o.from));
  std::string html = report::render_page(page);
  AtomicFile file(o.out);
  file.write(html.data(), html.size());
  file.commit();
  std::cout << fmt::format("wrote {} ({} of {} sections; open it in a browser, it needs no network)\n", o.out, found,
                           report::report_sections().size());
#endif
}

}  // namespace

void register_report(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "one self-contained HTML page with the plots and tables of a run");
  cmd->add_option("--from", o->from,
                  "run directory (e.g. the --out-dir of mtif demo, or a folder of influence/loo/relatedness outputs "
                  "and their --json summaries), or one JSON summary")
      ->required();
  cmd->add_option("--out", o->out, "the HTML file to write")->required();
  cmd->add_option("--top", o->top, "rows listed per task as most helpful and most harmful")->capture_default_str();
  cmd->footer(
      "Reads *.json summaries (any subcommand's --json), CSVs recognised by their header (scores, loo,\n"
      "relatedness, data) and images.npy for thumbnails. Sections without inputs are listed as absent.\n"
      "Example:\n  mtif demo --out-dir run && mtif report --from run --out run/report.html");
  add_verbosity_options(cmd, o->verbosity);
  cmd->callback([o] {
    begin_command(o->verbosity);
    QuietStdout quiet(o->verbosity.quiet);
    run_report(*o);
  });
}

}  // namespace mtif::cli
