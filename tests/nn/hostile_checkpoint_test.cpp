// Checkpoint files against a hostile file system and hostile headers: loading and saving
// FIFOs, devices, directories and sockets (refused at once, never blocking, left untouched),
// saving through symbolic links (chains, dangling, loops), permission bits, temporaries removed
// on failure and swept after a crash, shapes that overflow, and every truncation of a file.

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <descent/autograd.hpp>
#include <descent/nn/checkpoint.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint_files.hpp"

namespace dc = descent;
namespace nn = descent::nn;
namespace fs = std::filesystem;
using Catch::Contains;
using namespace descent::test;

namespace {

/// Sets the umask while alive.
struct UmaskGuard {
    mode_t previous;
    explicit UmaskGuard(mode_t mask) : previous(::umask(mask)) {}
    ~UmaskGuard() { ::umask(previous); }
};

dc::NamedTensors sample_tensors() {
    return {{"w", dc::tensor({1, 2, 3, 4, 5, 6}, {2, 3})},
            {"b", dc::tensor({0.5, -0.5}, {2}, {.dtype = dc::float64})},
            {"step", dc::int_tensor({42}, {})}};
}

dc::NamedTensors other_tensors() {
    return {{"v", dc::tensor({-1, 7}, {2})}};
}

/// A header of one F32 tensor "w" of this shape (JSON) and these data_offsets (JSON).
std::string one_tensor(const std::string& shape, const std::string& offsets = "[0,0]") {
    return R"({"w":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}}";
}

/// The message of the FormatError that parsing `bytes` throws (fails on anything else).
std::string parse_error(const std::string& bytes, const std::string& source = "hostile") {
    try {
        nn::from_safetensors(bytes, source);
    } catch (const dc::FormatError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected a descent::FormatError, got: " << e.what());
    }
    FAIL("expected a descent::FormatError, parsing succeeded");
    return {};
}

/// The message of the FormatError that loading `path` throws (fails on anything else).
std::string load_error(const fs::path& path) {
    try {
        nn::load_checkpoint(path);
    } catch (const dc::FormatError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected a descent::FormatError, got: " << e.what());
    }
    FAIL("expected a descent::FormatError, loading succeeded");
    return {};
}

/// The message of the descent::Error that saving to `path` throws (fails on anything else).
std::string save_error(const fs::path& path, const dc::NamedTensors& tensors = sample_tensors()) {
    try {
        nn::save(tensors, path);
    } catch (const dc::Error& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected a descent::Error, got: " << e.what());
    }
    FAIL("expected a descent::Error, saving succeeded");
    return {};
}

struct stat lstat_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

mode_t mode_of(const fs::path& path) {
    return lstat_of(path).st_mode & 07777;
}

void make_fifo(const fs::path& path) {
    REQUIRE(::mkfifo(path.c_str(), 0644) == 0);
}

/// A Unix socket bound at `path`; closed (the file stays) when it goes out of scope.
struct BoundSocket {
    int fd;
    explicit BoundSocket(const fs::path& path) : fd(::socket(AF_UNIX, SOCK_STREAM, 0)) {
        REQUIRE(fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path.string().size() < sizeof(addr.sun_path));
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    }
    ~BoundSocket() { ::close(fd); }
};

/// A pid that no process has (kill reports ESRCH).
pid_t dead_pid() {
    for (pid_t pid = 4194000; pid > 1; --pid) {
        if (::kill(pid, 0) != 0 && errno == ESRCH) return pid;
    }
    FAIL("no free pid");
    return 0;
}

/// The name a save gives its temporaries of `target` for this pid and counter.
std::string temp_name(const std::string& target, pid_t pid, std::uint64_t counter) {
    return fmt::format(".{}.{}.{}.descent-tmp", target.substr(0, 64), pid, counter);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// --- loading what is not a regular file ---------------------------------------------------

TEST_CASE("hostile: load of a FIFO without a writer fails at once", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path fifo = dir.path / "model.safetensors";
    make_fifo(fifo);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(nn::load(fifo), dc::FormatError);
    CHECK_THAT(load_error(fifo),
               Contains(fifo.string()) && Contains("not a regular file") && Contains("FIFO"));
    CHECK(seconds_since(start) < 0.5);
    CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
}

TEST_CASE("hostile: load through a symlink to a FIFO fails at once", "[checkpoint][hostile]") {
    TempDir dir;
    make_fifo(dir.path / "fifo");
    const fs::path link = dir.path / "link.safetensors";
    fs::create_symlink("fifo", link);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THAT(load_error(link), Contains(link.string()) && Contains("FIFO"));
    CHECK(seconds_since(start) < 0.5);
}

TEST_CASE("hostile: load of a directory", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path sub = dir.path / "ckpt.safetensors";
    fs::create_directory(sub);
    CHECK_THROWS_AS(nn::load(sub), dc::FormatError);
    CHECK_THAT(load_error(sub), Contains(sub.string()) && Contains("a directory"));
}

TEST_CASE("hostile: load of /dev/null", "[checkpoint][hostile]") {
    CHECK_THROWS_AS(nn::load("/dev/null"), dc::FormatError);
    CHECK_THAT(load_error("/dev/null"),
               Contains("/dev/null") && Contains("not a regular file but a character device"));
}

TEST_CASE("hostile: load of /dev/zero neither blocks nor reads forever", "[checkpoint][hostile]") {
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(nn::load("/dev/zero"), dc::FormatError);
    CHECK_THAT(load_error("/dev/zero"), Contains("/dev/zero") && Contains("character device"));
    CHECK(seconds_since(start) < 0.5);
}

TEST_CASE("hostile: load of a socket", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path sock = dir.path / "s";
    const BoundSocket bound(sock);
    CHECK_THAT(load_error(sock), Contains(sock.string()) && Contains("a socket"));
}

TEST_CASE("hostile: load of a symlink loop names the path", "[checkpoint][hostile]") {
    TempDir dir;
    fs::create_symlink("b", dir.path / "a");
    fs::create_symlink("a", dir.path / "b");
    CHECK_THAT(load_error(dir.path / "a"),
               Contains((dir.path / "a").string()) && Contains("cannot open"));
}

// --- hostile headers ------------------------------------------------------------------------

TEST_CASE("hostile: a zero extent next to huge ones is refused", "[checkpoint][hostile]") {
    // The element count is 0, but the extents multiply past int64: strides would overflow.
    const std::string shape = "[0,4611686018427387904,4611686018427387904]";
    CHECK_THAT(parse_error(file_with(one_tensor(shape))),
               Contains("hostile") && Contains("tensor \"w\"") && Contains(shape) &&
                   Contains("overflows"));
    CHECK_THAT(parse_error(file_with(one_tensor("[4611686018427387904,0,4611686018427387904]"))),
               Contains("overflows"));
    CHECK_THAT(parse_error(file_with(one_tensor("[4611686018427387904,4611686018427387904,0]"))),
               Contains("overflows"));
    // From a file: the error names the path and nothing is allocated.
    TempDir dir;
    const fs::path path = dir.path / "zero.safetensors";
    write_file(path, file_with(one_tensor(shape)));
    CHECK_THAT(load_error(path),
               Contains(path.string()) && Contains("tensor \"w\"") && Contains("overflows"));
}

TEST_CASE("hostile: a zero extent next to extents that fit gives an empty tensor",
          "[checkpoint][hostile]") {
    const nn::Checkpoint c = nn::from_safetensors(file_with(one_tensor("[0,4611686018427387904]")));
    REQUIRE(c.tensors.size() == 1);
    CHECK(c.tensors[0].second.shape() == dc::Shape{0, 4611686018427387904});
    CHECK(c.tensors[0].second.numel() == 0);
}

TEST_CASE("hostile: negative extents", "[checkpoint][hostile]") {
    for (const std::string shape : {"[-1]", "[2,-3]", "[0,-1]", "[-9223372036854775808]"}) {
        INFO(shape);
        CHECK_THAT(parse_error(file_with(one_tensor(shape))),
                   Contains("tensor \"w\"") && Contains("non-negative integers"));
    }
}

TEST_CASE("hostile: shape is not an array", "[checkpoint][hostile]") {
    for (const std::string shape : {"3", "null", "{}", "\"[2]\"", "true"}) {
        INFO(shape);
        CHECK_THAT(parse_error(file_with(one_tensor(shape))),
                   Contains("tensor \"w\"") && Contains("shape must be a list"));
    }
}

TEST_CASE("hostile: extents as floats", "[checkpoint][hostile]") {
    for (const std::string shape : {"[2.0]", "[1.5]", "[1e3]", "[-0.0]", "[0.0,2]"}) {
        INFO(shape);
        CHECK_THAT(parse_error(file_with(one_tensor(shape))),
                   Contains("tensor \"w\"") && Contains("not a list of non-negative integers"));
    }
}

TEST_CASE("hostile: header length of 2^63", "[checkpoint][hostile]") {
    const std::string bytes = le64(std::uint64_t{1} << 63) + "{}";
    CHECK_THAT(parse_error(bytes), Contains("9223372036854775808") && Contains("exceeds"));
    CHECK_THAT(parse_error(le64(~std::uint64_t{0}) + "{}"), Contains("exceeds"));
    TempDir dir;
    const fs::path path = dir.path / "long.safetensors";
    write_file(path, bytes);
    CHECK_THAT(load_error(path), Contains(path.string()) && Contains("exceeds the limit"));
}

TEST_CASE("hostile: a header that claims more data than present", "[checkpoint][hostile]") {
    const std::string bytes = file_with(one_tensor("[4]", "[0,16]"), std::string(8, '\0'));
    CHECK_THAT(parse_error(bytes), Contains("[0,16]") && Contains("beyond the data section"));
    TempDir dir;
    const fs::path path = dir.path / "short.safetensors";
    write_file(path, bytes);
    CHECK_THAT(load_error(path),
               Contains(path.string()) && Contains("beyond the data section of 8 bytes"));
}

TEST_CASE("hostile: a header length running past the end of the file", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path path = dir.path / "cut.safetensors";
    write_file(path, le64(1000) + "{}");
    CHECK_THAT(load_error(path), Contains(path.string()) && Contains("header length 1000") &&
                                     Contains("runs past the end"));
}

TEST_CASE("hostile: every truncation of a valid checkpoint is a FormatError",
          "[checkpoint][hostile]") {
    const std::string good = nn::to_safetensors(sample_tensors(), {{"epoch", "3"}});
    TempDir dir;
    const fs::path path = dir.path / "t.safetensors";
    std::size_t format_errors = 0;
    for (std::size_t n = 0; n < good.size(); ++n) {
        INFO("truncated to " << n << " of " << good.size() << " bytes");
        write_file(path, good.substr(0, n));
        const std::string from_file = load_error(path);
        CHECK_THAT(from_file, Contains(path.string()));
        CHECK_FALSE(parse_error(good.substr(0, n)).empty());
        if (!from_file.empty()) ++format_errors;
    }
    CHECK(format_errors == good.size());
    write_file(path, good);  // the whole file still loads
    require_identical(nn::load(path), sample_tensors());
}

TEST_CASE("hostile: a tensor larger than memory in a sparse file", "[checkpoint][hostile]") {
    // 2^38 floats (1 TiB) whose bytes are all "present" in a sparse file: the header is valid,
    // the allocation is not. Before reading per tensor this was a 1 TiB std::string.
    TempDir dir;
    const fs::path path = dir.path / "sparse.safetensors";
    const std::uint64_t nbytes = std::uint64_t{1} << 40;
    const std::string header = one_tensor("[274877906944]", "[0,1099511627776]");
    write_file(path, file_with(header));
    std::error_code ec;
    fs::resize_file(path, 8 + header.size() + nbytes, ec);
    if (ec) {
        WARN("cannot make a 1 TiB sparse file here: " << ec.message());
        return;
    }
    CHECK_THAT(load_error(path),
               Contains(path.string()) && Contains("tensor \"w\"") && Contains("cannot allocate"));
}

// --- saving onto what is not a regular file -------------------------------------------------

TEST_CASE("hostile: save onto a FIFO is refused and leaves it alone", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path fifo = dir.path / "fifo.safetensors";
    make_fifo(fifo);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THAT(save_error(fifo), Contains("save") && Contains(fifo.string()) &&
                                     Contains("a FIFO, not a regular file"));
    CHECK(seconds_since(start) < 0.5);
    CHECK(S_ISFIFO(lstat_of(fifo).st_mode));
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"fifo.safetensors"});
}

