// libFuzzer target: the .npy reader on arbitrary bytes. The input is written
// to a scratch folder as X.npy, y.npy and task.npy at once (a 1-D integer
// array passes as all three), then read as one array and as a data set. A
// DataError is the expected answer to bad input; any other exception, a
// crash, a sanitizer report or a broken invariant of what was read is a bug.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "mtif/npy.hpp"

namespace {

[[noreturn]] void bug(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "npy_reader_fuzz: invariant broken: %s %s\n", what, detail.c_str());
  std::abort();
}

const std::string& scratch() {
  static const std::string dir = [] {
    std::string d = "/tmp/npy_reader_fuzz." + std::to_string(::getpid());
    std::string cmd = "mkdir -p " + d;
    if (std::system(cmd.c_str()) != 0) bug("cannot create the scratch folder", d);
    return d;
  }();
  return dir;
}

void write(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) bug("cannot write", path);
}

// The contract: one line that starts with the file's path.
void check_message(const mtif::DataError& e, const std::string& dir) {
  const std::string_view what = e.what();
  if (what.substr(0, dir.size()) != dir) bug("message does not start with the file name:", e.what());
  if (what.find('\n') != std::string_view::npos) bug("message spans several lines:", e.what());
}

void read_array(const std::string& path, const std::string& dir) {
  try {
    mtif::NpyHeader h = mtif::read_npy_header(path);
    if (h.shape.empty() || h.shape.size() > 2) bug("shape of neither one nor two dimensions accepted");
    if (h.rows() < 0 || h.cols() < 0) bug("negative dimension accepted");
    if (h.item_size != 1 && h.item_size != 2 && h.item_size != 4 && h.item_size != 8) bug("odd item size accepted");
    mtif::NpyRows rows = mtif::read_npy_rows(h, 0, h.rows());
    if (rows.rows() != h.rows() || rows.cols() != h.cols()) bug("rows read differ from the header's shape");
  } catch (const mtif::DataError& e) {
    check_message(e, dir);
  }
}

void read_dataset(const std::string& dir) {
  try {
    mtif::Dataset d = mtif::read_npy_dataset(dir);
    if (d.X.rows() != d.y.size()) bug("X and y row counts differ");
    if (d.num_rows() != d.X.rows()) bug("row count differs from X");
    for (Eigen::Index i = 0; i < d.X.size(); ++i)
      if (!std::isfinite(d.X.data()[i])) bug("non-finite feature accepted");
    for (Eigen::Index i = 0; i < d.y.size(); ++i)
      if (!std::isfinite(d.y(i))) bug("non-finite target accepted");
    for (int k = 0; k < d.num_tasks(); ++k)
      if (d.task_rows(k) < 0) bug("negative task size");
  } catch (const mtif::DataError& e) {
    check_message(e, dir);
  }
}

}  // namespace


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = scratch();
  for (const char* name : {"X.npy", "y.npy", "task.npy"}) write(dir + "/" + name, data, size);
  std::remove((dir + "/tasks.txt").c_str());
  read_array(dir + "/X.npy", dir);
  read_dataset(dir);
  return 0;
}
