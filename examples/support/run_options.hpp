#pragma once
// The command-line options every resumable training example shares: seed, threads, the curve
// and plot files, the checkpoint, --resume and --stop-after, bound to the example's settings.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace support {

/// Where each shared option is stored. `seed` is the text as given (parse_seed reads it after
/// parsing: CLI11 would wrap 2^64 and -1 around).
struct RunOptions {
    std::string& seed;
    int& threads;
    std::string& curve;
    std::string& plot;
    std::string& checkpoint;
    std::string& resume;
    std::int64_t& stop_after;
};

/// Adds the shared options to `app`; `checkpoint_holds` says what the example's training state
/// holds (for --checkpoint's help).
void add_run_options(CLI::App& app, const RunOptions& options, std::string_view checkpoint_holds);

}  // namespace support
