// A small convolutional network learns Fashion-MNIST (Debian's dataset-fashion-mnist): 28×28
// grey images of ten kinds of clothing. The lecture's advice for vision: SGD with Nesterov
// momentum and weight decay, a warm-up into a cosine schedule, and data augmentation (random
// crops of the zero-padded image, horizontal flips), each transform drawing from a generator of
// its own. It shows a progress bar on a terminal (one line per epoch otherwise), writes the loss
// after every update as CSV and plots it with the test accuracy, and saves the whole training
// state after every epoch: --resume continues an interrupted run to the bit-identical end.

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/plot.hpp"
#include "support/progress.hpp"
#include "support/run_files.hpp"
#include "support/run_options.hpp"

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

struct Settings {
    std::int64_t epochs = 8, batch_size = 128, limit = 0, stop_after = 0;
    int threads = 0;
    double lr = 0.05, weight_decay = 5e-4;
    std::uint64_t seed = 0;
    std::string curve = "build/fashion_loss.csv", plot = "build/fashion_loss.png",
                checkpoint = "build/fashion_cnn.safetensors", resume;
};

/// The flags that shape a run, one "--flag value" a line: saved in the checkpoint, and a run
/// resumed from it must have the same (its schedule, batches and draws follow from them; the
/// thread count changes how products are split, and so the last bits of the weights).
std::string shaping_flags(const Settings& s) {
    return fmt::format("--epochs {}\n--batch-size {}\n--limit {}\n--lr {}\n--weight-decay {}\n",
                       s.epochs, s.batch_size, s.limit, s.lr, s.weight_decay) +
           fmt::format("--seed {}\n--threads {}\n", s.seed, dc::get_num_threads());
}

/// Two blocks of conv 3×3 → BatchNorm → ReLU → 2×2 max pool (28² → 14² → 7²), then a hidden
/// layer of 128 with dropout, and the linear layer to the ten classes. No conv bias: the BatchNorm
/// after it has one.
nn::Sequential make_model(std::int64_t c1 = 16, std::int64_t c2 = 32) {
    const nn::ConvLayerOptions same{.padding = 1, .bias = false};
    nn::Sequential model;
    model.push_back(nn::Conv2d(1, c1, 3, same));  // [N, 1, 28, 28] → [N, c1, 28, 28]
    model.push_back(nn::BatchNorm2d(c1));
    model.push_back(nn::ReLU());
    model.push_back(nn::MaxPool2d(2));  // → [N, c1, 14, 14]
    model.push_back(nn::Conv2d(c1, c2, 3, same));
    model.push_back(nn::BatchNorm2d(c2));
    model.push_back(nn::ReLU());
    model.push_back(nn::MaxPool2d(2));  // → [N, c2, 7, 7]
    model.push_back(nn::Flatten());     // → [N, c2·7·7]
    model.push_back(nn::Linear(c2 * 7 * 7, 128));
    model.push_back(nn::ReLU());
    model.push_back(nn::Dropout(0.25));
    model.push_back(nn::Linear(128, 10));
    return model;
}

/// Pixels in [0, 1] to roughly zero mean and unit variance (Fashion-MNIST's training
/// statistics).
dc::Tensor normalize(const dc::Tensor& x) {
    return (x - 0.2860) / 0.3530;
}

/// Accuracy on the test images, in batches (evaluation mode: running BatchNorm statistics, no
/// dropout; no tape).
double test_accuracy(nn::Sequential& model, const data::ImageDataset& test) {
    const dc::NoGradGuard no_grad;
    model.eval();
    std::int64_t correct = 0;
    const std::int64_t n = test.labels.numel();
    for (std::int64_t i = 0; i < n; i += 500) {
        const std::int64_t end = std::min(n, i + 500);
        const dc::Tensor y = test.labels.slice(0, i, end);
        const double acc = data::accuracy(model(normalize(test.images.slice(0, i, end))), y);
        correct += std::llround(acc * static_cast<double>(end - i));
    }
    model.train();
    return static_cast<double>(correct) / static_cast<double>(n);
}

