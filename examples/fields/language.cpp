// Next-word prediction on tiny Shakespeare, SGD and SGD momentum against Adam (the lecture's
// NLP row), with the loss per word-frequency decile (Kunstner et al. 2024).
//
// Data: the corpus's first 90 % (to a line end) is the training part, the rest is held out.
// Words as data::WordTokenizer splits them (punctuation and line ends are tokens too), the
// vocabulary the training part's most frequent words, the rest <unk>. The training part's
// first 8/9 of tokens is the training fold, the last 1/9 the tuning fold that chooses the rate.
// Models, each scoring the next token from the vocabulary:
//   linear     Embedding → Linear: the next word from the current one alone (a bigram model
//              of limited rank).
//   attention  token + learned position embeddings → causal MultiheadAttention, a residual →
//              LayerNorm → Linear, over non-overlapping windows of `context` tokens (each
//              position predicts the token after it from the window so far).
// Regimes: mini-batches drawn uniformly with replacement, or the full batch — for the linear
// model the whole fold, through its bigram counts (cross-entropy against the count matrix over
// the number of pairs is the mean loss over every pair); for the attention model a fixed set
// of the fold's windows, evenly spaced. Cross-entropy, a constant rate, no weight decay.
// Deciles: the vocabulary sorted by count in the training part (most frequent first, ties by
// token), cut into ten groups of equal word count; a token's loss counts in its target's group.

#include "fields/language.hpp"

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <descent/random.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <string_view>
#include <utility>

#include "support/choices.hpp"
#include "support/plot.hpp"

namespace fields {
namespace dc = descent;
namespace nn = descent::nn;
namespace data = descent::data;

// The protocol: each optimizer's rate from its own half-decade grid, the one with the lowest
// final training loss when trained on the tuning fold with the tuning seed (Wilson et al.'s
// rule, as in the vision experiment); then three seeds (initial weights and batches) on the
// training fold. Revised after first runs: with 2,000 words and 500 updates a
// full-batch run of the linear model (logits for all V × V bigrams per update) took 26 s, so
// V = 1,000 and fewer updates, to keep the experiment within 6 minutes; then all three
// optimizers chose the top of four-point grids for the linear model, so five points each; then
// SGD momentum and Adam still chose their top rate at full batch, so both grids moved up half
// a decade; and every optimizer memorised a full batch of 32 windows, so 128.
LanguageProtocol language_protocol(Scale scale) {
    if (scale == Scale::quick)
        return {.text_chars = 150000,
                .vocabulary = 500,
                .linear_width = 16,
                .attention_width = 16,
                .heads = 2,
                .context = 16,
                .linear_steps = 60,
                .attention_steps = 30,
                .linear_batch = 128,
                .attention_batch = 8,
                .attention_full = 32,
                .sgd_grid = {1.0},
                .sgdm_grid = {0.1},
                .adam_grid = {1e-2},
                .tuning_seed = 1000,
                .seeds = {0, 1}};
    return {.text_chars = 0,
            .vocabulary = 1000,
            .linear_width = 32,
            .attention_width = 32,
            .heads = 2,
            .context = 32,
            .linear_steps = 300,
            .attention_steps = 200,
            .linear_batch = 256,
            .attention_batch = 8,
            .attention_full = 128,
            .sgd_grid = {0.3, 1.0, 3.0, 10.0, 30.0},
            .sgdm_grid = {0.1, 0.3, 1.0, 3.0, 10.0},
            .adam_grid = {3e-3, 1e-2, 3e-2, 1e-1, 3e-1},
            .tuning_seed = 1000,
            .seeds = {0, 1, 2}};
}

namespace {

/// Next-token logits [..., V] for tokens [...].
class LanguageModel : public nn::Module {
  public:
    virtual dc::Tensor logits(const dc::Tensor& tokens) = 0;
};

/// The linear model: Embedding → Linear.
class Linear : public LanguageModel {
  public:
    Linear(std::int64_t vocab, std::int64_t width)
        : embed_(register_module("embed", nn::Embedding(vocab, width))),
          head_(register_module("head", nn::Linear(width, vocab))) {}
    dc::Tensor logits(const dc::Tensor& tokens) override { return head_(embed_(tokens)); }

