// Output files that are complete or absent. Every file mtif writes goes to a
// temporary name beside its target (same folder, so the final rename is atomic)
// and is renamed into place only when complete. An error, an exception, a full
// disk or a signal therefore leaves the old file (or none), never half of one.
//
// Temporaries are registered while they exist; install_temporary_cleanup()
// makes SIGINT, SIGTERM, SIGHUP and SIGQUIT remove them before the process dies
// of the signal. A crash (SIGSEGV, SIGKILL) still leaves the target intact but
// may leave a temporary named TARGET.tmp-PID-N behind.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace mtif {

// A registered temporary path for `target`. Its owner creates and fills the
// file (any way it likes: stdio, pwrite, a library's save(path)), then calls
// commit(). Without commit() the temporary is removed on destruction.
class TemporaryPath {
 public:
  // The name is TARGET.tmp-PID-N; `tag` replaces PID-N where several
  // processes must agree on one name (MPI ranks writing one file).
  explicit TemporaryPath(std::string target, const std::string& tag = "");
  ~TemporaryPath();
  TemporaryPath(const TemporaryPath&) = delete;
  TemporaryPath& operator=(const TemporaryPath&) = delete;

  const std::string& path() const { return temp_; }
  const std::string& target() const { return target_; }
  void commit();   // renames the temporary onto the target; throws (temporary removed) on failure
  void discard();  // removes the temporary now
  void release();  // forgets it without removing it (another process owns the file)

 private:
  std::string target_, temp_;
  int slot_ = -1;  // in the signal handler's list; -1: not registered
  bool done_ = false;
};

// A file written through stdio to a TemporaryPath.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const char* data, size_t size);
  void write(fmt::memory_buffer& buffer);  // writes and clears
  void commit();  // flushes, closes and renames; throws a one-line error (e.g. disk full) otherwise

 private:
  TemporaryPath temp_;
  std::FILE* file_ = nullptr;
};

// Installs the handlers that remove registered temporaries on SIGINT, SIGTERM,
// SIGHUP and SIGQUIT and then die of the same signal (the exit status a shell
// expects). A signal the process was started with ignored stays ignored.
// Called once by the mtif program; a library user (Python) keeps its own handlers.
void install_temporary_cleanup();

// How many temporaries are registered now (tests).
int registered_temporaries();

}  // namespace mtif
