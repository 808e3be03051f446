#include "mtif/atomic_file.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

namespace mtif {
namespace {

// The signal handler may only call async-signal-safe functions, so the
// registered names live in fixed buffers (no allocation, no locks): a slot's
// state says whether its buffer holds a complete name that the handler may
// unlink. A path too long for a slot is simply not registered: it is still
// removed on every ordinary error path, only not on a signal.
constexpr int kSlots = 64;
constexpr size_t kMaxPath = 4096;
enum SlotState : int { kFree = 0, kFilling = 1, kRegistered = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kMaxPath];
};
std::array<Slot, kSlots> g_slots;
std::atomic<int> g_registered{0};
std::atomic<unsigned> g_counter{0};

int register_temporary(const std::string& path) {
  if (path.size() >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kFilling)) continue;
    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].state.store(kRegistered);
    ++g_registered;
    return i;
  }
  return -1;  // more than kSlots files open at once: not removed on a signal
}

void unregister_temporary(int slot) {
  if (slot < 0) return;
  g_slots[slot].state.store(kFree);
  --g_registered;
}

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

extern "C" void remove_temporaries_and_reraise(int sig) {
  const int saved_errno = errno;
  for (auto& slot : g_slots)
    if (slot.state.load() == kRegistered) ::unlink(slot.path);
  // SA_RESETHAND restored the default action; raising again now (the signal
  // is blocked inside its handler) makes the process die of it on return.
  errno = saved_errno;
  std::raise(sig);
}

std::string temporary_name(const std::string& target, const std::string& tag) {
  if (!tag.empty()) return target + ".tmp-" + tag;
  return fmt::format("{}.tmp-{}-{}", target, ::getpid(), g_counter++);
}

}  // namespace

// ------------------------------------------------------------ TemporaryPath

TemporaryPath::TemporaryPath(std::string target, const std::string& tag)
    : target_(std::move(target)), temp_(temporary_name(target_, tag)), slot_(register_temporary(temp_)) {}

TemporaryPath::~TemporaryPath() {
  if (!done_) discard();
}

void TemporaryPath::discard() {
  if (done_) return;
  ::unlink(temp_.c_str());  // absent already (never created, or renamed): nothing to do
  release();
}

void TemporaryPath::release() {
  unregister_temporary(slot_);
  slot_ = -1;
  done_ = true;
}

void TemporaryPath::commit() {
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int error = errno;
    discard();
    throw std::runtime_error(fmt::format("{}: cannot finish writing: {}", target_, std::strerror(error)));
  }
  release();
}

// --------------------------------------------------------------- AtomicFile

AtomicFile::AtomicFile(std::string path) : temp_(std::move(path)) {
  file_ = std::fopen(temp_.path().c_str(), "wb");
  if (!file_) throw std::runtime_error(fmt::format("{}: cannot write: {}", temp_.target(), std::strerror(errno)));
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  // temp_'s destructor removes the temporary unless commit() renamed it.
}

void AtomicFile::write(const char* data, size_t size) {
  if (size && std::fwrite(data, 1, size, file_) != size)
    throw std::runtime_error(fmt::format("{}: write failed: {}", temp_.target(), std::strerror(errno)));
}

void AtomicFile::write(fmt::memory_buffer& buffer) {
  write(buffer.data(), buffer.size());
  buffer.clear();
}

void AtomicFile::commit() {
  // A full disk often shows only here, when stdio writes its last buffer.
  errno = 0;
  bool ok = std::fflush(file_) == 0;
  const int flush_error = errno;
  ok = std::fclose(file_) == 0 && ok;
  const int error = flush_error ? flush_error : errno;
  file_ = nullptr;
  if (!ok) {
    temp_.discard();
    throw std::runtime_error(fmt::format("{}: write failed: {}", temp_.target(), std::strerror(error)));
  }
  temp_.commit();
}

// ----------------------------------------------------------------- signals

void install_temporary_cleanup() {
  for (int sig : kCleanupSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;  // nohup, `cmd &`
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_reraise;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &action, nullptr);
  }
}

int registered_temporaries() { return g_registered.load(); }

}  // namespace mtif
