// Saving a checkpoint file atomically (see checkpoint.hpp). The bytes go to a temporary file
// beside the final target (the end of the path's chain of symbolic links, so a link stays a
// link), are flushed, given the permission bits of the file they replace and renamed onto it;
// then the directory is flushed. A target that exists but is not a regular file (a FIFO, a
// device, a directory, a socket) is refused untouched.
//
// Temporaries are named ".<target name, at most 64 bytes>.<pid>.<counter>.descent-tmp". A save
// removes its own on every failure, and first removes those of savers that died (their pid is
// no live process); those of live processes, concurrent savers, are never touched.

#include "descent/nn/checkpoint.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>

#include "atomic_write.hpp"
#include "descent/error.hpp"
#include "posix_file.hpp"

namespace descent::nn {
namespace {

namespace fs = std::filesystem;

/// Symbolic links followed from the path to the final target (Linux's MAXSYMLINKS).
constexpr int kMaxSymlinkHops = 40;
/// The bytes of the target's name kept in a temporary's name, which so stays within NAME_MAX.
constexpr std::size_t kMaxStemBytes = 64;
constexpr std::string_view kTempSuffix = ".descent-tmp";

/// A failure to write the file, given its label and path by write_file_atomically.
struct WriteFailure {
    std::string what;
};

[[noreturn]] void save_error(const fs::path& /*path*/, std::string_view what) {
    throw WriteFailure{std::string(what)};
}

/// The file a save replaces or creates: the end of the chain of symbolic links.
struct Target {
    fs::path path;
    std::optional<mode_t> mode;  ///< the permission bits of the file there, if there is one
};

/// Where the symbolic link `link` points, resolved against the link's directory.
fs::path follow_link(const fs::path& link, const fs::path& checkpoint) {
    std::array<char, PATH_MAX> buffer{};
    const ssize_t n = ::readlink(link.c_str(), buffer.data(), buffer.size());
    if (n < 0 || static_cast<std::size_t>(n) == buffer.size()) {
        save_error(checkpoint, fmt::format("cannot read the symbolic link {}: {}", link.string(),
                                           n < 0 ? errno_text(errno) : "too long"));
    }
    const fs::path to(std::string(buffer.data(), static_cast<std::size_t>(n)));
    return to.is_absolute() ? to : link.parent_path() / to;
}

Target resolve_target(const fs::path& checkpoint) {
    if (checkpoint.native().find('\0') != std::string::npos) {
        save_error(checkpoint, "the path holds a NUL byte, which would cut it short");
    }
    fs::path path = checkpoint;
    for (int hops = 0;; ++hops) {
        if (!path.has_filename()) save_error(checkpoint, path.string() + " names no file");
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            if (errno == ENOENT) return {path, std::nullopt};  // a new file
            save_error(checkpoint,
                       fmt::format("cannot inspect {}: {}", path.string(), errno_text(errno)));
        }
        if (S_ISREG(st.st_mode)) return {path, st.st_mode & 07777};
        if (!S_ISLNK(st.st_mode)) {
            save_error(checkpoint, fmt::format("{} is {}, not a regular file; nothing was written",
                                               path == checkpoint ? "it" : path.string(),
                                               file_kind(st.st_mode)));
        }
        if (hops == kMaxSymlinkHops) {
            save_error(checkpoint, fmt::format("more than {} symbolic links to follow (a loop?)",
                                               kMaxSymlinkHops));
        }
        path = follow_link(path, checkpoint);
    }
}

/// ".<name, at most 64 bytes>.": how the names of the temporaries of `target` begin.
std::string temp_prefix(const fs::path& target) {
    return fmt::format(".{}.", target.filename().string().substr(0, kMaxStemBytes));
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

/// The pid in "<prefix><pid>.<counter>.descent-tmp", if `name` is a temporary of that prefix.
std::optional<pid_t> temp_owner(std::string_view name, std::string_view prefix) {
    if (name.size() <= prefix.size() + kTempSuffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(kTempSuffix)) {
        return std::nullopt;
    }
    name = name.substr(prefix.size(), name.size() - prefix.size() - kTempSuffix.size());
    const std::size_t dot = name.find('.');
    if (dot == std::string_view::npos || !all_digits(name.substr(0, dot)) ||
        !all_digits(name.substr(dot + 1))) {
        return std::nullopt;
    }
    pid_t pid = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + dot, pid);
    if (ec != std::errc() || pid <= 0) return std::nullopt;
    return pid;
}

/// Removes the regular files in `dir` named as temporaries of `prefix` whose pid is no live
/// process. Best effort: what cannot be listed or removed stays.
void remove_stale_temporaries(const fs::path& dir, std::string_view prefix) {
    const std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), ::closedir);
    if (!listing) return;
    while (const dirent* entry = ::readdir(listing.get())) {
        const std::optional<pid_t> owner = temp_owner(entry->d_name, prefix);
        if (!owner || ::kill(*owner, 0) == 0 || errno != ESRCH) continue;  // alive, or unknown
        struct stat st {};
        if (::fstatat(::dirfd(listing.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode)) {
            ::unlinkat(::dirfd(listing.get()), entry->d_name, 0);
        }
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR; returns 0 or an errno.
int write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

/// A fresh temporary file beside the target, removed when it goes out of scope unless it was
/// renamed onto the target: no failure, error or exception, leaves it behind.
class TempFile {
  public:
    /// Creates it in `dir` with `mode` (which the umask restricts).
    TempFile(const fs::path& dir, const std::string& prefix, mode_t mode,
             const fs::path& checkpoint)
        : checkpoint_(checkpoint), fd_(create(dir, prefix, mode)) {}
    ~TempFile() {
        if (!renamed_) ::unlink(path_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    /// Writes `bytes`, sets the permission bits `mode` if given, flushes and closes the file.
    void write(std::string_view bytes, std::optional<mode_t> mode) {
        if (const int err = write_all(fd_.get(), bytes); err != 0) fail("cannot write", err);
        if (mode && ::fchmod(fd_.get(), *mode) != 0) fail("cannot set the permissions of", errno);
        if (::fsync(fd_.get()) != 0) fail("cannot flush", errno);
        if (const int err = fd_.close(); err != 0) fail("cannot close", err);
    }

    /// Renames the file onto `target` (atomic: the same directory).
    void rename_onto(const fs::path& target) {
        if (::rename(path_.c_str(), target.c_str()) != 0) fail("cannot rename onto it", errno);
        renamed_ = true;
    }

  private:
    /// Opens a name of the pattern that no file has yet; sets path_.
    int create(const fs::path& dir, const std::string& prefix, mode_t mode) {
        static std::atomic<std::uint64_t> counter{0};
        for (int attempt = 0;; ++attempt) {
            path_ = dir /
                    fmt::format("{}{}.{}{}", prefix, ::getpid(), counter.fetch_add(1), kTempSuffix);
            const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
            if (fd >= 0) return fd;
            if (errno != EEXIST || attempt >= 100) fail("cannot create", errno);
        }
    }

    [[noreturn]] void fail(std::string_view what, int err) const {
        save_error(checkpoint_, fmt::format("{} {}: {}", what, path_.string(), errno_text(err)));
    }

    const fs::path& checkpoint_;
    fs::path path_;
    FileDescriptor fd_;
    bool renamed_ = false;
};

/// Makes a rename in `dir` durable; a failure leaves a complete file, so it is ignored.
void sync_directory(const fs::path& dir) {
    const FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
}

void write_checkpoint(std::string_view bytes, const fs::path& checkpoint) {
    const Target target = resolve_target(checkpoint);
    const fs::path dir = target.path.has_parent_path() ? target.path.parent_path() : ".";
    const std::string prefix = temp_prefix(target.path);
    remove_stale_temporaries(dir, prefix);
    // A file that replaces another is private until it gets the old one's permission bits;
    // a new one gets 0666 & ~umask.
    TempFile temp(dir, prefix, target.mode ? 0600 : 0666, checkpoint);
    temp.write(bytes, target.mode);
    temp.rename_onto(target.path);
    sync_directory(dir);
}

}  // namespace

void write_file_atomically(std::string_view bytes, const fs::path& path, std::string_view label) {
    try {
        write_checkpoint(bytes, path);
    } catch (const WriteFailure& failure) {
        throw Error(fmt::format("{} {}: {}", label, printable_path(path), failure.what));
    }
}

void save(const StateDict& state, const fs::path& path, const Metadata& metadata) {
    Metadata all = metadata;
    for (const auto& [key, text] : state.texts) {
        const auto [it, added] = all.emplace(key, text);
        if (!added && it->second != text) {
            throw Error(fmt::format("save: the state's text '{}' and the metadata's differ ({})",
                                    key, printable_path(path)));
        }
    }
    constexpr std::string_view label = "save: cannot write checkpoint";
    try {
        // bad input: nothing written
        write_file_atomically(to_safetensors(state, all), path, label);
    } catch (const Error&) {
        throw;
    } catch (const std::bad_alloc&) {
        throw Error(fmt::format("{} {}: out of memory", label, printable_path(path)));
    } catch (const std::exception& e) {
        throw Error(fmt::format("{} {}: {}", label, printable_path(path), e.what()));
    }
}

}  // namespace descent::nn