/// The curves as CSV: the loss and lr after every update, and one line per epoch.
void write_curves(const std::string& path, const std::vector<double>& losses,
                  const std::vector<double>& lrs, const std::vector<double>& epoch_steps,
                  const std::vector<double>& epoch_losses, const std::vector<double>& accuracies) {
    std::ofstream updates(path);
    updates << "step,loss,lr\n";
    for (std::size_t i = 0; i < losses.size(); ++i)
        updates << fmt::format("{},{},{}\n", i + 1, losses[i], lrs[i]);
    const std::filesystem::path p(path);
    std::ofstream epochs(p.parent_path() / (p.stem().string() + "_epochs.csv"));
    epochs << "epoch,step,loss,test_accuracy\n";
    for (std::size_t e = 0; e < accuracies.size(); ++e)
        epochs << fmt::format("{},{},{},{}\n", e + 1, epoch_steps[e], epoch_losses[e],
                              accuracies[e]);
    if (!updates || !epochs) throw dc::Error("cannot write the curves beside " + path);
}

int run(const Settings& s) {
    for (const auto& [flag, path] :
         {std::pair{"--curve", s.curve}, {"--plot", s.plot}, {"--checkpoint", s.checkpoint}})
        support::check_writable(flag, path);
    // On a machine shared with other busy programs, one thread is the faster choice: a split
    // product waits for its slowest thread (README, "Threads").
    if (s.threads > 0) dc::set_num_threads(s.threads);
    dc::manual_seed(s.seed);
    data::ImageDataset train = data::load_fashion_mnist(data::Split::train);
    const data::ImageDataset test = data::load_fashion_mnist(data::Split::test);
    if (s.limit > 0 && s.limit < train.labels.numel()) {  // a quick run on the first images
        train.images = train.images.slice(0, 0, s.limit);
        train.labels = train.labels.slice(0, 0, s.limit);
    }
    // drop_last: a last batch of few images would give BatchNorm noisy statistics
    data::DataLoader loader(train.images, train.labels,
                            {.batch_size = s.batch_size, .drop_last = true, .seed = s.seed});
    if (loader.batches() == 0) {
        throw dc::Error(
            fmt::format("--limit {}: fewer images than one batch of {}", s.limit, s.batch_size));
    }
    // Each image is shifted by up to 2 pixels (a 28×28 crop of the image padded to 32×32) and
    // mirrored with probability ½: new variants every epoch, the same for the same seeds.
    data::Compose augment(data::RandomCrop(28, {.padding = 2, .seed = s.seed + 1}),
                          data::RandomHorizontalFlip(0.5, s.seed + 2));

    nn::Sequential model = make_model();
    // weight decay on the conv and linear weights only, not on biases and BatchNorm's scales
    const opt::DecaySplit groups = opt::split_for_weight_decay(model.named_parameters());
    opt::SGD sgd(groups.decay,
                 {.lr = s.lr, .momentum = 0.9, .weight_decay = s.weight_decay, .nesterov = true});
    sgd.add_param_group(groups.no_decay, {.lr = s.lr, .momentum = 0.9, .nesterov = true});
    const std::int64_t total = s.epochs * loader.batches();
    // a short warm-up (BatchNorm's statistics settle), then cosine decay to 0 over the run
    const std::int64_t warmup = std::clamp<std::int64_t>(total / 10, 1, 200);
    opt::LRScheduler schedule(
        sgd, opt::warmup(opt::cosine(std::max<std::int64_t>(total - warmup, 1)), warmup));

    // Everything a resumed run needs to continue exactly, in one file.
    std::int64_t step = 0, epoch_batches = 0;
    double epoch_loss = 0;
    std::vector<double> losses, lrs, epoch_steps, epoch_losses, accuracies;
    std::string settings = shaping_flags(s);
    data::TrainingState state;
    state.add("model", model).add("optimizer", sgd).add("scheduler", schedule);
    state.add("loader", loader).add("augment", augment).add_generator();  // dropout's draws
    state.add("step", step).add("epoch_batches", epoch_batches).add("epoch_loss", epoch_loss);
    state.add("losses", losses).add("lrs", lrs).add("epoch_steps", epoch_steps);
    state.add("epoch_losses", epoch_losses).add("accuracies", accuracies);
    state.add("settings", settings);
    if (!s.resume.empty()) {
        support::check_resumable(s.resume, settings, "fashion_cnn");
        state.load(s.resume);
        fmt::print("resumed {} at update {}\n", s.resume, step);
    }
    fmt::print("{} training images, {} test; {} epochs of {} batches of {}\n",
               loader.batches() * s.batch_size, test.labels.numel(), s.epochs, loader.batches(),
               s.batch_size);

    const auto start = std::chrono::steady_clock::now();
    const std::int64_t start_step = step;
    for (auto epoch = static_cast<std::int64_t>(accuracies.size()) + 1; epoch <= s.epochs;
         ++epoch) {
        support::Progress bar(fmt::format("epoch {:2d}/{}", epoch, s.epochs), loader.batches());
        // resumed after an epoch's last batch, only the evaluation is left (asked for batches,
        // the loader would begin the next epoch)
        if (epoch_batches < loader.batches()) {
            for (auto& [x, y] : loader) {
                const dc::Tensor loss = nn::cross_entropy(model(normalize(augment(x))), y);
                sgd.zero_grad();
                loss.backward();
                lrs.push_back(sgd.param_groups()[0].lr());
                sgd.step();
                schedule.step();
                losses.push_back(loss.item());
                epoch_loss += losses.back();
                ++epoch_batches;
                ++step;
                bar.update(epoch_batches, epoch_loss / static_cast<double>(epoch_batches));
                if (step == s.stop_after) {
                    bar.finish();
                    state.save(s.checkpoint);
                    fmt::print("stopped after update {}; resume with --resume {}\n", step,
                               s.checkpoint);
                    return 0;
                }
            }
        }
        bar.finish();
        epoch_steps.push_back(static_cast<double>(step));
        epoch_losses.push_back(epoch_loss / static_cast<double>(epoch_batches));
        accuracies.push_back(test_accuracy(model, test));
        epoch_batches = 0;
        epoch_loss = 0;
        fmt::print("epoch {:2d}  loss {:.4f}  test accuracy {:.4f}  ({:.0f} s)\n", epoch,
                   epoch_losses.back(), accuracies.back(),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        state.save(s.checkpoint);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{} updates in {:.1f} s ({:.1f} updates/s)\n", step - start_step, seconds,
               static_cast<double>(step - start_step) / seconds);
    write_curves(s.curve, losses, lrs, epoch_steps, epoch_losses, accuracies);
    fmt::print("loss curve: {}  training state: {} (the model under \"model.\")\n", s.curve,
               s.checkpoint);

    std::vector<double> steps(losses.size());
    for (std::size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<double>(i + 1);
    support::Panel loss{.title = "training loss after every update",
                        .xlabel = "updates",
                        .ylabel = "cross-entropy (log scale)",
                        .curves = {{"loss per mini-batch", steps, losses}},
                        .right = {{"test accuracy", epoch_steps, accuracies, "linespoints"}},
                        .y2label = "test accuracy",
                        .log_y = true,
                        .key = "right center"};
    support::Panel rate{.title = "learning rate",
                        .xlabel = "updates",
                        .ylabel = "lr",
                        .curves = {{"warm-up, then cosine", steps, lrs}}};
    support::draw({.title = fmt::format("Fashion-MNIST CNN: SGD + Nesterov, seed {}", s.seed),
                   .panels = {loss, rate},
                   .height = 800},
                  s.plot);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train a small CNN on Fashion-MNIST with descent."};
    Settings s;
    app.add_option("--epochs", s.epochs, "passes over the training images")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}))
        ->capture_default_str();
    app.add_option("--batch-size", s.batch_size, "images per mini-batch")
        ->check(CLI::Range(std::int64_t{2}, std::int64_t{60000}))
        ->capture_default_str();
    app.add_option("--limit", s.limit, "train on the first N images only (0: all 60,000)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--lr", s.lr, "peak learning rate")
        ->check(CLI::Range(1e-6, 10.0))
        ->capture_default_str();
    app.add_option("--weight-decay", s.weight_decay, "L2 weight decay on the weights")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    std::string seed = "0";
    support::add_run_options(
        app, {seed, s.threads, s.curve, s.plot, s.checkpoint, s.resume, s.stop_after},
        "model, optimizer, schedule, loader, augmentation, curves");
    CLI11_PARSE(app, argc, argv);
    try {
        s.seed = support::parse_seed(seed);
        return run(s);
    } catch (const std::exception& e) {
        fmt::print(stderr, "fashion_cnn: {}\n", e.what());
        return 1;
    }
}