  private:
    nn::Embedding& embed_;
    nn::Linear& head_;
};

/// The attention model: embeddings → causal self-attention, a residual → LayerNorm → Linear.
class Attention : public LanguageModel {
  public:
    Attention(std::int64_t vocab, std::int64_t positions, std::int64_t width, std::int64_t heads)
        : token_(register_module("token", nn::Embedding(vocab, width))),
          position_(register_module("position", nn::Embedding(positions, width))),
          attention_(register_module("attention",
                                     nn::MultiheadAttention(width, heads, {.batch_first = true}))),
          norm_(register_module("norm", nn::LayerNorm({width}))),
          head_(register_module("head", nn::Linear(width, vocab))) {}

    dc::Tensor logits(const dc::Tensor& tokens) override {  // tokens [B, L]
        const std::int64_t length = tokens.size(1);
        const dc::Tensor x = token_(tokens) + position_.weight().slice(0, 0, length);
        const dc::Tensor causal = nn::generate_square_subsequent_mask(length);
        const dc::Tensor mixed =
            attention_(x, x, x, {.need_weights = false, .attn_mask = causal, .is_causal = true})
                .output;
        return head_(norm_(x + mixed));
    }

  private:
    nn::Embedding& token_;
    nn::Embedding& position_;
    nn::MultiheadAttention& attention_;
    nn::LayerNorm& norm_;
    nn::Linear& head_;
};

/// A stretch of tokens as one model reads it: inputs and targets (linear: [n] each, the pairs
/// of consecutive tokens; attention: [W, L] each, the windows) and the full batch (linear: every
/// token and the bigram counts over the number of pairs, float [V, V]; attention: the fixed
/// windows).
struct Fold {
    dc::Tensor inputs, targets, full_inputs, full_targets;
};

Fold pairs(const std::vector<std::int64_t>& tokens, std::int64_t vocab) {
    const auto n = static_cast<std::int64_t>(tokens.size()) - 1;
    std::vector<double> counts(static_cast<std::size_t>(vocab * vocab), 0.0);
    for (std::int64_t i = 0; i < n; ++i)
        counts[static_cast<std::size_t>(tokens[i] * vocab + tokens[i + 1])] += 1.0 / n;
    const dc::Tensor all = dc::int_tensor(tokens, {n + 1});
    std::vector<std::int64_t> every(static_cast<std::size_t>(vocab));
    std::iota(every.begin(), every.end(), 0);
    return {all.slice(0, 0, n), all.slice(0, 1, n + 1), dc::int_tensor(every, {vocab}),
            dc::tensor(counts, {vocab, vocab})};
}

Fold windows(const std::vector<std::int64_t>& tokens, std::int64_t length, std::int64_t full) {
    const auto count = (static_cast<std::int64_t>(tokens.size()) - 1) / length;
    std::vector<std::int64_t> in, out;
    for (std::int64_t w = 0; w < count; ++w)
        for (std::int64_t t = w * length; t < (w + 1) * length; ++t)
            in.push_back(tokens[t]), out.push_back(tokens[t + 1]);
    std::vector<std::int64_t> spaced;
    const std::int64_t chosen_count = std::min(full, count);
    for (std::int64_t k = 0; k < chosen_count; ++k) spaced.push_back(k * count / chosen_count);
    const dc::Tensor inputs = dc::int_tensor(in, {count, length});
    const dc::Tensor targets = dc::int_tensor(out, {count, length});
    const dc::Tensor chosen = dc::int_tensor(spaced, {chosen_count});
    return {inputs, targets, inputs.index_select(0, chosen), targets.index_select(0, chosen)};
}

struct Corpus {
    std::int64_t vocab = 0;
    std::vector<std::int64_t> train{}, tuning{}, held_out{};
    std::vector<std::int64_t> count{};  ///< per token, in the training part
    std::vector<int> decile_of{};
};

std::vector<std::int64_t> ids(const dc::Tensor& tokens) {
    std::vector<std::int64_t> out;
    for (const double t : tokens.to_vector()) out.push_back(static_cast<std::int64_t>(t));
    return out;
}

Corpus load(const LanguageProtocol& p) {
    std::string text = data::tiny_shakespeare();
    if (p.text_chars > 0)
        text.resize(std::min(text.size(), static_cast<std::size_t>(p.text_chars)));
    const std::size_t split = text.rfind('\n', text.size() * 9 / 10) + 1;
    const std::string_view part(text.data(), split), rest(text.data() + split, text.size() - split);
    const data::WordTokenizer words(part, {.max_size = p.vocabulary});
    Corpus c{.vocab = words.vocab_size()};
    const std::vector<std::int64_t> training = ids(words.encode(part));
    const auto fold = static_cast<std::ptrdiff_t>(training.size() * 8 / 9);
    c.train.assign(training.begin(), training.begin() + fold);
    c.tuning.assign(training.begin() + fold, training.end());
    c.held_out = ids(words.encode(rest));
    c.count.assign(static_cast<std::size_t>(c.vocab), 0);
    for (const std::int64_t t : training) ++c.count[static_cast<std::size_t>(t)];
    std::vector<std::int64_t> order(static_cast<std::size_t>(c.vocab));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
        return c.count[static_cast<std::size_t>(a)] > c.count[static_cast<std::size_t>(b)];
    });
    c.decile_of.assign(order.size(), 0);
    for (std::size_t rank = 0; rank < order.size(); ++rank)
        c.decile_of[static_cast<std::size_t>(order[rank])] =
            static_cast<int>(rank * deciles / order.size());
    return c;
}