TEST_CASE("hostile: save onto a directory is refused and leaves it alone",
          "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path sub = dir.path / "ckpt.safetensors";
    fs::create_directory(sub);
    CHECK_THROWS_AS(nn::save(sample_tensors(), sub), dc::Error);
    CHECK_THAT(save_error(sub), Contains(sub.string()) && Contains("a directory"));
    CHECK(fs::is_directory(sub));
    CHECK(fs::is_empty(sub));
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("hostile: save onto /dev/null is refused and it stays a device",
          "[checkpoint][hostile]") {
    const struct stat before = lstat_of("/dev/null");
    REQUIRE(S_ISCHR(before.st_mode));
    CHECK_THAT(save_error("/dev/null"),
               Contains("save") && Contains("/dev/null") && Contains("character device"));
    const struct stat after = lstat_of("/dev/null");
    CHECK(S_ISCHR(after.st_mode));
    CHECK(after.st_rdev == before.st_rdev);
    CHECK(after.st_ino == before.st_ino);
}

TEST_CASE("hostile: save onto a socket is refused", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path sock = dir.path / "s";
    const BoundSocket bound(sock);
    CHECK_THAT(save_error(sock), Contains(sock.string()) && Contains("a socket"));
    CHECK(S_ISSOCK(lstat_of(sock).st_mode));
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"s"});
}

