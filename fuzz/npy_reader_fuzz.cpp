// libFuzzer target: the .npy reader on arbitrary bytes, in memory (no files:
// the readers take a stream and an in-memory folder, the same code that reads
// files on disk). The input is cut at each "\n@next-file@\n" into parts that
// become X.npy, y.npy, task.npy and tasks.txt in that order; with fewer parts
// they repeat (one part is all three arrays). Each part is also read as one
// array. A DataError is the expected answer to bad input; any other exception,
// a crash, a sanitizer report or a broken invariant of what was read is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mtif/npy.hpp"

namespace {

constexpr std::string_view kSeparator = "\n@next-file@\n";
const std::string kDir = "fuzz-folder";

[[noreturn]] void bug(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "npy_reader_fuzz: invariant broken: %s %s\n", what, detail.c_str());
  std::abort();
}

std::vector<std::string> split(std::string_view input) {
  std::vector<std::string> parts;
  for (size_t at = input.find(kSeparator); at != std::string_view::npos; at = input.find(kSeparator)) {
    parts.emplace_back(input.substr(0, at));
    input.remove_prefix(at + kSeparator.size());
  }
  parts.emplace_back(input);
  return parts;
}

// The contract: one line that starts with the file's path.
void check_message(const mtif::DataError& e) {
  const std::string_view what = e.what();
  if (what.substr(0, kDir.size()) != kDir) bug("message does not start with the file name:", e.what());
  if (what.find('\n') != std::string_view::npos) bug("message spans several lines:", e.what());
}

void read_array(const std::string& bytes) {
  try {
    std::istringstream in(bytes, std::ios::binary);
    mtif::NpyHeader h = mtif::read_npy_header(in, kDir + "/X.npy");
    if (h.shape.empty() || h.shape.size() > 2) bug("shape of neither one nor two dimensions accepted");
    if (h.rows() < 0 || h.cols() < 0) bug("negative dimension accepted");
    if (h.item_size != 1 && h.item_size != 2 && h.item_size != 4 && h.item_size != 8) bug("odd item size accepted");
    mtif::NpyRows rows = mtif::read_npy_rows(h, in, 0, h.rows());
    if (rows.rows() != h.rows() || rows.cols() != h.cols()) bug("rows read differ from the header's shape");
  } catch (const mtif::DataError& e) {
    check_message(e);
  }
}

// Rows [row_begin, row_end) of the folder (end -1: all of them; a part, as one MPI rank reads).
void read_dataset(const mtif::NpyFolder& folder, mtif::Index row_begin, mtif::Index row_end) {
  try {
    mtif::Dataset d = mtif::read_npy_dataset(folder, nullptr, row_begin, row_end);
    if (d.X.rows() != d.y.size()) bug("X and y row counts differ");
    if (d.num_rows() != d.X.rows()) bug("row count differs from X");
    for (Eigen::Index i = 0; i < d.X.size(); ++i)
      if (!std::isfinite(d.X.data()[i])) bug("non-finite feature accepted");
    for (Eigen::Index i = 0; i < d.y.size(); ++i)
      if (!std::isfinite(d.y(i))) bug("non-finite target accepted");
    for (int k = 0; k < d.num_tasks(); ++k)
      if (d.task_rows(k) < 0) bug("negative task size");
  } catch (const mtif::DataError& e) {
    check_message(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> parts = split({reinterpret_cast<const char*>(data), size});
  for (const std::string& part : parts) read_array(part);
  mtif::NpyFolder folder{kDir, true, {}};
  const char* names[] = {"X.npy", "y.npy", "task.npy"};
  for (size_t i = 0; i < 3; ++i) folder.files[names[i]] = parts[i % parts.size()];
  if (parts.size() > 3) folder.files["tasks.txt"] = parts[3];
  read_dataset(folder, 0, -1);
  read_dataset(folder, 1, 3);
  return 0;
}