/// The model, regime and optimizers of the rows, in the table's order.
std::vector<LanguageRow> rows_of(const LanguageProtocol& p) {
    std::vector<LanguageRow> rows;
    for (const char* model : {"linear", "attention"})
        for (const bool full : {false, true})
            for (const auto& [name, grid] :
                 {std::pair{"sgd", p.sgd_grid}, {"sgdm", p.sgdm_grid}, {"adam", p.adam_grid}})
                rows.push_back(
                    {.model = model, .full_batch = full, .optimizer = name, .grid = grid});
    return rows;
}

/// The mean loss over the full batch.
dc::Tensor full_loss(LanguageModel& model, const Fold& f) {
    const dc::Tensor logits = model.logits(f.full_inputs);
    if (f.full_targets.dtype() != dc::Dtype::int64)  // the bigram frequencies: a sum is the mean
        return nn::cross_entropy(logits, f.full_targets, {.reduction = nn::Reduction::sum});
    return nn::cross_entropy(logits.reshape({-1, logits.size(-1)}), f.full_targets.reshape({-1}));
}

std::unique_ptr<LanguageModel> make_model(const LanguageProtocol& p, const LanguageRow& row,
                                          std::int64_t vocab) {
    if (row.model == "linear") return std::make_unique<Linear>(vocab, p.linear_width);
    return std::make_unique<Attention>(vocab, p.context, p.attention_width, p.heads);
}

/// Trains a new model on the fold.
std::unique_ptr<LanguageModel> train(const LanguageProtocol& p, const Fold& f,
                                     const LanguageRow& row, double lr, std::int64_t vocab,
                                     std::uint64_t seed) {
    dc::manual_seed(seed);
    std::unique_ptr<LanguageModel> model = make_model(p, row, vocab);
    support::OptimizerStack stack = support::make_optimizer(
        row.optimizer, dc::optim::split_for_weight_decay(model->named_parameters()), lr, 0.0,
        false);
    const bool linear = row.model == "linear";
    const std::int64_t steps = linear ? p.linear_steps : p.attention_steps;
    const std::int64_t batch = linear ? p.linear_batch : p.attention_batch;
    for (std::int64_t step = 0; step < steps; ++step) {
        dc::Tensor objective;
        if (row.full_batch) {
            objective = full_loss(*model, f);
        } else {
            const dc::Tensor pick = dc::randint(0, f.inputs.size(0), {batch});
            const dc::Tensor logits = model->logits(f.inputs.index_select(0, pick));
            objective = nn::cross_entropy(logits.reshape({-1, vocab}),
                                          f.targets.index_select(0, pick).reshape({-1}));
        }
        stack.get().zero_grad();
        objective.backward();
        stack.get().step();
    }
    return model;
}

/// Loss overall and per decile of the target's word.
struct Measured {
    double overall = 0.0;
    std::array<double, deciles> decile{};
};

