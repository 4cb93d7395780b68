#pragma once
// A word-level tokenizer: text splits at whitespace, and every ASCII punctuation character is a
// token of its own ("Hark, my lord!" → Hark , my lord !); bytes from 0x80 on belong to words,
// so UTF-8 words stay whole. The vocabulary is "<unk>" (token 0), "<eos>" (token 1, with
// eos: the end of each line, as torch's word_language_model marks it), then the training
// text's words by descending count, ties in byte order (as torchtext orders them), at most
// max_size tokens in all; words outside it encode as <unk>. Stateful, so that a language
// model's checkpoint keeps its vocabulary.
//
//   descent::data::WordTokenizer words(text, {.max_size = 10000});
//   descent::Tensor ids = words.encode("Hark, my lord!");   // int64 [5]

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::data {

struct WordTokenizerOptions {
    /// Tokens in the vocabulary at most, "<unk>" (and "<eos>") included; unset: every word.
    std::optional<std::int64_t> max_size{};
    /// Each line end ('\n') is the token "<eos>".
    bool eos = true;
};

class WordTokenizer {
  public:
    /// Only the special tokens: an object to load a saved state into.
    explicit WordTokenizer(WordTokenizerOptions options = {});
    /// The vocabulary of `text`.
    WordTokenizer(std::string_view text, WordTokenizerOptions options);
    explicit WordTokenizer(std::string_view text) : WordTokenizer(text, {}) {}

    /// The tokens of `text` in order, as split above (unknown words as <unk>), int64 [n].
    Tensor encode(std::string_view text) const;
    /// The words of int64 tokens (any shape, row-major) joined by spaces, <eos> as a line end;
    /// a token outside [0, vocab_size()) is an IndexError naming it and its position.
    std::string decode(const Tensor& tokens) const;

    std::int64_t vocab_size() const { return static_cast<std::int64_t>(words_.size()); }
    /// The vocabulary in token order.
    const std::vector<std::string>& vocabulary() const { return words_; }
    /// A word's token, or the token of <unk>.
    std::int64_t token(std::string_view word) const;
    static constexpr std::int64_t unk = 0;        ///< the token of "<unk>"
    static constexpr std::int64_t eos_token = 1;  ///< the token of "<eos>", with options.eos

    /// The words of text as encode splits them, <eos> included.
    std::vector<std::string_view> split(std::string_view text) const;

    /// {"vocabulary.bytes": int64 [B] (the words' bytes one after another), "vocabulary.lengths":
    /// int64 [V]} and the text "config" ("WordTokenizer(max_size=10000, eos=true)").
    StateDict state_dict() const;
    /// Checks a state_dict() of a tokenizer of these options: the special tokens first, every
    /// other word one that split() gives whole, no word twice, at most max_size.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    std::string config() const;
    std::vector<std::string> specials() const;
    void index();

    WordTokenizerOptions options_;
    std::vector<std::string> words_;
    std::map<std::string, std::int64_t, std::less<>> token_of_;
    Lifetime lifetime_;
};

}  // namespace descent::data
