// run_options.hpp: the shared options, with their checks and defaults shown in --help.

#include "support/run_options.hpp"

#include <fmt/format.h>

namespace support {

void add_run_options(CLI::App& app, const RunOptions& o, std::string_view checkpoint_holds) {
    app.add_option("--seed", o.seed, "seed of every random draw, 0 to 2^64 - 1")
        ->capture_default_str();
    app.add_option("--threads", o.threads, "threads for the products (0: OpenMP's default)")
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    app.add_option("--curve", o.curve, "CSV of the loss after every update (and <name>_epochs.csv)")
        ->capture_default_str();
    app.add_option("--plot", o.plot, "PNG of the loss curves (needs gnuplot)")
        ->capture_default_str();
    app.add_option("--checkpoint", o.checkpoint,
                   fmt::format("training state ({}), written after every epoch", checkpoint_holds))
        ->capture_default_str();
    app.add_option("--resume", o.resume, "continue the run saved in this checkpoint");
    app.add_option("--stop-after", o.stop_after,
                   "stop after this many updates in all, saving the checkpoint (0: never)")
        ->check(CLI::NonNegativeNumber);
}

}  // namespace support