/// The loss over the fold's full batch (`full`: the training loss) or over all its pairs or
/// windows (the held-out loss), from each vocabulary word's summed loss and count as a target.
Measured measure(LanguageModel& model, const Fold& f, bool full, const Corpus& c) {
    const dc::NoGradGuard no_grad;
    std::vector<double> loss(static_cast<std::size_t>(c.vocab), 0.0), count = loss;
    if (full && f.full_targets.dtype() != dc::Dtype::int64) {  // the bigram frequencies
        const dc::Tensor log_p = model.logits(f.full_inputs).log_softmax(1);
        loss = (-(log_p * f.full_targets)).sum(0).to_vector();
        count = f.full_targets.sum(0).to_vector();
    } else {
        const dc::Tensor& inputs = full ? f.full_inputs : f.inputs;
        const dc::Tensor& targets = full ? f.full_targets : f.targets;
        const std::int64_t rows = inputs.size(0), chunk = inputs.dim() == 1 ? 4096 : 64;
        for (std::int64_t r = 0; r < rows; r += chunk) {
            const std::int64_t end = std::min(rows, r + chunk);
            const dc::Tensor logits = model.logits(inputs.slice(0, r, end));
            const dc::Tensor target = targets.slice(0, r, end).reshape({-1});
            const std::vector<double> losses =
                nn::cross_entropy(logits.reshape({-1, c.vocab}), target,
                                  {.reduction = nn::Reduction::none})
                    .to_vector();
            const std::vector<std::int64_t> words = ids(target);
            for (std::size_t i = 0; i < losses.size(); ++i) {
                loss[static_cast<std::size_t>(words[i])] += losses[i];
                count[static_cast<std::size_t>(words[i])] += 1.0;
            }
        }
    }
    std::array<double, deciles> sum{}, n{};
    for (std::size_t t = 0; t < loss.size(); ++t)
        sum[c.decile_of[t]] += loss[t], n[c.decile_of[t]] += count[t];
    Measured m{.overall = std::accumulate(sum.begin(), sum.end(), 0.0) /
                          std::accumulate(n.begin(), n.end(), 0.0)};
    for (int d = 0; d < deciles; ++d)
        m.decile[d] = n[d] > 0 ? sum[d] / n[d] : std::numeric_limits<double>::quiet_NaN();
    return m;
}

}  // namespace

std::int64_t language_runs(const LanguageProtocol& p) {
    std::int64_t runs = 0;
    for (const LanguageRow& r : rows_of(p))
        runs += static_cast<std::int64_t>(r.grid.size() + p.seeds.size());
    return runs;
}

LanguageResult run_language(const LanguageProtocol& protocol, Runs* runs) {
    const Corpus c = load(protocol);
    LanguageResult result{.protocol = protocol,
                          .vocabulary = c.vocab,
                          .train_tokens = static_cast<std::int64_t>(c.train.size()),
                          .tuning_tokens = static_cast<std::int64_t>(c.tuning.size()),
                          .held_out_tokens = static_cast<std::int64_t>(c.held_out.size()),
                          .train_count = c.count,
                          .decile_of = c.decile_of,
                          .rows = {}};
    const double part = static_cast<double>(c.train.size() + c.tuning.size());
    for (std::size_t t = 0; t < c.count.size(); ++t)
        result.mass[c.decile_of[t]] += static_cast<double>(c.count[t]) / part;
    for (std::size_t i = 1; i < c.held_out.size(); ++i)
        ++result.held_out_targets[c.decile_of[static_cast<std::size_t>(c.held_out[i])]];
    const auto folds = [&](const std::vector<std::int64_t>& tokens) {
        return std::pair{pairs(tokens, c.vocab),
                         windows(tokens, protocol.context, protocol.attention_full)};
    };
    const auto [train_linear, train_attention] = folds(c.train);
    const auto [tuning_linear, tuning_attention] = folds(c.tuning);
    const auto [held_linear, held_attention] = folds(c.held_out);
    for (LanguageRow row : rows_of(protocol)) {
        const bool linear = row.model == "linear";
        double best = std::numeric_limits<double>::infinity();
        for (const double lr : row.grid) {  // a diverged run (NaN) never wins
            const Fold& fold = linear ? tuning_linear : tuning_attention;
            const double loss =
                measure(*train(protocol, fold, row, lr, c.vocab, protocol.tuning_seed), fold, true,
                        c)
                    .overall;
            if (loss < best) best = loss, row.lr = lr;
            if (runs) runs->done("language");
        }
        for (const std::uint64_t seed : protocol.seeds) {
            const Fold& fold = linear ? train_linear : train_attention;
            const std::unique_ptr<LanguageModel> model =
                train(protocol, fold, row, row.lr, c.vocab, seed);
            const Measured fit = measure(*model, fold, true, c);
            const Measured held = measure(*model, linear ? held_linear : held_attention, false, c);
            row.train_loss.push_back(fit.overall);
            row.train_decile.push_back(fit.decile);
            row.held_out.push_back(held.overall);
            row.held_out_decile.push_back(held.decile);
            if (runs) runs->done("language");
        }
        result.rows.push_back(std::move(row));
    }
    return result;
}

namespace {

std::string regime(const LanguageRow& r) {
    return r.full_batch ? "full batch" : "mini-batch";
}

std::string label(const LanguageRow& r) {
    return r.optimizer == "sgd" ? "SGD" : r.optimizer == "sgdm" ? "SGD momentum" : "Adam";
}

/// One decile's loss over seeds, held out (`held`) or on the training fold's full batch.
Summary decile_summary(const LanguageRow& r, bool held, int d) {
    std::vector<double> values;
    for (const auto& per_seed : held ? r.held_out_decile : r.train_decile)
        values.push_back(per_seed[d]);
    return summarize(values);
}

}  // namespace