TEST_CASE("hostile: save through a symlink to a FIFO is refused", "[checkpoint][hostile]") {
    TempDir dir;
    make_fifo(dir.path / "fifo");
    const fs::path link = dir.path / "link";
    fs::create_symlink(dir.path / "fifo", link);
    CHECK_THAT(save_error(link), Contains(link.string()) && Contains("FIFO"));
    CHECK(fs::is_symlink(link));
    CHECK(S_ISFIFO(lstat_of(dir.path / "fifo").st_mode));
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"fifo", "link"});
}

// --- saving through symbolic links ----------------------------------------------------------

TEST_CASE("hostile: save through a symlink writes its target", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path target = dir.path / "real.safetensors";
    const fs::path link = dir.path / "link.safetensors";
    nn::save(other_tensors(), target);
    fs::create_symlink("real.safetensors", link);

    nn::save(sample_tensors(), link);
    CHECK(fs::is_symlink(link));
    CHECK(fs::read_symlink(link) == "real.safetensors");
    CHECK(S_ISREG(lstat_of(target).st_mode));
    CHECK(read_file(target) == nn::to_safetensors(sample_tensors()));
    require_identical(nn::load(link), sample_tensors());
    require_identical(nn::load(target), sample_tensors());
    CHECK(dir_entries(dir.path) ==
          std::vector<std::string>{"link.safetensors", "real.safetensors"});
}

