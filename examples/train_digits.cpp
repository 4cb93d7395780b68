// The flagship training run: an MLP learns to read 8×8 handwritten digits (UCI, data/), with the
// lecture's tools together — standardised features, shuffled mini-batches, BatchNorm and
// dropout, decoupled weight decay (none on biases and norms), Lookahead, a warm-up into a
// schedule, gradient clipping. Any optimizer and schedule of optim by name (--help lists them).
// It shows a progress bar on a terminal (one line per epoch otherwise), writes the loss after
// every update as CSV and plots it with the held-out accuracy, saves the model, and — with
// --save-state / --resume — continues an interrupted run to the bit-identical end. Built with
// descent::distributed it also trains data-parallel: --distributed under mpirun -np R, or
// --local-ranks R in one process, with byte-identical results.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/choices.hpp"
#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/ranks.hpp"
#include "support/run_files.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

struct Settings {
    std::string optimizer = "adamw", schedule = "cosine";
    std::optional<double> lr, weight_decay;
    bool lookahead = true;
    std::int64_t warmup = 50, epochs = 40, batch_size = 64, stop_after = 0;
    bool distributed = false;
    int local_ranks = 0;
    std::uint64_t seed = 0;
    std::string seed_text = "0";  // as given: parsed into seed, checked
    // under build/ by default, so that a run from the source tree leaves nothing beside it
    std::string curve = "build/digits_loss.csv", plot = "build/digits_loss.png",
                checkpoint = "build/digits_mlp.safetensors", save_state, resume;
};

/// The run's counters, saved with the training state.
struct Counters {
    std::int64_t step = 0, epochs_done = 0, epoch_batches = 0;
    double epoch_loss = 0.0;
};

/// The flags that shape a run, as "--flag value" pairs: a training state records them, and a
/// run resumed from it must give the same (its schedule, split and batches follow from them).
std::vector<std::pair<std::string, std::string>> shaping_flags(const Settings& s) {
    const auto number = [](const std::optional<double>& v) {
        return v ? fmt::format("{}", *v) : std::string("default");
    };
    return {{"--optimizer", s.optimizer},
            {"--lr", number(s.lr)},
            {"--weight-decay", number(s.weight_decay)},
            {"--lookahead", s.lookahead ? "on" : "off"},
            {"--schedule", s.schedule},
            {"--warmup", std::to_string(s.warmup)},
            {"--epochs", std::to_string(s.epochs)},
            {"--batch-size", std::to_string(s.batch_size)},
            {"--seed", std::to_string(s.seed)}};
}

std::string settings_text(const Settings& s) {
    std::string text;
    for (const auto& [flag, value] : shaping_flags(s)) text += flag + " " + value + "\n";
    return text;
}

/// Refuses to resume from `path` with other shaping flags than it was saved with, naming the
/// first that differs.
void check_resumable(const std::string& path, const Settings& s) {
    const nn::Checkpoint saved = nn::load_checkpoint(path);
    const auto it = saved.metadata.find("settings.value");
    if (it == saved.metadata.end()) {
        throw dc::Error(
            fmt::format("--resume {}: not a training state of train_digits (no "
                        "settings in it)",
                        path));
    }
    std::istringstream lines(it->second);
    std::string line;
    for (const auto& [flag, value] : shaping_flags(s)) {
        if (!std::getline(lines, line)) break;
        const std::string saved_value = line.substr(std::min(line.size(), flag.size() + 1));
        if (line.rfind(flag + " ", 0) == 0 && saved_value != value) {
            throw dc::Error(
                fmt::format("--resume {}: the run was saved with {} {}, this one has "
                            "{} {}: resume with the saved flags, or start anew",
                            path, flag, saved_value, flag, value));
        }
    }
}

/// "<name>_epochs.csv" beside the loss curve's file.
std::string epochs_file(const std::string& curve) {
    const std::filesystem::path p(curve);
    return (p.parent_path() / (p.stem().string() + "_epochs.csv")).string();
}

/// The first `keep` data lines of a CSV (after its header), or just the header if the file is
/// missing: a resumed run rewrites its curves up to where the state was saved.
std::vector<std::string> csv_prefix(const std::string& path, const std::string& header,
                                    std::int64_t keep) {
    std::vector<std::string> lines{header};
    std::ifstream in(path);
    std::string line;
    if (in && std::getline(in, line) && line == header)
        while (static_cast<std::int64_t>(lines.size()) <= keep && std::getline(in, line))
            lines.push_back(line);
    return lines;
}

std::ofstream rewrite(const std::string& path, const std::vector<std::string>& lines) {
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw dc::Error("cannot write " + path);
    for (const std::string& l : lines) out << l << '\n';
    return out;
}

