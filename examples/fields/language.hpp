#pragma once
// The language experiment: the next word of tiny Shakespeare, predicted by a linear (bigram)
// model and by one causal self-attention block, trained by SGD, SGD with momentum and Adam at
// mini-batch and at full batch — the lecture's NLP row. Zhang et al. 2020 ("Why are adaptive
// methods good for attention models?") blame heavy-tailed gradient noise; Kunstner et al. 2023
// find the gap at full batch too, and Kunstner et al. 2024 trace it to heavy-tailed class
// imbalance: gradient descent is slow on rare words, Adam is not. Hence the loss per decile of
// word frequency beside the overall loss.

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fields/protocol.hpp"

namespace fields {

struct LanguageProtocol {
    std::int64_t text_chars = 0;       ///< the corpus's first characters (0: all of it)
    std::int64_t vocabulary = 0;       ///< <unk>, <eos> and the training part's most frequent words
    std::int64_t linear_width = 0;     ///< the linear model's embedding width
    std::int64_t attention_width = 0;  ///< the attention model's embedding width
    std::int64_t heads = 0;
    std::int64_t context = 0;  ///< tokens per window of the attention model
    std::int64_t linear_steps = 0, attention_steps = 0;  ///< updates per run, in either regime
    std::int64_t linear_batch = 0;                       ///< tokens per mini-batch
    std::int64_t attention_batch = 0;                    ///< windows per mini-batch
    std::int64_t attention_full = 0;  ///< windows in the attention model's full batch
    std::vector<double> sgd_grid{}, sgdm_grid{}, adam_grid{};
    std::uint64_t tuning_seed = 0;
    std::vector<std::uint64_t> seeds{};
};
LanguageProtocol language_protocol(Scale scale);

/// Word-frequency deciles: 0 holds the most frequent tenth of the vocabulary, 9 the rarest.
constexpr int deciles = 10;

/// One model, regime and optimizer: its rate and, per seed, the measures at the end.
struct LanguageRow {
    std::string model;  ///< "linear" or "attention"
    bool full_batch = false;
    std::string optimizer;  ///< sgd, sgdm or adam (support/choices.hpp)
    std::vector<double> grid{};
    double lr = 0.0;  ///< the grid's rate with the lowest final training loss on the tuning fold
    std::vector<double> held_out{}, train_loss{};  ///< per seed, nats per token
    /// Per seed, the loss per decile of the target's word: held out, and on the training
    /// fold's full batch (the training loss).
    std::vector<std::array<double, deciles>> held_out_decile{}, train_decile{};
};

struct LanguageResult {
    LanguageProtocol protocol;
    std::int64_t vocabulary = 0;  ///< tokens in the vocabulary (the protocol's, or fewer)
    std::int64_t train_tokens = 0, tuning_tokens = 0, held_out_tokens = 0;
    std::vector<std::int64_t> train_count{};  ///< per vocabulary token, in the training part
    std::vector<int> decile_of{};             ///< per vocabulary token
    std::array<double, deciles> mass{};       ///< the training part's tokens in each decile
    /// The held-out targets of the linear model (every held-out token but the first) per
    /// decile of their word.
    std::array<std::int64_t, deciles> held_out_targets{};
    std::vector<LanguageRow> rows;
};

std::int64_t language_runs(const LanguageProtocol& protocol);
LanguageResult run_language(const LanguageProtocol& protocol, Runs* runs = nullptr);
/// Rates, held-out and training loss (mean ± sd), each also on the most frequent and the
/// rarest decile, then the seed-level win rate of Adam over SGD momentum.
std::string language_table(const LanguageResult& result);
/// Held-out and training loss per frequency decile, a panel per model and regime.
void draw_language(const LanguageResult& result, const std::filesystem::path& png);

}  // namespace fields
