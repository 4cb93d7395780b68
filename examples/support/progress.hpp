#pragma once
// A progress bar for one epoch on a terminal: batches done, running loss, updates per second
// and time left, redrawn in place at most ten times a second. When stdout is not a terminal
// (CI, a pipe) it draws nothing, and the caller's one line per epoch is the log.

#include <chrono>
#include <cstdint>
#include <string>

namespace support {

/// Whether stdout is a terminal.
bool stdout_is_terminal();

class Progress {
  public:
    Progress(std::string label, std::int64_t total, bool interactive = stdout_is_terminal());
    /// `done` of `total` batches are finished; `loss` is the running mean so far.
    void update(std::int64_t done, double loss);
    /// Clears the bar (the caller prints the epoch's line next).
    void finish();
    /// Updates per second since construction.
    double rate() const;

  private:
    using Clock = std::chrono::steady_clock;
    std::string label_;
    std::int64_t total_;
    bool interactive_;
    std::int64_t done_ = 0;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_draw_{};
};

}  // namespace support