/// Loss against updates (with the held-out accuracy per epoch) above the learning rate.
void plot(const Settings& s, const std::vector<double>& steps, const std::vector<double>& losses,
          const std::vector<double>& lrs, const std::vector<double>& epoch_steps,
          const std::vector<double>& accuracies) {
    support::Panel loss{.title = "training loss after every update (Tip 1: watch this curve)",
                        .xlabel = "updates",
                        .ylabel = "cross-entropy (log scale)",
                        .curves = {{"loss per mini-batch", steps, losses}},
                        .right = {{"held-out accuracy", epoch_steps, accuracies, "linespoints"}},
                        .y2label = "held-out accuracy",
                        .log_y = true,
                        .key = "right center"};
    support::Panel rate{
        .title = "learning rate",
        .xlabel = "updates",
        .ylabel = "lr",
        .curves = {{s.schedule + (s.warmup > 0 ? " after warm-up" : ""), steps, lrs}}};
    const std::string title = fmt::format("digits MLP: {}{}, {} schedule, seed {}", s.optimizer,
                                          s.lookahead ? " + Lookahead" : "", s.schedule, s.seed);
    support::draw({.title = title, .panels = {loss, rate}, .height = 800}, s.plot);
}

/// One rank's run (the whole run in one process); only the lead rank prints and writes files.
int run(const Settings& s, support::Ranks& ranks) {
    if (ranks.lead()) {  // before any training
        for (const auto& [flag, path] : {std::pair{"--curve", s.curve},
                                         {"--plot", s.plot},
                                         {"--checkpoint", s.checkpoint},
                                         {"--save-state", s.save_state}}) {
            if (!path.empty()) support::check_writable(flag, path);
        }
        support::check_writable("--curve", epochs_file(s.curve));
    }
    dc::manual_seed(s.seed);
    const data::Dataset digits = data::digits();
    const data::DataSplit data = data::train_val_test_split(
        digits.features, digits.labels,
        {.validation = 0.1, .test = 0.2, .stratify = true, .seed = s.seed});
    data::Standardizer scaler;  // fitted on the training rows only
    const dc::Tensor x_train = scaler.fit_transform(data.x_train);
    const dc::Tensor x_val = scaler.transform(data.x_validation),
                     x_test = scaler.transform(data.x_test);
    // every rank draws the same order and takes its shard of each global batch; a last batch of
    // one row is dropped (batch normalisation needs two)
    const bool one_row_left = data.y_train.numel() % s.batch_size == 1;
    data::DataLoader loader(x_train, data.y_train,
                            {.batch_size = s.batch_size,
                             .drop_last = one_row_left,
                             .seed = s.seed,
                             .num_replicas = ranks.size(),
                             .rank = ranks.rank()});

    nn::Sequential model{nn::Linear(64, 128)};
    ranks.push_batch_norm(model, 128);
    model.push_back(nn::ReLU());
    model.push_back(nn::Dropout(0.2));
    model.push_back(nn::Linear(128, 10));
    ranks.replicate(model);
    const support::OptimizerInfo& info = support::optimizer_info(s.optimizer);
    const double lr = s.lr.value_or(info.lr);
    support::OptimizerStack optimizer =
        support::make_optimizer(s.optimizer, opt::split_for_weight_decay(model.named_parameters()),
                                lr, s.weight_decay.value_or(info.weight_decay), s.lookahead);
    std::int64_t total = 0;
    if (__builtin_mul_overflow(s.epochs, loader.batches(), &total)) {
        throw dc::Error(
            fmt::format("--epochs {}: {} batches an epoch make more updates than "
                        "can be counted",
                        s.epochs, loader.batches()));
    }
    opt::LRScheduler schedule(optimizer.get(),
                              support::make_schedule(s.schedule, total, lr, s.warmup));
    std::optional<opt::ReduceLROnPlateau> plateau;
    if (s.schedule == "plateau")
        plateau.emplace(optimizer.get(), opt::PlateauOptions{.factor = 0.5, .patience = 2});

    Counters at;
    std::string settings = settings_text(s);
    data::TrainingState state;
    state.add("model", model).add("optimizer", optimizer.get()).add("scheduler", schedule);
    if (plateau) state.add("plateau", *plateau);
    state.add("loader", loader).add("scaler", scaler).add_generator();
    state.add("step", at.step).add("epochs_done", at.epochs_done);
    state.add("epoch_batches", at.epoch_batches).add("epoch_loss", at.epoch_loss);
    state.add("settings", settings);
    const bool lead = ranks.lead();
    if (!s.resume.empty()) {
        check_resumable(s.resume, s);
        state.load(s.resume);
        if (lead)
            fmt::print("resumed {} at update {} (epoch {}, batch {})\n", s.resume, at.step,
                       at.epochs_done + 1, at.epoch_batches);
    }
    // the state resumed from is kept: states are written to --save-state only
    const std::string& save_state = s.save_state;
    if (s.stop_after > 0 && save_state.empty()) throw dc::Error("--stop-after needs --save-state");

    const std::string epochs_csv = epochs_file(s.curve);
    const std::string epochs_header = "epoch,step,loss,validation_accuracy,test_accuracy";
    std::ofstream curve, epoch_log;  // the lead rank's
    if (lead) {                      // the other ranks train the same replica and write nothing
        curve = rewrite(s.curve, csv_prefix(s.curve, "step,loss,lr", at.step));
        epoch_log = rewrite(epochs_csv, csv_prefix(epochs_csv, epochs_header, at.epochs_done));
        fmt::print("{} training, {} validation, {} test images; {} updates; {}{} lr {:g}, {}{}\n",
                   data.y_train.numel(), data.y_validation.numel(), data.y_test.numel(), total,
                   s.optimizer, s.lookahead ? " + Lookahead" : "", lr, s.schedule,
                   s.warmup > 0 ? fmt::format(" after {} warm-up updates", s.warmup) : "");
        if (ranks.size() > 1)
            fmt::print("data-parallel over {} ranks: {} of each batch's {} rows on each\n",
                       ranks.size(), s.batch_size / ranks.size(), s.batch_size);
        if (one_row_left)
            fmt::print("the last batch of each epoch, one row, is dropped (BatchNorm needs two)\n");
    }

    const auto start = std::chrono::steady_clock::now();
    const std::int64_t start_step = at.step;
    while (at.epochs_done < s.epochs) {
        const std::int64_t epoch = at.epochs_done + 1;
        support::Progress bar(fmt::format("epoch {:3d}/{}", epoch, s.epochs), loader.batches(),
                              lead && support::stdout_is_terminal());
        model.train();
        // Resumed from a state saved after an epoch's last batch, only the end-of-epoch work is
        // left: the loader, asked for batches, would start (and shuffle) the next epoch.
        if (at.epoch_batches < loader.batches()) {
            for (auto& batch : loader) {
                // dropout masks keyed by (seed, update, row): the same whichever rank has the row
                const descent::SampleKeys keys(batch.indices, s.seed,
                                               static_cast<std::uint64_t>(at.step));
                // the shard's summed loss over the global batch's rows: the ranks' gradients add
                // up to the gradient of the global batch's mean loss
                const dc::Tensor loss =
                    nn::cross_entropy(model(batch.x), batch.y,
                                      {.reduction = nn::Reduction::sum, .label_smoothing = 0.05}) /
                    static_cast<double>(batch.global_rows);
                optimizer.get().zero_grad();
                loss.backward();
                ranks.reduce_gradients();
                opt::clip_grad_norm(model.parameters(), 5.0);
                const double rate = optimizer.get().param_groups()[0].lr();
                optimizer.get().step();
                schedule.step();
                const double global_loss = ranks.sum(loss.item());
                at.epoch_loss += global_loss;
                ++at.epoch_batches;
                ++at.step;
                if (lead) {
                    curve << at.step << ',' << fmt::format("{}", global_loss) << ','
                          << fmt::format("{}", rate) << '\n';
                    bar.update(at.epoch_batches,
                               at.epoch_loss / static_cast<double>(at.epoch_batches));
                }
                if (at.step == s.stop_after) {
                    bar.finish();
                    if (lead) {
                        state.save(save_state);
                        fmt::print("stopped after update {}; resume with --resume {}\n", at.step,
                                   save_state);
                    }
                    return 0;
                }
            }
        }
        bar.finish();
        model.eval();
        const dc::NoGradGuard no_grad;
        const dc::Tensor val_logits = model(x_val);
        const double val_loss = nn::cross_entropy(val_logits, data.y_validation).item();
        if (plateau) plateau->step(val_loss);
        const double mean_loss = at.epoch_loss / static_cast<double>(at.epoch_batches);
        const double val_acc = data::accuracy(val_logits, data.y_validation);
        const double test_acc = data::accuracy(model(x_test), data.y_test);
        at.epochs_done = epoch;
        at.epoch_batches = 0;
        at.epoch_loss = 0.0;
        if (!lead) continue;
        fmt::print("epoch {:3d}  loss {:.4f}  validation accuracy {:.4f}  test accuracy {:.4f}\n",
                   epoch, mean_loss, val_acc, test_acc);
        epoch_log << fmt::format("{},{},{},{},{}\n", epoch, at.step, mean_loss, val_acc, test_acc);
        if (!save_state.empty()) state.save(save_state);
    }
    if (!lead) return 0;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    nn::save(model.state_dict(), s.checkpoint,
             {{"format", "pt"}, {"data", "UCI optdigits (CC BY 4.0)"}});
    fmt::print("{} updates in {:.2f} s ({:.0f} updates/s)\n", at.step - start_step, seconds,
               static_cast<double>(at.step - start_step) / seconds);
    fmt::print("loss curve: {}  epochs: {}  checkpoint: {}\n", s.curve, epochs_csv, s.checkpoint);
    curve.close();
    epoch_log.close();

    // The figure from the files, so that a resumed run draws the whole run.
    const data::CsvOptions columns{.target = data::TargetKind::none, .dtype = dc::float64};
    const dc::Tensor updates = data::read_csv(s.curve, columns).features;
    const dc::Tensor epochs = data::read_csv(epochs_csv, columns).features;
    const auto column = [](const dc::Tensor& t, std::int64_t c) {
        return t.slice(1, c, c + 1).to_vector();
    };
    plot(s, column(updates, 0), column(updates, 1), column(updates, 2), column(epochs, 1),
         column(epochs, 4));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train an MLP on the UCI handwritten digits with descent."};
    Settings s;
    std::vector<std::string> optimizer_names, schedule_names;
    for (const auto& o : support::optimizers()) optimizer_names.push_back(o.name);
    for (const auto& sc : support::schedules()) schedule_names.push_back(sc.name);
    std::string optimizers_help = "the optimizer (default lr / weight decay):";
    for (const auto& o : support::optimizers())
        optimizers_help +=
            fmt::format("\n  {:9} {} ({:g} / {:g})", o.name, o.description, o.lr, o.weight_decay);
    std::string schedules_help = "the learning-rate schedule over the run:";
    for (const auto& sc : support::schedules())
        schedules_help += fmt::format("\n  {:12} {}", sc.name, sc.description);
    app.add_option("--optimizer", s.optimizer, optimizers_help)
        ->check(CLI::IsMember(optimizer_names))
        ->capture_default_str();
    app.add_option("--schedule", s.schedule, schedules_help)
        ->check(CLI::IsMember(schedule_names))
        ->capture_default_str();
    app.add_option("--lr", s.lr, "peak learning rate (default: the optimizer's)")
        ->check(CLI::PositiveNumber);
    app.add_option("--weight-decay", s.weight_decay, "weight decay (default: the optimizer's)")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--lookahead,!--no-lookahead", s.lookahead,
                 "wrap the optimizer in Lookahead (k = 5, α = 0.5)")
        ->capture_default_str();
    app.add_option("--warmup", s.warmup, "linear warm-up updates from lr/10 (0: none)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--epochs", s.epochs, "passes over the training set")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--batch-size", s.batch_size, "rows per mini-batch (BatchNorm needs 2)")
        ->check(CLI::Range(std::int64_t{2}, std::numeric_limits<std::int64_t>::max()))
        ->capture_default_str();
    app.add_option("--seed", s.seed_text, "seed of every random draw, 0 to 2^64 - 1")
        ->capture_default_str();
    app.add_option("--curve", s.curve, "CSV of the loss after every update (and <name>_epochs.csv)")
        ->capture_default_str();
    app.add_option("--plot", s.plot, "PNG of the loss curve (needs gnuplot)")
        ->capture_default_str();
    app.add_option("--checkpoint", s.checkpoint, "where to save the trained model")
        ->capture_default_str();
    app.add_option("--save-state", s.save_state,
                   "training-state file, written after every epoch (and at --stop-after)");
    app.add_option("--resume", s.resume, "continue the run saved in this training-state file");
    app.add_option("--stop-after", s.stop_after, "stop after this many updates in all (0: never)")
        ->check(CLI::NonNegativeNumber);