TEST_CASE("hostile: save through a dangling symlink creates its target", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path link = dir.path / "link.safetensors";
    fs::create_symlink("new.safetensors", link);
    REQUIRE_FALSE(fs::exists(link));
    nn::save(sample_tensors(), link);
    CHECK(fs::is_symlink(link));
    CHECK(S_ISREG(lstat_of(dir.path / "new.safetensors").st_mode));
    require_identical(nn::load(link), sample_tensors());
    require_identical(nn::load(dir.path / "new.safetensors"), sample_tensors());
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"link.safetensors", "new.safetensors"});
}

TEST_CASE("hostile: save through a chain of two links into another directory",
          "[checkpoint][hostile]") {
    TempDir dir;
    fs::create_directories(dir.path / "store");
    const fs::path first = dir.path / "first";
    fs::create_symlink(dir.path / "second", first);                      // absolute
    fs::create_symlink("store/final.safetensors", dir.path / "second");  // relative to its dir
    nn::save(other_tensors(), dir.path / "store" / "final.safetensors");

    nn::save(sample_tensors(), first);
    CHECK(fs::is_symlink(first));
    CHECK(fs::is_symlink(dir.path / "second"));
    require_identical(nn::load(first), sample_tensors());
    require_identical(nn::load(dir.path / "store" / "final.safetensors"), sample_tensors());
    // The temporary was made beside the final target and is gone.
    CHECK(dir_entries(dir.path / "store") == std::vector<std::string>{"final.safetensors"});
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"first", "second", "store"});
}

