// WordTokenizer (word_tokenizer.hpp).

#include "descent/data/word_tokenizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "descent/check.hpp"
#include "descent/error.hpp"
#include "descent/state_reader.hpp"

namespace descent::data {
namespace {

constexpr std::string_view kUnk = "<unk>";
constexpr std::string_view kEos = "<eos>";

bool is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/// ASCII punctuation: !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~
bool is_punct(unsigned char c) {
    return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
           (c >= 0x7b && c <= 0x7e);
}

}  // namespace

WordTokenizer::WordTokenizer(WordTokenizerOptions options) : options_(options) {
    if (options_.max_size) {
        check_count(*options_.max_size, static_cast<std::int64_t>(specials().size()),
                    "WordTokenizer", "max_size (with room for <unk> and <eos>)");
    }
    words_ = specials();
    index();
}

WordTokenizer::WordTokenizer(std::string_view text, WordTokenizerOptions options)
    : WordTokenizer(options) {
    std::map<std::string_view, std::int64_t> counts;
    for (const std::string_view word : split(text)) {
        if (word != kEos) ++counts[word];
    }
    std::vector<std::pair<std::string_view, std::int64_t>> by_count(counts.begin(), counts.end());
    // descending count, ties in byte order (the map's order; the sort is stable)
    std::stable_sort(by_count.begin(), by_count.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    const auto room = options_.max_size ? static_cast<std::size_t>(*options_.max_size) : SIZE_MAX;
    for (const auto& [word, count] : by_count) {
        if (words_.size() >= room) break;
        words_.emplace_back(word);
    }
    index();
}

std::vector<std::string> WordTokenizer::specials() const {
    if (options_.eos) return {std::string(kUnk), std::string(kEos)};
    return {std::string(kUnk)};
}

void WordTokenizer::index() {
    token_of_.clear();
    for (std::size_t i = 0; i < words_.size(); ++i) {
        token_of_.emplace(words_[i], static_cast<std::int64_t>(i));
    }
}

std::vector<std::string_view> WordTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n' && options_.eos) {
            out.push_back(kEos);
            ++i;
        } else if (is_space(c)) {
            ++i;
        } else if (is_punct(c)) {
            out.push_back(text.substr(i++, 1));
        } else {  // a word: up to the next space or punctuation
            const std::size_t start = i;
            while (i < text.size() && !is_space(static_cast<unsigned char>(text[i])) &&
                   !is_punct(static_cast<unsigned char>(text[i]))) {
                ++i;
            }
            out.push_back(text.substr(start, i - start));
        }
    }
    return out;
}

std::int64_t WordTokenizer::token(std::string_view word) const {
    const auto it = token_of_.find(word);
    return it == token_of_.end() ? unk : it->second;
}

Tensor WordTokenizer::encode(std::string_view text) const {
    std::vector<std::int64_t> ids;
    for (const std::string_view word : split(text)) ids.push_back(token(word));
    return int_tensor(ids, {static_cast<std::int64_t>(ids.size())});
}

std::string WordTokenizer::decode(const Tensor& tokens) const {
    if (!tokens.defined() || tokens.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("WordTokenizer.decode: tokens must be int64, got {}",
                                     tokens.defined() ? dtype_name(tokens.dtype()) : "undefined"));
    }
    const std::int64_t* t = tokens.data<std::int64_t>();
    std::string out;
    bool line_start = true;
    for (std::int64_t i = 0; i < tokens.numel(); ++i) {
        if (t[i] < 0 || t[i] >= vocab_size()) {
            throw IndexError(fmt::format(
                "WordTokenizer.decode: token {} at position {} is not in [0, vocab_size = {})",
                t[i], i, vocab_size()));
        }
        if (options_.eos && t[i] == eos_token) {
            out += '\n';
            line_start = true;
            continue;
        }
        if (!line_start) out += ' ';
        out += words_[static_cast<std::size_t>(t[i])];
        line_start = false;
    }
    return out;
}