std::string language_table(const LanguageResult& result) {
    const LanguageProtocol& p = result.protocol;
    std::string out = fmt::format(
        "Language: the next word of tiny Shakespeare, {} tokens in the vocabulary (the uniform "
        "guess scores log V = {:.3f}); {} training tokens ({} others choose the rate, {} held "
        "out); {} seeds; losses in nats per token\n",
        result.vocabulary, std::log(static_cast<double>(result.vocabulary)), result.train_tokens,
        result.tuning_tokens, result.held_out_tokens, p.seeds.size());
    out += fmt::format(
        "linear: embedding ({}) → linear, {} updates; mini-batch: {} tokens; full batch: every "
        "pair of the fold (its bigram counts)\n",
        p.linear_width, p.linear_steps, p.linear_batch);
    out += fmt::format(
        "attention: one causal self-attention block ({} wide, {} heads, windows of {} tokens), {} "
        "updates; mini-batch: {} windows; full batch: a fixed {} windows of the fold\n",
        p.attention_width, p.heads, p.context, p.attention_steps, p.attention_batch,
        p.attention_full);
    out += fmt::format(
        "train: the loss on the training fold's full batch (for attention: those {} windows); "
        "frequent, rare: the loss on tokens whose target is among the most frequent tenth of "
        "the vocabulary ({:.1f} % of the training tokens) or the rarest tenth ({:.1f} %)\n",
        p.attention_full, 100 * result.mass.front(), 100 * result.mass.back());
    const auto line = [](const auto&... columns) {
        return fmt::format("{:<9} {:<10} {:<4} {:>5}  {:>14} {:>14} {:>14}  {:>14} {:>14} {:>14}\n",
                           columns...);
    };
    out += line("model", "regime", "opt", "lr", "held-out", "frequent", "rare", "train", "frequent",
                "rare");
    for (const LanguageRow& r : result.rows)
        out +=
            line(r.model, regime(r), r.optimizer, r.lr, format_pm(summarize(r.held_out), 3),
                 format_pm(decile_summary(r, true, 0), 3),
                 format_pm(decile_summary(r, true, deciles - 1), 3),
                 format_pm(summarize(r.train_loss), 3), format_pm(decile_summary(r, false, 0), 3),
                 format_pm(decile_summary(r, false, deciles - 1), 3));
    out += "seed-level win rate of Adam over SGD momentum (lower loss wins), held out / train:";
    for (const LanguageRow& adam : result.rows)
        for (const LanguageRow& sgdm : result.rows)
            if (adam.optimizer == "adam" && sgdm.optimizer == "sgdm" && adam.model == sgdm.model &&
                adam.full_batch == sgdm.full_batch)
                out += fmt::format(" {} {} {:.2f} / {:.2f};", adam.model, regime(adam),
                                   win_rate(sgdm.held_out, adam.held_out),
                                   win_rate(sgdm.train_loss, adam.train_loss));
    out.back() = '\n';
    return out;
}

void draw_language(const LanguageResult& result, const std::filesystem::path& png) {
    std::vector<support::Panel> panels;
    for (const bool held : {true, false})
        for (const LanguageRow& first : result.rows) {
            if (first.optimizer != "sgd") continue;  // a panel per model and regime
            support::Panel panel{.title = fmt::format("{}, {}: {}", first.model, regime(first),
                                                      held ? "held out" : "training"),
                                 .xlabel = "frequency decile of the target (1: most frequent)",
                                 .ylabel = "loss (nats)",
                                 .key = "right bottom"};
            for (const LanguageRow& r : result.rows) {
                if (r.model != first.model || r.full_batch != first.full_batch) continue;
                std::vector<double> x, y;
                for (int d = 0; d < deciles; ++d)
                    x.push_back(d + 1), y.push_back(decile_summary(r, held, d).mean);
                panel.curves.push_back(
                    {fmt::format("{} (lr {})", label(r), r.lr), x, y, "linespoints pt 7 ps 0.8"});
            }
            panels.push_back(panel);
        }
    support::draw({.title = "Tiny Shakespeare, words: loss per frequency decile of the next "
                            "word, held out (top) and on the training fold (mean over seeds)",
                   .panels = panels,
                   .columns = 4,
                   .width = 1800,
                   .height = 900},
                  png);
}

}  // namespace fields
