#pragma once
// What the training examples check of their command line before they train: a seed in full
// (CLI11 would wrap -1 and 2^64 around), output files that can be written (never blocking on a
// FIFO), and a checkpoint saved with the same shaping flags.

#include <cstdint>
#include <string>
#include <string_view>

namespace support {

/// The seed as given, or an Error unless it is a whole number from 0 to 2^64 − 1.
std::uint64_t parse_seed(const std::string& text);

/// Refuses, before any training, an output path that cannot be written: its directory is made
/// if missing, a path that is not a regular file (a FIFO, a device, a directory) is refused, and
/// the file is opened for writing (appending to one that exists, so nothing of it changes; a new
/// one is removed again).
void check_writable(const std::string& flag, const std::string& path);

/// Refuses to resume from `path` unless its "settings" text holds the same lines as `settings`
/// ("--flag value" each), naming the first that differs; `program` names the example.
void check_resumable(const std::string& path, const std::string& settings,
                     std::string_view program);

}  // namespace support
