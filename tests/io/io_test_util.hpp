// Helpers shared by the tests of src/io: temporary files and checks of
// DataError messages ("FILE:LINE:COLUMN: message naming the column").
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "mtif/csv_reader.hpp"

namespace mtif::test {

// A fresh folder for one test, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::string("mtif_io_") + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  // Writes `text` byte for byte and returns the path.
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = file(name);
    std::ofstream out(p, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    return p;
  }
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path_)) names.push_back(e.path().filename().string());
    return names;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `f` and checks it throws a DataError whose message starts with exactly
// `prefix` (e.g. "data.csv:3:2:") and contains each of `needles`.
template <class F>
::testing::AssertionResult ThrowsDataError(F&& f, const std::string& prefix, const std::vector<std::string>& needles) {
  try {
    f();
  } catch (const DataError& e) {
    const std::string what = e.what();
    if (what.rfind(prefix, 0) != 0)
      return ::testing::AssertionFailure() << "message does not start with '" << prefix << "': " << what;
    if (what.find('\n') != std::string::npos)
      return ::testing::AssertionFailure() << "message spans several lines: " << what;
    for (const auto& n : needles)
      if (what.find(n) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks '" << n << "': " << what;
    return ::testing::AssertionSuccess() << what;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw (expected " << prefix << ")";
}

}  // namespace mtif::test