std::string WordTokenizer::config() const {
    return describe(
        "WordTokenizer",
        {{"max_size", options_.max_size ? ConfigValue(*options_.max_size) : ConfigValue("none")},
         {"eos", options_.eos}});
}

StateDict WordTokenizer::state_dict() const {
    std::vector<std::int64_t> bytes, lengths;
    for (const std::string& word : words_) {
        lengths.push_back(static_cast<std::int64_t>(word.size()));
        for (const char c : word) bytes.push_back(static_cast<unsigned char>(c));
    }
    StateDict out{
        {"vocabulary.bytes", int_tensor(bytes, {static_cast<std::int64_t>(bytes.size())})},
        {"vocabulary.lengths", int_tensor(lengths, {vocab_size()})}};
    out.texts["config"] = config();
    return out;
}

StagedLoad WordTokenizer::stage_load(const StateDict& state) {
    StateReader in(state, "WordTokenizer.load_state_dict");
    in.expect_config(config());
    const auto extent = [&](std::string_view name) -> std::int64_t {
        const auto it = state.find(name);
        if (it == state.end() || !it->second.defined() || it->second.dim() != 1) {
            throw Error(fmt::format("{}: '{}' must be a 1-D int64 tensor, got {}", in.op(), name,
                                    it == state.end()       ? "none"
                                    : !it->second.defined() ? "an undefined tensor"
                                                            : shape_str(it->second.shape())));
        }
        return it->second.size(0);
    };
    const std::int64_t n_bytes = extent("vocabulary.bytes");
    const std::int64_t n_words = extent("vocabulary.lengths");
    const std::vector<std::int64_t> bytes =
        in.ints("vocabulary.bytes", {n_bytes}, 0, 255).to_int_vector();
    const std::vector<std::int64_t> lengths =
        in.ints("vocabulary.lengths", {n_words}, 1, n_bytes).to_int_vector();
    in.reject_unread();
    const auto sum = std::accumulate(lengths.begin(), lengths.end(), std::int64_t{0});
    if (sum != n_bytes) {  // no overflow: V lengths of ≤ B bytes, V and B held in memory
        throw Error(fmt::format("{}: the lengths add up to {} bytes, but 'vocabulary.bytes' has {}",
                                in.op(), sum, n_bytes));
    }
    const std::vector<std::string> special = specials();
    if (options_.max_size && n_words > *options_.max_size) {
        throw Error(
            fmt::format("{}: {} words exceed max_size = {}", in.op(), n_words, *options_.max_size));
    }
    std::vector<std::string> words;
    std::map<std::string, std::int64_t, std::less<>> seen;
    std::size_t at = 0;
    for (std::size_t w = 0; w < lengths.size(); ++w) {
        std::string word;
        for (std::int64_t k = 0; k < lengths[w]; ++k) word += static_cast<char>(bytes[at++]);
        const bool is_special = w < special.size();
        if (is_special && word != special[w]) {
            throw Error(
                fmt::format("{}: word {} must be {}, got '{}'", in.op(), w, special[w], word));
        }
        if (!is_special) {
            const std::vector<std::string_view> parts = split(word);
            if (parts.size() != 1 || parts[0] != word) {
                throw Error(fmt::format(
                    "{}: word {} ('{}') is not one word of the split (it holds a space, a "
                    "punctuation character or a line end)",
                    in.op(), w, word));
            }
        }
        if (!seen.emplace(word, static_cast<std::int64_t>(w)).second) {
            throw Error(
                fmt::format("{}: word {} ('{}') is in the vocabulary twice", in.op(), w, word));
        }
        words.push_back(std::move(word));
    }
    if (words.size() < special.size()) {
        throw Error(fmt::format("{}: {} words, fewer than the {} special tokens", in.op(),
                                words.size(), special.size()));
    }
    return [this, words = std::move(words), seen = std::move(seen)]() mutable {
        words_ = std::move(words);
        token_of_ = std::move(seen);
    };
}

}  // namespace descent::data