TEST_CASE("hostile: a symlink loop is a clear save error", "[checkpoint][hostile]") {
    TempDir dir;
    fs::create_symlink("b", dir.path / "a");
    fs::create_symlink("a", dir.path / "b");
    CHECK_THAT(save_error(dir.path / "a"), Contains("save") &&
                                               Contains((dir.path / "a").string()) &&
                                               Contains("symbolic links") && Contains("loop"));
    CHECK(fs::read_symlink(dir.path / "a") == "b");
    CHECK(fs::read_symlink(dir.path / "b") == "a");
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"a", "b"});
    // A link to itself too.
    fs::create_symlink("self", dir.path / "self");
    CHECK_THAT(save_error(dir.path / "self"), Contains("symbolic links"));
}

TEST_CASE("hostile: 40 links are followed, 41 are refused", "[checkpoint][hostile]") {
    TempDir dir;
    const auto link = [&](int i) { return dir.path / fmt::format("l{}", i); };
    fs::create_symlink("target", link(40));
    for (int i = 39; i >= 0; --i) fs::create_symlink(link(i + 1).filename(), link(i));
    nn::save(sample_tensors(), link(1));  // l1 → ... → l40 → target: 40 links
    require_identical(nn::load(dir.path / "target"), sample_tensors());
    CHECK_THAT(save_error(link(0), other_tensors()), Contains("more than 40 symbolic links"));
    require_identical(nn::load(dir.path / "target"), sample_tensors());
}

// --- permission bits ------------------------------------------------------------------------

TEST_CASE("hostile: save keeps the permission bits of the file it replaces",
          "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path path = dir.path / "m.safetensors";
    nn::save(other_tensors(), path);
    for (const mode_t mode : {mode_t{0600}, mode_t{0640}, mode_t{0444}, mode_t{0755}}) {
        INFO("mode " << std::oct << mode);
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        nn::save(sample_tensors(), path);
        CHECK(mode_of(path) == mode);
        require_identical(nn::load(path), sample_tensors());
    }
}

TEST_CASE("hostile: save through a symlink keeps the target's permission bits",
          "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path target = dir.path / "t.safetensors";
    nn::save(other_tensors(), target);
    REQUIRE(::chmod(target.c_str(), 0640) == 0);
    fs::create_symlink("t.safetensors", dir.path / "l");
    nn::save(sample_tensors(), dir.path / "l");
    CHECK(mode_of(target) == 0640);
    CHECK(fs::is_symlink(dir.path / "l"));
}

TEST_CASE("hostile: a new file gets 0666 & ~umask", "[checkpoint][hostile]") {
    TempDir dir;
    for (const mode_t mask : {mode_t{022}, mode_t{027}, mode_t{077}, mode_t{0}}) {
        INFO("umask " << std::oct << mask);
        const fs::path path = dir.path / fmt::format("new{:o}.safetensors", mask);
        {
            const UmaskGuard guard(mask);
            nn::save(sample_tensors(), path);
        }
        CHECK(mode_of(path) == (0666 & ~mask));
    }
}

// --- failures leave nothing behind ----------------------------------------------------------

TEST_CASE("hostile: a failed save leaves no temporary", "[checkpoint][hostile]") {
    TempDir dir;
    SECTION("the parent path is a regular file") {
        write_file(dir.path / "file", "x");
        const fs::path path = dir.path / "file" / "m.safetensors";
        CHECK_THAT(save_error(path), Contains("save") && Contains(path.string()));
        CHECK(dir_entries(dir.path) == std::vector<std::string>{"file"});
        CHECK(read_file(dir.path / "file") == "x");
    }
    SECTION("the name is longer than NAME_MAX") {
        const fs::path path = dir.path / (std::string(300, 'n') + ".safetensors");
        CHECK_THAT(save_error(path), Contains("save") && Contains(path.string()));
        CHECK(dir_entries(dir.path).empty());
    }
    SECTION("writing fails midway (file size limit)") {
        const fs::path path = dir.path / "m.safetensors";
        nn::save(other_tensors(), path);
        const std::string old_bytes = read_file(path);
        const dc::NamedTensors big = {{"big", dc::zeros({1 << 18})}};  // 1 MiB
        // Nothing but the save runs while the limit is set (Catch's output may go to a file).
        rlimit saved{};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
        const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
        rlimit small = saved;
        small.rlim_cur = 64 * 1024;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message;
        try {
            nn::save(big, path);
        } catch (const dc::Error& e) {
            message = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &saved);
        ::signal(SIGXFSZ, old_handler);
        CHECK_THAT(message, Contains("save") && Contains(path.string()) &&
                                Contains("cannot write") && Contains(".descent-tmp"));
        CHECK(dir_entries(dir.path) == std::vector<std::string>{"m.safetensors"});
        CHECK(read_file(path) == old_bytes);
    }
    SECTION("the path names a directory inside a missing one") {
        const fs::path path = dir.path / "missing" / "m.safetensors";
        CHECK_THAT(save_error(path), Contains("cannot create") && Contains(path.string()));
        CHECK(dir_entries(dir.path).empty());
    }
}

