#include "support/run_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <descent/nn.hpp>
#include <filesystem>
#include <sstream>

namespace support {

std::uint64_t parse_seed(const std::string& text) {
    std::uint64_t seed = 0;
    const char* first = text.data();
    const char* last = first + text.size();
    const auto [end, ec] = std::from_chars(first, last, seed);
    if (ec != std::errc() || end != last) {
        throw descent::Error(fmt::format("--seed {}: not a whole number from 0 to 2^64 - 1", text));
    }
    return seed;
}

void check_writable(const std::string& flag, const std::string& path) {
    namespace fs = std::filesystem;
    const fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    const bool existed = fs::exists(path);
    const bool regular = !existed || fs::is_regular_file(path);
    const int fd = !regular
                       ? -1
                       : ::open(path.c_str(),
                                existed ? O_WRONLY | O_APPEND : O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        throw descent::Error(
            fmt::format("{} {}: cannot be written ({})", flag, path,
                        !regular ? "not a regular file" : std::string(std::strerror(errno))));
    }
    ::close(fd);
    if (!existed) fs::remove(path, ec);
}

void check_resumable(const std::string& path, const std::string& settings,
                     std::string_view program) {
    const auto& saved = descent::nn::load_checkpoint(path).metadata;
    const auto it = saved.find("settings.value");
    if (it == saved.end()) {
        throw descent::Error(fmt::format("--resume {}: not a checkpoint of {}", path, program));
    }
    std::istringstream ours(settings), theirs(it->second);
    for (std::string a, b; std::getline(ours, a) && std::getline(theirs, b);) {
        if (a != b) {
            throw descent::Error(fmt::format(
                "--resume {}: saved with {}, this run has {}: resume with the saved flags, or "
                "start anew",
                path, b, a));
        }
    }
}

}  // namespace support
