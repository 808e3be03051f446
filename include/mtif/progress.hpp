// A progress bar for long loops (rows scored, refits done) with an ETA.
//
// The library's loops create a Progress and call add() as work completes;
// whether anything is shown is decided once per process by the program: the
// CLI points progress at stderr only when stderr is a terminal and --quiet is
// off, so pipes, CI logs and the Python API (unless mtif.set_progress(True))
// stay quiet. add() is safe to call from OpenMP threads: the count is atomic and
// only one thread at a time redraws, at most every 0.1 s.
#pragma once

#include <atomic>
#include <chrono>
#include <iosfwd>
#include <mutex>
#include <string>

namespace mtif {

// Where Progress bars go by default: nullptr (the default) = nowhere.
void set_progress_stream(std::ostream* out);
std::ostream* progress_stream();

class Progress {
 public:
  // `what` names the unit ("rows scored", "refits"). Nothing is drawn before
  // `delay_s` has passed, so short jobs leave no trace even on a terminal
  // (the environment variable MTIF_PROGRESS_DELAY, in seconds, overrides it).
  Progress(std::string what, long long total, std::ostream* out = progress_stream(), double delay_s = 0.5);
  ~Progress();  // draws the finished bar and ends its line, if a bar was drawn
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(long long n = 1);  // thread-safe
  long long done() const { return done_.load(); }

 private:
  void draw(long long done, bool final);

  std::string what_;
  long long total_;
  std::ostream* out_;
  double delay_s_;
  std::atomic<long long> done_{0};
  std::mutex draw_mutex_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace mtif