#ifdef DESCENT_HAVE_DISTRIBUTED
    app.add_flag("--distributed", s.distributed,
                 "train data-parallel, one rank per MPI process: mpirun -np R train_digits "
                 "--distributed (each rank takes batch-size/R rows of every batch)");
    app.add_option("--local-ranks", s.local_ranks,
                   "train data-parallel on R ranks emulated as threads of this process "
                   "(byte-identical to mpirun -np R)")
        ->check(CLI::Range(1, 256))
        ->excludes("--distributed");
#endif
    CLI11_PARSE(app, argc, argv);
    try {
        s.seed = support::parse_seed(s.seed_text);
#ifdef DESCENT_HAVE_DISTRIBUTED
        namespace distributed = descent::distributed;
        if (s.distributed) {
            distributed::MpiWorld world;
            return distributed::run_or_abort(world, [&] {
                support::Ranks ranks(world);
                return run(s, ranks);
            });
        }
        if (s.local_ranks > 0) {
            int code = 0;
            distributed::run_local(s.local_ranks, [&](distributed::Communicator& world) {
                support::Ranks ranks(world);
                const int rank_code = run(s, ranks);
                if (world.rank() == 0) code = rank_code;
            });
            return code;
        }
#endif
        support::Ranks one_process;
        return run(s, one_process);
    } catch (const std::exception& e) {
        fmt::print(stderr, "train_digits: {}\n", e.what());
        return 1;
    }
}
