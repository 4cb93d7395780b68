// A character-level language model learns tiny Shakespeare (bundled with descent) and then
// writes some of its own. --model lstm: Embedding → LSTM → Linear, trained by truncated
// backpropagation through time — each of the batch's streams is read in windows of --bptt
// characters, and the LSTM's state is carried from one window to the next but detached, so the
// gradient stops at the window's start. --model transformer: token and learned position
// embeddings → a causal TransformerEncoder → Linear, each window a context of its own. Both
// train with Adam, a warm-up into cosine decay and gradient clipping (the lecture's advice for
// language), report the training loss and the held-out loss (nats per character, on the last
// 10 % of the text) every epoch, and then sample text from a prompt. Progress bar, loss curve
// and plot, and a checkpoint of the whole run that --resume continues to the bit-identical end.

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
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "char_lm_models.hpp"
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
    std::string model = "lstm";
    std::int64_t epochs = 3, batch_size = 32, bptt = 64, limit = 0, stop_after = 0;
    int threads = 0;
    double lr = 3e-3, clip = 1.0;
    std::uint64_t seed = 0;
    std::string prompt = "ROMEO:\n";
    double temperature = 0.8;
    std::int64_t sample_length = 400;
    std::string curve = "build/char_lm_loss.csv", plot = "build/char_lm_loss.png",
                checkpoint = "build/char_lm.safetensors", resume;
};

/// The flags that shape a run, one "--flag value" a line: saved in the checkpoint, and a run
/// resumed from it must have the same (the thread count changes how products are split, and
/// so the last bits of the weights).
std::string shaping_flags(const Settings& s) {
    return fmt::format("--model {}\n--epochs {}\n--batch-size {}\n--bptt {}\n--limit {}\n", s.model,
                       s.epochs, s.batch_size, s.bptt, s.limit) +
           fmt::format("--lr {}\n--clip {}\n--seed {}\n--threads {}\n", s.lr, s.clip, s.seed,
                       dc::get_num_threads());
}

/// The model's detached state: the next window starts from its values, but its gradient stops
/// there (truncated BPTT), and the tape of the windows before can be freed.
nn::LSTMState detached(const nn::LSTMState& state) {
    if (!state.h.defined()) return state;
    return {state.h.detach(), state.c.detach()};
}

/// Mean cross-entropy in nats per character of the model on `streams` [B, T], read in windows
/// as in training (the LSTM carrying its state through each stream; the transformer seeing
/// only its window, as it was trained).
double held_out_loss(char_lm::CharModel& model, const dc::Tensor& streams, std::int64_t bptt) {
    const dc::NoGradGuard no_grad;
    model.eval();  // no dropout
    nn::LSTMState state = model.initial_state(streams.size(0));
    double total = 0;
    std::int64_t count = 0;
    for (auto [input, target] : data::BpttWindows(streams, bptt)) {
        const dc::Tensor logits = model.logits(input, state);
        total += nn::cross_entropy(logits.reshape({-1, logits.size(2)}), target.reshape({-1}),
                                   {.reduction = nn::Reduction::sum})
                     .item();
        count += target.numel();
    }
    model.train();
    return total / static_cast<double>(count);
}

/// `length` characters after `prompt`, each drawn from softmax(logits / temperature): below 1
/// the likelier characters get likelier (safer text), above 1 the draw is closer to uniform.
std::string sample(char_lm::CharModel& model, const data::CharTokenizer& chars,
                   const std::string& prompt, std::int64_t length, double temperature) {
    const dc::NoGradGuard no_grad;
    model.eval();
    nn::LSTMState state = model.initial_state(1);
    std::string text = prompt;
    dc::Tensor input = chars.encode(prompt).reshape({1, -1});  // the LSTM reads it once
    for (std::int64_t i = 0; i < length; ++i) {
        if (model.context() > 0) {  // the transformer rereads the last `context` characters
            const auto n = std::min<std::int64_t>(model.context(), std::ssize(text));
            input = chars.encode(std::string_view(text).substr(text.size() - n)).reshape({1, -1});
        }
        const dc::Tensor logits = model.logits(input, state);  // [1, L, V]
        const dc::Tensor last = logits.slice(1, logits.size(1) - 1, logits.size(1)).reshape({-1});
        const dc::Tensor next = dc::multinomial(dc::softmax(last / temperature, 0), 1);
        text += chars.decode(next);
        input = next.reshape({1, 1});  // the LSTM goes on from its state
    }
    model.train();
    return text;
}

