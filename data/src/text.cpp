// read_text and tiny_shakespeare (text.hpp).

#include "descent/data/text.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "descent/data/datasets.hpp"
#include "descent/error.hpp"
#include "file_bytes.hpp"

namespace descent::data {

std::string read_text(const std::filesystem::path& path, std::uint64_t max_bytes) {
    detail::FileBytes file(path, "read_text: " + nn::printable_path(path));
    std::string text;
    constexpr std::uint64_t kBlock = std::uint64_t{1} << 20;
    for (;;) {  // grown as the data arrives
        const std::uint64_t at = text.size();
        if (at >= max_bytes) {
            if (file.at_end()) break;
            throw FormatError(fmt::format("{}: more than max_bytes = {} bytes of text",
                                          file.source(), max_bytes));
        }
        const std::uint64_t want = std::min(kBlock, max_bytes - at);
        text.resize(at + want);
        const std::uint64_t got = file.read_some(text.data() + at, want);
        text.resize(at + got);
        if (got < want) break;
    }
    return text;
}

std::string tiny_shakespeare() {
    return read_text(data_directory() / "tinyshakespeare.txt.gz");
}

}  // namespace descent::data
