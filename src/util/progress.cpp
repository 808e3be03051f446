#include "mtif/progress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>

namespace mtif {

namespace {
std::atomic<std::ostream*> g_progress_stream{nullptr};

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string clock_text(double s) {
  if (!(s >= 0) || s > 360000) return "--:--";
  const long t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60) : fmt::format("{:02}:{:02}", t / 60, t % 60);
}
}  // namespace

void set_progress_stream(std::ostream* out) { g_progress_stream = out; }
std::ostream* progress_stream() { return g_progress_stream; }

Progress::Progress(std::string what, long long total, std::ostream* out, double delay_s)
    : what_(std::move(what)), total_(std::max(total, 1LL)), out_(out), delay_s_(delay_s),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  // Tests set MTIF_PROGRESS_DELAY=0 so that a bar appears however fast the machine is.
  if (const char* delay = std::getenv("MTIF_PROGRESS_DELAY")) delay_s_ = std::atof(delay);
}

Progress::~Progress() {
  if (!out_) return;
  std::lock_guard<std::mutex> lock(draw_mutex_);
  if (drawn_) {
    draw(done_.load(), true);
    *out_ << '\n' << std::flush;
  }
}

void Progress::add(long long n) {
  const long long done = done_.fetch_add(n) + n;
  if (!out_) return;
  // Only one thread redraws; the others carry on instead of waiting.
  std::unique_lock<std::mutex> lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  const auto now = std::chrono::steady_clock::now();
  if (seconds_between(start_, now) < delay_s_ || (drawn_ && seconds_between(last_draw_, now) < 0.1)) return;
  last_draw_ = now;
  draw(done, false);
}

void Progress::draw(long long done, bool final) {
  const double fraction = std::min(1.0, double(done) / double(total_));
  const double elapsed = seconds_between(start_, std::chrono::steady_clock::now());
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '=');
  if (filled < kWidth) bar += '>' + std::string(kWidth - filled - 1, ' ');
  const std::string tail = final ? fmt::format("in {}", clock_text(elapsed))
                                 : fmt::format("ETA {}", clock_text(fraction > 0 ? elapsed * (1 - fraction) / fraction : -1));
  // \r returns to the line start; the trailing blanks wipe a longer previous line.
  *out_ << fmt::format("\r{} [{}] {:3.0f}% {}/{} {}   ", what_, bar, 100 * fraction, done, total_, tail) << std::flush;
  drawn_ = true;
}

}  // namespace mtif
