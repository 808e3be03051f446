// TemporaryPath and AtomicFile (src/io/atomic_file.cpp): names beside the
// target, registration for the signal handler, removal on every failure path
// and on SIGTERM/SIGINT. (output_test.cpp checks AtomicFile's commit/rollback.)
#include "mtif/atomic_file.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/io_test_util.hpp"

namespace mtif {
namespace {

using test::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(TemporaryPath, LivesBesideItsTargetAndIsRegisteredUntilCommitted) {
  TempDir dir;
  const int before = registered_temporaries();
  const std::string target = dir.file("scores.csv");
  TemporaryPath temp(target);
  EXPECT_EQ(std::filesystem::path(temp.path()).parent_path(), dir.path());
  EXPECT_EQ(temp.path().rfind(target + ".tmp-", 0), 0u) << temp.path();
  EXPECT_EQ(registered_temporaries(), before + 1);
  std::ofstream(temp.path()) << "new";
  temp.commit();
  EXPECT_EQ(registered_temporaries(), before);
  EXPECT_EQ(slurp(target), "new");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"scores.csv"}));
}

TEST(TemporaryPath, TwoWritersOfOneTargetGetDifferentNames) {
  TempDir dir;
  TemporaryPath a(dir.file("x")), b(dir.file("x"));
  EXPECT_NE(a.path(), b.path());
}

TEST(TemporaryPath, DestructionRemovesTheFileAndTheRegistration) {
  TempDir dir;
  const int before = registered_temporaries();
  {
    TemporaryPath temp(dir.file("model.json"));
    std::ofstream(temp.path()) << "half";
  }
  EXPECT_EQ(registered_temporaries(), before);
  EXPECT_TRUE(dir.list().empty());
}

TEST(TemporaryPath, AFailedRenameThrowsAndRemovesTheTemporary) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("target") + "/inside");  // a non-empty folder cannot be replaced
  TemporaryPath temp(dir.file("target"));
  std::ofstream(temp.path()) << "data";
  EXPECT_THROW(temp.commit(), std::runtime_error);
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"target"}));
}

TEST(AtomicFile, ACommitThatCannotRenameKeepsTheOldFileAndLeavesNoTemporary) {
  TempDir dir;
  const std::string target = dir.file("busy");
  std::filesystem::create_directories(target + "/inside");
  AtomicFile f(target);
  f.write("abc", 3);
  try {
    f.commit();
    FAIL() << "commit onto a non-empty folder succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(target), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"busy"}));
  EXPECT_TRUE(std::filesystem::is_directory(target));
}

// A child process writes half a file and is then killed by `sig`; the
// installed handler must remove the temporary and the child must die of the
// signal itself (status WIFSIGNALED), leaving the old target as it was.
void expect_signal_removes_temporary(int sig) {
  TempDir dir;
  const std::string target = dir.file("scores.csv");
  std::ofstream(target) << "old complete file\n";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(sig, SIG_DFL);  // as a fresh process would have it
    install_temporary_cleanup();
    AtomicFile f(target);
    std::string half(1 << 16, 'x');
    f.write(half.data(), half.size());
    f.write(half.data(), half.size());  // well past stdio's buffer: the temporary is on disk
    ::kill(::getpid(), sig);
    ::_exit(0);  // not reached: the signal ends the process
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited normally with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), sig);
  EXPECT_EQ(slurp(target), "old complete file\n");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"scores.csv"}));
}

TEST(TemporaryCleanup, SigtermRemovesTheTemporaryAndKeepsTheOldFile) { expect_signal_removes_temporary(SIGTERM); }
TEST(TemporaryCleanup, SigintRemovesTheTemporaryAndKeepsTheOldFile) { expect_signal_removes_temporary(SIGINT); }

TEST(TemporaryCleanup, WithoutTheHandlerTheTemporaryIsLeftButTheTargetIsIntact) {
  // The control for the two tests above: it shows that the handler, not the
  // kernel, removes the file, and that even then the target is never half-written.
  TempDir dir;
  const std::string target = dir.file("scores.csv");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGTERM, SIG_DFL);
    AtomicFile f(target);
    std::string half(1 << 17, 'x');
    f.write(half.data(), half.size());
    ::kill(::getpid(), SIGTERM);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(std::filesystem::exists(target));
  ASSERT_EQ(dir.list().size(), 1u);
  EXPECT_EQ(dir.list()[0].rfind("scores.csv.tmp-", 0), 0u) << dir.list()[0];
}

}  // namespace
}  // namespace mtif