// --- temporaries left by a crash --------------------------------------------------------------

TEST_CASE("hostile: the next save removes temporaries of dead savers only",
          "[checkpoint][hostile]") {
    TempDir dir;
    const std::string name = "m.safetensors";
    const pid_t dead = dead_pid();
    const std::string stale = temp_name(name, dead, 3);
    const std::string live = temp_name(name, ::getpid(), 999999);
    const std::string parent = temp_name(name, ::getppid(), 5);
    const std::string other_target = temp_name("other.safetensors", dead, 1);
    const std::string not_a_temp = fmt::format(".{}.{}.x.descent-tmp", name, dead);
    for (const std::string& f : {stale, live, parent, other_target, not_a_temp}) {
        write_file(dir.path / f, "partial");
    }
    fs::create_directory(dir.path / temp_name(name, dead, 4));  // not a regular file: kept

    nn::save(sample_tensors(), dir.path / name);
    CHECK_FALSE(fs::exists(dir.path / stale));
    CHECK(read_file(dir.path / live) == "partial");
    CHECK(read_file(dir.path / parent) == "partial");
    CHECK(fs::exists(dir.path / other_target));
    CHECK(fs::exists(dir.path / not_a_temp));
    CHECK(fs::is_directory(dir.path / temp_name(name, dead, 4)));
    require_identical(nn::load(dir.path / name), sample_tensors());
}

TEST_CASE("hostile: stale temporaries of a long name use its first 64 bytes",
          "[checkpoint][hostile]") {
    TempDir dir;
    const std::string name = std::string(100, 'q') + ".safetensors";
    const std::string stale = temp_name(name, dead_pid(), 0);
    REQUIRE(stale.size() < 120);
    write_file(dir.path / stale, "partial");
    nn::save(sample_tensors(), dir.path / name);
    CHECK(dir_entries(dir.path) == std::vector<std::string>{name});
}

TEST_CASE("hostile: stale temporaries beside a symlink's target are swept",
          "[checkpoint][hostile]") {
    TempDir dir;
    fs::create_directories(dir.path / "store");
    fs::create_symlink("store/final", dir.path / "link");
    const std::string stale = temp_name("final", dead_pid(), 12);
    write_file(dir.path / "store" / stale, "partial");
    nn::save(sample_tensors(), dir.path / "link");
    CHECK(dir_entries(dir.path / "store") == std::vector<std::string>{"final"});
}

TEST_CASE("hostile: concurrent saves to one path never collide", "[checkpoint][hostile]") {
    TempDir dir;
    const fs::path path = dir.path / "c.safetensors";
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const dc::NamedTensors tensors = {{"t", dc::int_tensor({t}, {1})}};
            for (int i = 0; i < 10; ++i) {
                try {
                    nn::save(tensors, path);
                } catch (const std::exception&) {
                    ++failures;
                }
            }
        });
    }
    for (std::thread& t : threads) t.join();
    CHECK(failures == 0);
    const dc::NamedTensors back = nn::load(path);
    REQUIRE(back.size() == 1);
    const std::int64_t winner = back[0].second.to_int_vector().at(0);
    CHECK(winner >= 0);
    CHECK(winner < 4);
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"c.safetensors"});
}

TEST_CASE("hostile: a path with a NUL byte is refused, not cut short", "[checkpoint][hostile]") {
    TempDir dir;
    const std::string cut = (dir.path / "a").string();
    const fs::path with_nul(cut + std::string(1, '\0') + "b");
    CHECK_THROWS_WITH(nn::save(sample_tensors(), with_nul), Contains("NUL"));
    CHECK_FALSE(fs::exists(cut));
    CHECK_THROWS_AS(nn::load(with_nul), dc::FormatError);
}
