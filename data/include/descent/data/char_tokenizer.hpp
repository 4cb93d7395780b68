#pragma once
// A character-level tokenizer (char-rnn's): the vocabulary is the sorted distinct characters of
// a training text, each character's token its index in it. Characters are bytes: a UTF-8
// character of several bytes is several tokens, and decoding gives the bytes back. Stateful,
// so that a language model's checkpoint (TrainingState) keeps the vocabulary it was trained on.
//
//   descent::data::CharTokenizer chars(text);
//   descent::Tensor ids = chars.encode("To be");   // int64 [5]
//   std::string back = chars.decode(ids);          // "To be"

#include <cstdint>
#include <string>
#include <string_view>

#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::data {

class CharTokenizer {
  public:
    /// No vocabulary yet: an object to load a saved state into.
    CharTokenizer() = default;
    /// The vocabulary of `text` (not empty).
    explicit CharTokenizer(std::string_view text);

    /// int64 [text.size()]: each character's index in the vocabulary. A character outside it
    /// is an Error naming the character and its position.
    Tensor encode(std::string_view text) const;
    /// The characters of int64 tokens (any shape, read in row-major order); a token outside
    /// [0, vocab_size()) is an IndexError naming it and its position.
    std::string decode(const Tensor& tokens) const;

    std::int64_t vocab_size() const { return static_cast<std::int64_t>(vocabulary_.size()); }
    /// The vocabulary in token order (ascending bytes).
    const std::string& vocabulary() const { return vocabulary_; }

    /// {"vocabulary": int64 [V], the bytes in token order} and the text "config"
    /// ("CharTokenizer").
    StateDict state_dict() const;
    /// Checks a state_dict(): V ≥ 1 bytes in [0, 255], strictly ascending.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    void index();

    std::string vocabulary_;
    std::int64_t token_of_[256] = {};  // a byte's token, or −1
    Lifetime lifetime_;
};

/// A character for messages: 'a', or its code where it does not print ('\n', 0x07).
std::string quote_char(unsigned char c);

}  // namespace descent::data
