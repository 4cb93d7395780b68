// Summaries over seeds, the progress bar over runs, the output files.

#include "fields/protocol.hpp"

#include <fmt/format.h>
#include <descent/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

namespace fields {

Summary summarize(const std::vector<double>& values) {
    Summary s{.n = values.size()};
    if (values.empty()) return s;
    for (const double v : values) s.mean += v;
    s.mean /= static_cast<double>(values.size());
    if (values.size() < 2) return s;
    double squares = 0.0;  // sd = √(Σ(v − mean)² / (n − 1))
    for (const double v : values) squares += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(squares / static_cast<double>(values.size() - 1));
    return s;
}

std::string format_pm(const Summary& s, int digits) {
    return fmt::format("{:.{}f} ± {:.{}f}", s.mean, digits, s.sd, digits);
}

double win_rate(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size() || a.empty())
        throw descent::Error("win_rate: " + std::to_string(a.size()) + " against " +
                             std::to_string(b.size()) + " seeds");
    double wins = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) wins += a[i] > b[i] ? 1.0 : a[i] == b[i] ? 0.5 : 0.0;
    return wins / static_cast<double>(a.size());
}

Runs::Runs(bool interactive) : interactive_(interactive) {}

double Runs::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Runs::done(const std::string& label) {
    ++done_;
    if (!interactive_ || total_ <= 0) return;
    constexpr std::int64_t width = 30;
    const std::int64_t filled = std::min(width, width * done_ / total_);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < width) bar += '>';
    bar.resize(width, ' ');
    const double seconds = elapsed();  // time left: the mean time per run so far
    const auto left = static_cast<std::int64_t>(seconds / static_cast<double>(done_) *
                                                static_cast<double>(total_ - done_));
    const auto spent = static_cast<std::int64_t>(seconds);
    fmt::print("\r{:7} [{}] {}/{} runs  {}:{:02d} elapsed  {}:{:02d} left\x1b[K", label, bar, done_,
               total_, spent / 60, spent % 60, left / 60, left % 60);
    std::fflush(stdout);
}

void Runs::finish() {
    if (!interactive_) return;
    fmt::print("\r\x1b[K");
    std::fflush(stdout);
}

std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text) {
    std::filesystem::create_directories(dir);
    const std::filesystem::path path = dir / name;
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw descent::Error("optimizer_fields: cannot write " + path.string());
    return path;
}

}  // namespace fields
