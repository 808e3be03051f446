// mtif: multitask influence functions from the command line. Each subcommand
// lives in cmd_<name>.cpp; this file only wires them together and turns
// errors into one line on stderr and a non-zero exit.
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "config.hpp"
#include "options.hpp"
#include "mtif/atomic_file.hpp"
#include "mtif/csv_reader.hpp"
#include "mtif/mpi_world.hpp"

namespace {
// Under mpirun with several ranks an error that every rank meets is printed
// by rank 0 only; errors met on some ranks are printed by run_agreed.
void print_error(const char* what) {
  const mtif::MpiWorld* world = mtif::mpi_world();
  if (!world || world->rank() == 0) std::cerr << "mtif: error: " << what << '\n';
}
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// Transparent huge pages for malloc. Where the kernel gives them only on request
// ("[madvise]"), glibc asks for them when the GLIBC_TUNABLES entry below is set, which
// only works from the process's start: so mtif sets it and executes itself again
// (a few milliseconds). Measured on 100 tasks x 10^5 rows from .npy (2-core VM): 18,000
// page faults -> 1,900, reading 0.45 s -> 0.05 s, whole run 1.4 s -> 0.7-0.8 s; the
// kernel's page faults in a VM cost more than the work on the pages. MTIF_NO_HUGE_PAGES=1
// turns it off.
void reexec_with_huge_pages(char** argv) {
  if (kSanitized || std::getenv("MTIF_NO_HUGE_PAGES")) return;
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  const std::string current = tunables ? tunables : "";
  if (current.find("glibc.malloc.hugetlb") != std::string::npos) return;  // set already (by us or the user)
  std::ifstream mode_file("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(mode_file, mode);
  if (mode.find("[madvise]") == std::string::npos) return;  // "always": nothing to ask; "never": no use
  const std::string wanted = current.empty() ? "glibc.malloc.hugetlb=1" : current + ":glibc.malloc.hugetlb=1";
  ::setenv("GLIBC_TUNABLES", wanted.c_str(), 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}
}  // namespace

int main(int argc, char** argv) {
  reexec_with_huge_pages(argv);
  // MPI only when a launcher started us: a plain run never initialises it.
  std::unique_ptr<mtif::MpiWorld> world;
  if (mtif::MpiWorld::launched()) {
    try {
      world = std::make_unique<mtif::MpiWorld>(&argc, &argv);
    } catch (const std::exception& e) {
      std::cerr << "mtif: error: " << e.what() << '\n';
      return 1;
    }
    mtif::set_mpi_world(world.get());
  }
  // An interrupted run removes its unfinished output files (mtif/atomic_file.hpp).
  mtif::install_temporary_cleanup();
  // Keep freed large buffers in the heap instead of returning them to the OS:
  // page faults on fresh mappings dominated the run time of large scorings.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{
      "mtif: which training rows and which tasks help or hurt each task of a multitask model.\n"
      "Scores are loss_change_if_removed: positive = removing the row raises the target's test loss\n"
      "(the row HELPS); negative = the row HURTS. Start with 'mtif demo'."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mtif 0.1.0");
  // --config FILE (JSON, config.hpp) works after any subcommand: the option is
  // the main app's and a subcommand passes what it does not know up to it.
  app.set_config("--config", "", "read flags from a JSON run file or a --json summary (command-line flags win)");
  app.config_formatter(std::make_shared<mtif::cli::JsonConfig>(&app));
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt key is an error, not ignored
  app.fallthrough();
  mtif::cli::register_run(app);
  mtif::cli::register_demo(app);
  mtif::cli::register_generate(app);
  mtif::cli::register_fit(app);
  mtif::cli::register_influence(app);
  mtif::cli::register_loo(app);
  mtif::cli::register_relatedness(app);
  mtif::cli::register_group(app);
  mtif::cli::register_lds(app);
  mtif::cli::register_images(app);
  mtif::cli::register_report(app);
  mtif::cli::register_select(app);
  mtif::cli::register_sources(app);
  mtif::cli::check_output_folders(app);
  // --config belongs to the main app (see above), so each subcommand's help names it here.
  for (CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() != "run")
      sub->footer(sub->get_footer() +
                  "\n--config FILE: read these flags from a JSON run file or a --json summary (flags given here win).");
  try {
    // `mtif run --config FILE` is `mtif COMMAND --config FILE`, COMMAND from the file.
    std::vector<std::string> args = mtif::cli::expand_run(std::vector<std::string>(argv, argv + argc));
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first, without the program name
    app.name(args.back());  // as parse(argc, argv) would: usage lines show how mtif was called
    args.pop_back();
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (world && world->rank() != 0) return e.get_exit_code();
    return app.exit(e);
  } catch (const mtif::ReportedFailure& e) {
    return e.code;
  } catch (const mtif::DataError& e) {
    print_error(e.what());
    return 2;
  } catch (const std::exception& e) {
    print_error(e.what());
    return 1;
  }
  return 0;
}
