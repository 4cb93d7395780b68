// CharTokenizer (char_tokenizer.hpp).

#include "descent/data/char_tokenizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "descent/error.hpp"
#include "descent/state_reader.hpp"

namespace descent::data {

std::string quote_char(unsigned char c) {
    switch (c) {
        case '\n':
            return "'\\n'";
        case '\r':
            return "'\\r'";
        case '\t':
            return "'\\t'";
        default:
            break;
    }
    if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
    return fmt::format("byte 0x{:02X}", c);
}

CharTokenizer::CharTokenizer(std::string_view text) {
    if (text.empty()) throw Error("CharTokenizer: the training text is empty: no vocabulary");
    bool seen[256] = {};
    for (const char c : text) seen[static_cast<unsigned char>(c)] = true;
    for (int b = 0; b < 256; ++b) {
        if (seen[b]) vocabulary_ += static_cast<char>(b);
    }
    index();
}

void CharTokenizer::index() {
    std::fill(std::begin(token_of_), std::end(token_of_), -1);
    for (std::size_t i = 0; i < vocabulary_.size(); ++i) {
        token_of_[static_cast<unsigned char>(vocabulary_[i])] = static_cast<std::int64_t>(i);
    }
}

Tensor CharTokenizer::encode(std::string_view text) const {
    if (vocabulary_.empty())
        throw Error("CharTokenizer.encode: no vocabulary (not trained or loaded)");
    std::vector<std::int64_t> ids(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        ids[i] = token_of_[c];
        if (ids[i] < 0) {
            throw Error(fmt::format(
                "CharTokenizer.encode: character {} at position {} is not in the vocabulary of {} "
                "characters",
                quote_char(c), i, vocabulary_.size()));
        }
    }
    return int_tensor(ids, {static_cast<std::int64_t>(ids.size())});
}

std::string CharTokenizer::decode(const Tensor& tokens) const {
    if (!tokens.defined() || tokens.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("CharTokenizer.decode: tokens must be int64, got {}",
                                     tokens.defined() ? dtype_name(tokens.dtype()) : "undefined"));
    }
    const std::int64_t* t = tokens.data<std::int64_t>();
    std::string out(static_cast<std::size_t>(tokens.numel()), '\0');
    for (std::int64_t i = 0; i < tokens.numel(); ++i) {
        if (t[i] < 0 || t[i] >= vocab_size()) {
            throw IndexError(fmt::format(
                "CharTokenizer.decode: token {} at position {} is not in [0, vocab_size = {})",
                t[i], i, vocab_size()));
        }
        out[static_cast<std::size_t>(i)] = vocabulary_[static_cast<std::size_t>(t[i])];
    }
    return out;
}

StateDict CharTokenizer::state_dict() const {
    std::vector<std::int64_t> bytes;
    for (const char c : vocabulary_) bytes.push_back(static_cast<unsigned char>(c));
    StateDict out{{"vocabulary", int_tensor(bytes, {vocab_size()})}};
    out.texts["config"] = "CharTokenizer";
    return out;
}

StagedLoad CharTokenizer::stage_load(const StateDict& state) {
    StateReader in(state, "CharTokenizer.load_state_dict");
    in.expect_config("CharTokenizer");
    const auto given = state.find("vocabulary");
    const std::int64_t v =
        given != state.end() && given->second.defined() && given->second.dim() == 1
            ? given->second.size(0)
            : -1;
    if (v < 1 || v > 256) {
        throw Error(fmt::format("{}: 'vocabulary' must be int64 [V] with 1 ≤ V ≤ 256, got {}",
                                in.op(),
                                given == state.end() ? "none" : shape_str(given->second.shape())));
    }
    const std::vector<std::int64_t> bytes = in.ints("vocabulary", {v}, 0, 255).to_int_vector();
    std::string vocabulary;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0 && bytes[i] <= bytes[i - 1]) {
            throw Error(fmt::format(
                "{}: 'vocabulary' must be strictly ascending bytes: {} at {} follows {}", in.op(),
                bytes[i], i, bytes[i - 1]));
        }
        vocabulary += static_cast<char>(bytes[i]);
    }
    in.reject_unread();
    return [this, vocabulary = std::move(vocabulary)] {
        vocabulary_ = vocabulary;
        index();
    };
}

}  // namespace descent::data
