// The lecture's closing table, measured: which optimizer for which field. Each experiment
// trains Team SGD and Team Adam under a protocol fixed in source (examples/fields/: grids,
// seeds, budgets), prints its table (mean ± sd over seeds) and draws its figure into --out:
//   theory    Wilson et al. 2017's least-squares construction (fields/theory.cpp)
//   vision    a small CNN on Fashion-MNIST, five optimizers (fields/vision.cpp)
//   language  next-word models of tiny Shakespeare, SGD(M) vs Adam (fields/language.cpp)
//   gan       a GAN on a ring of 8 Gaussians, Adam (β₁ = 0.5) vs SGD momentum (fields/gan.cpp)
//   rl        REINFORCE on CartPole, Adam vs SGD momentum (fields/reinforce.cpp)
// --quick runs a CI-sized protocol in seconds; two runs write byte-identical files.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <descent/error.hpp>

#include <filesystem>
#include <string>
#include <utility>

#include "fields/gan.hpp"
#include "fields/language.hpp"
#include "fields/protocol.hpp"
#include "fields/reinforce.hpp"
#include "fields/theory.hpp"
#include "fields/vision.hpp"
#include "support/run_files.hpp"

namespace {

struct Options {
    std::string experiment = "all";
    bool quick = false;
    std::filesystem::path out = ".";
};

int run(const Options& options) {
    const fields::Scale scale = options.quick ? fields::Scale::quick : fields::Scale::full;
    const bool all = options.experiment == "all";
    const bool theory = all || options.experiment == "theory";
    const bool vision = all || options.experiment == "vision";
    const bool language = all || options.experiment == "language";
    const bool gan = all || options.experiment == "gan";
    const bool rl = all || options.experiment == "rl";
    fields::Runs runs;
    const fields::TheoryProtocol theory_protocol = fields::theory_protocol(scale);
    const fields::VisionProtocol vision_protocol = fields::vision_protocol(scale);
    const fields::LanguageProtocol language_protocol = fields::language_protocol(scale);
    const fields::GanProtocol gan_protocol = fields::gan_protocol(scale);
    const fields::RlProtocol rl_protocol = fields::rl_protocol(scale);
    if (theory) runs.add(fields::theory_runs(theory_protocol));
    if (vision) runs.add(fields::vision_runs(vision_protocol));
    if (language) runs.add(fields::language_runs(language_protocol));
    if (gan) runs.add(fields::gan_runs(gan_protocol));
    if (rl) runs.add(fields::rl_runs(rl_protocol));
    const std::pair<const char*, bool> experiments[] = {
        {"theory", theory}, {"vision", vision}, {"language", language}, {"gan", gan}, {"rl", rl}};
    for (const auto& [name, on] : experiments)
        if (on)  // refused before any training, not after minutes of it
            support::check_writable(
                "--out", (options.out / fmt::format("optimizer_fields_{}.txt", name)).string());
    const auto show = [&](const std::string& name, const std::string& table) {
        runs.finish();
        fmt::print("{}\n", table);
        fields::write_file(options.out, "optimizer_fields_" + name + ".txt", table);
    };
    if (theory) {
        const fields::TheoryResult result = fields::run_theory(theory_protocol, &runs);
        show("theory", fields::theory_table(result));
        fields::draw_theory(result, options.out / "optimizer_fields_theory.png");
    }
    if (vision) {
        const fields::VisionResult result = fields::run_vision(vision_protocol, &runs);
        show("vision", fields::vision_table(result));
        fields::draw_vision(result, options.out / "optimizer_fields_vision.png");
    }
    if (language) {
        const fields::LanguageResult result = fields::run_language(language_protocol, &runs);
        show("language", fields::language_table(result));
        fields::draw_language(result, options.out / "optimizer_fields_language.png");
    }
    if (gan) {
        const fields::GanResult result = fields::run_gan(gan_protocol, &runs);
        show("gan", fields::gan_table(result));
        fields::draw_gan(result, options.out / "optimizer_fields_gan.png");
    }
    if (rl) {
        const fields::RlResult result = fields::run_rl(rl_protocol, &runs);
        show("rl", fields::rl_table(result));
        fields::draw_rl(result, options.out / "optimizer_fields_rl.png");
    }
    fmt::print("{} run in {:.1f} s\n", options.quick ? "quick protocol" : "full protocol",
               runs.elapsed());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"Which optimizer for which field: Team SGD vs Team Adam, measured."};
    app.add_option("--experiment", options.experiment, "which experiment to run")
        ->check(CLI::IsMember({"theory", "vision", "language", "gan", "rl", "all"}))
        ->capture_default_str();
    app.add_flag("--quick", options.quick, "the CI-sized protocol (seconds)");
    app.add_option("--out", options.out, "directory for the tables and figures")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        return run(options);
    } catch (const descent::Error& e) {
        fmt::print(stderr, "optimizer_fields: {}\n", e.what());
        return 1;
    }
}