int run(const Settings& s) {
    for (const auto& [flag, path] :
         {std::pair{"--curve", s.curve}, {"--plot", s.plot}, {"--checkpoint", s.checkpoint}})
        support::check_writable(flag, path);
    // On a machine shared with other busy programs, one thread is the faster choice: a split
    // product waits for its slowest thread (README, "Threads").
    if (s.threads > 0) dc::set_num_threads(s.threads);
    dc::manual_seed(s.seed);
    const std::string text = data::tiny_shakespeare();
    data::CharTokenizer chars(text);  // every character of the corpus, held-out part included
    if (s.prompt.empty()) throw dc::Error("--prompt: give at least one character");
    chars.encode(s.prompt);  // a character the corpus lacks is refused before training
    const auto split = static_cast<std::size_t>(0.9 * static_cast<double>(text.size()));
    std::string train_text = text.substr(0, split), held_out_text = text.substr(split);
    if (s.limit > 0) {  // a quick run: the first `limit` characters of each part
        train_text.resize(std::min<std::size_t>(train_text.size(), s.limit));
        held_out_text.resize(std::min<std::size_t>(held_out_text.size(), s.limit));
    }
    // batch_size parallel streams of the text, read left to right in windows of bptt steps
    const dc::Tensor streams = data::batchify(chars.encode(train_text), s.batch_size);
    const dc::Tensor held_out = data::batchify(chars.encode(held_out_text), s.batch_size);
    const data::BpttWindows windows(streams, s.bptt);

    std::unique_ptr<char_lm::CharModel> model;
    if (s.model == "lstm")
        model = std::make_unique<char_lm::LstmModel>(chars.vocab_size());
    else
        model = std::make_unique<char_lm::TransformerModel>(chars.vocab_size(), s.bptt);
    opt::Adam adam(model->parameters(), {.lr = s.lr});
    const std::int64_t total = s.epochs * windows.size();
    const std::int64_t warmup = std::clamp<std::int64_t>(total / 10, 1, 100);
    opt::LRScheduler schedule(
        adam, opt::warmup(opt::cosine(std::max<std::int64_t>(total - warmup, 1)), warmup));

    // Everything a resumed run needs to continue exactly, in one file: the LSTM's carried state
    // too (a window in the middle of an epoch starts from it).
    std::int64_t step = 0, window = 0;
    double epoch_loss = 0;
    nn::LSTMState carry = model->initial_state(s.batch_size);
    std::vector<double> losses, lrs, epoch_steps, epoch_losses, held_out_losses;
    std::string settings = shaping_flags(s);
    data::TrainingState state;
    state.add("model", *model).add("optimizer", adam).add("scheduler", schedule);
    state.add("tokenizer", chars).add_generator();  // dropout's and the sample's draws
    state.add("step", step).add("window", window).add("epoch_loss", epoch_loss);
    if (carry.h.defined()) state.add("h", carry.h).add("c", carry.c);
    state.add("losses", losses).add("lrs", lrs).add("epoch_steps", epoch_steps);
    state.add("epoch_losses", epoch_losses).add("held_out_losses", held_out_losses);
    state.add("settings", settings);
    if (!s.resume.empty()) {
        support::check_resumable(s.resume, settings, "char_lm");
        state.load(s.resume);
        fmt::print("resumed {} at update {}\n", s.resume, step);
    }
    std::int64_t parameters = 0;
    for (const dc::Tensor& p : model->parameters()) parameters += p.numel();
    fmt::print("{}: {} parameters; {} training and {} held-out characters, {} distinct\n", s.model,
               parameters, train_text.size(), held_out_text.size(), chars.vocab_size());
    fmt::print("{} epochs of {} windows of {} streams × {} characters; Adam lr {:g}\n", s.epochs,
               windows.size(), s.batch_size, s.bptt, s.lr);

    const auto start = std::chrono::steady_clock::now();
    const std::int64_t start_step = step;
    for (auto epoch = std::ssize(held_out_losses) + 1; epoch <= s.epochs; ++epoch) {
        support::Progress bar(fmt::format("epoch {:2d}/{}", epoch, s.epochs), windows.size());
        for (; window < windows.size(); ++window) {
            const auto [input, target] = windows[window];
            carry = detached(carry);  // truncated BPTT: values carried, gradient cut
            const dc::Tensor logits = model->logits(input, carry);  // [B, L, V]
            // cross_entropy wants the classes in dim 1: [B·L, V] against [B·L]
            const dc::Tensor loss =
                nn::cross_entropy(logits.reshape({-1, logits.size(2)}), target.reshape({-1}));
            adam.zero_grad();
            loss.backward();
            // one long window's exploding gradient must not throw the weights far off
            opt::clip_grad_norm(model->parameters(), s.clip);
            lrs.push_back(adam.param_groups()[0].lr());
            adam.step();
            schedule.step();
            losses.push_back(loss.item());
            epoch_loss += losses.back();
            ++step;
            bar.update(window + 1, epoch_loss / static_cast<double>(window + 1));
            if (step == s.stop_after) {
                bar.finish();
                ++window;  // the resumed run goes on with the next window
                state.save(s.checkpoint);
                fmt::print("stopped after update {}; resume with --resume {}\n", step,
                           s.checkpoint);
                return 0;
            }
        }
        bar.finish();
        epoch_steps.push_back(static_cast<double>(step));
        epoch_losses.push_back(epoch_loss / static_cast<double>(windows.size()));
        held_out_losses.push_back(held_out_loss(*model, held_out, s.bptt));
        window = 0;
        epoch_loss = 0;
        carry = model->initial_state(s.batch_size);  // each epoch reads the streams anew
        fmt::print("epoch {:2d}  loss {:.4f}  held-out loss {:.4f} nats/char  ({:.0f} s)\n", epoch,
                   epoch_losses.back(), held_out_losses.back(),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        state.save(s.checkpoint);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("{} updates in {:.1f} s ({:.2f} updates/s)\n", step - start_step, seconds,
               static_cast<double>(step - start_step) / seconds);
    fmt::print("sample at temperature {:g}:\n{}\n", s.temperature,
               sample(*model, chars, s.prompt, s.sample_length, s.temperature));

    std::ofstream curve(s.curve);
    curve << "step,loss,lr\n";
    for (std::size_t i = 0; i < losses.size(); ++i)
        curve << fmt::format("{},{},{}\n", i + 1, losses[i], lrs[i]);
    const std::filesystem::path p(s.curve);
    std::ofstream epochs(p.parent_path() / (p.stem().string() + "_epochs.csv"));
    epochs << "epoch,step,loss,held_out_loss\n";
    for (std::size_t e = 0; e < held_out_losses.size(); ++e)
        epochs << fmt::format("{},{},{},{}\n", e + 1, epoch_steps[e], epoch_losses[e],
                              held_out_losses[e]);
    if (!curve || !epochs) throw dc::Error("cannot write the curves beside " + s.curve);
    fmt::print("loss curve: {}  training state: {}\n", s.curve, s.checkpoint);

    std::vector<double> steps(losses.size());
    for (std::size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<double>(i + 1);
    support::Panel loss{.title = "loss after every update, and on the held-out text per epoch",
                        .xlabel = "updates",
                        .ylabel = "cross-entropy (nats/char)",
                        .curves = {{"training windows", steps, losses},
                                   {"held-out text", epoch_steps, held_out_losses, "linespoints"}},
                        .key = "right top"};
    support::Panel rate{.title = "learning rate",
                        .xlabel = "updates",
                        .ylabel = "lr",
                        .curves = {{"warm-up, then cosine", steps, lrs}}};
    support::draw({.title = fmt::format("tiny Shakespeare, {} character model: Adam, seed {}",
                                        s.model, s.seed),
                   .panels = {loss, rate},
                   .height = 800},
                  s.plot);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Train a character-level language model on tiny Shakespeare with descent."};
    Settings s;
    app.add_option("--model", s.model, "lstm or transformer")
        ->check(CLI::IsMember({"lstm", "transformer"}))
        ->capture_default_str();
    app.add_option("--epochs", s.epochs, "passes over the training text")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}))
        ->capture_default_str();
    app.add_option("--batch-size", s.batch_size, "parallel streams of the text")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}))
        ->capture_default_str();
    app.add_option("--bptt", s.bptt, "characters per window (the transformer's context)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{4096}))
        ->capture_default_str();
    app.add_option("--limit", s.limit, "use the first N characters of each part only (0: all)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--lr", s.lr, "Adam's peak learning rate")
        ->check(CLI::Range(1e-8, 1.0))
        ->capture_default_str();
    app.add_option("--clip", s.clip, "largest gradient norm")
        ->check(CLI::Range(1e-8, 1e8))
        ->capture_default_str();
    app.add_option("--prompt", s.prompt, "the text the sample starts from");
    app.add_option("--temperature", s.temperature, "of the sample (0.8: a little conservative)")
        ->check(CLI::Range(0.01, 100.0))
        ->capture_default_str();
    app.add_option("--sample-length", s.sample_length, "characters to sample")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000}))
        ->capture_default_str();
    std::string seed = "0";
    support::add_run_options(
        app, {seed, s.threads, s.curve, s.plot, s.checkpoint, s.resume, s.stop_after},
        "model, optimizer, schedule, tokenizer, position, curves");
    CLI11_PARSE(app, argc, argv);
    try {
        s.seed = support::parse_seed(seed);
        return run(s);
    } catch (const std::exception& e) {
        fmt::print(stderr, "char_lm: {}\n", e.what());
        return 1;
    }
}
