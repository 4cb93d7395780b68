#pragma once
// What the checkpoint tests share: a temporary directory per test, whole-file reads and
// writes, hand-built safetensors bytes, and bit-exact comparison of tensor lists.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <descent/autograd.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace descent::test {

namespace fs = std::filesystem;

/// A fresh empty directory of its own, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        static int counter = 0;
        path = fs::temp_directory_path() / ("descent_ckpt_test_" + std::to_string(::getpid()) +
                                            "_" + std::to_string(counter++));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

inline std::string raw_bytes(const Tensor& t) {
    const auto n = static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
    return n == 0 ? std::string() : std::string(static_cast<const char*>(t.raw_data()), n);
}

/// Same names, dtypes, shapes and bytes, in the same order.
inline void require_identical(const NamedTensors& a, const NamedTensors& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("tensor " << a[i].first);
        CHECK(a[i].first == b[i].first);
        CHECK(a[i].second.dtype() == b[i].second.dtype());
        CHECK(a[i].second.shape() == b[i].second.shape());
        CHECK(raw_bytes(a[i].second) == raw_bytes(b[i].second));
    }
}

inline std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out);
}

inline std::vector<std::string> dir_entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

/// n as 8 little-endian bytes.
inline std::string le64(std::uint64_t n) {
    std::string out;
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
    return out;
}

/// A file with this header text (unpadded) and data section.
inline std::string file_with(const std::string& header, const std::string& data = "") {
    return le64(header.size()) + header + data;
}

}  // namespace descent::test
