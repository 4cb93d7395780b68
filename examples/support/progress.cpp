// The progress bar: "label [=====>    ] 12/23  loss 0.1234  1520 updates/s  0:03 left".

#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace support {

bool stdout_is_terminal() {
    return isatty(STDOUT_FILENO) == 1;
}

Progress::Progress(std::string label, std::int64_t total, bool interactive)
    : label_(std::move(label)),
      total_(std::max<std::int64_t>(total, 1)),
      interactive_(interactive) {}

double Progress::rate() const {
    const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
}

void Progress::update(std::int64_t done, double loss) {
    done_ = done;
    if (!interactive_) return;
    const auto now = Clock::now();
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    const double per_second = rate();
    const auto left =
        per_second > 0 ? static_cast<std::int64_t>(static_cast<double>(total_ - done) / per_second)
                       : 0;
    fmt::print("\r{} [{}] {}/{}  loss {:.4f}  {:.0f} updates/s  {}:{:02d} left\x1b[K", label_, bar,
               done, total_, loss, per_second, left / 60, left % 60);
    std::fflush(stdout);
}

void Progress::finish() {
    if (!interactive_) return;
    fmt::print("\r\x1b[K");
    std::fflush(stdout);
}

}  // namespace support
