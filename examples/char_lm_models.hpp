#pragma once
// The two character-level language models of char_lm: an LSTM and a small causal transformer,
// behind one call that maps tokens [B, L] to next-token logits [B, L, V].

#include <descent/autograd.hpp>
#include <descent/nn.hpp>

#include <cstdint>

namespace char_lm {

namespace dc = descent;
namespace nn = descent::nn;

class CharModel : public nn::Module {
  public:
    /// Logits [B, L, V] for tokens [B, L]: position t scores the token after t. The LSTM
    /// starts from `state` and leaves its final state there (carried to the next window); the
    /// transformer ignores it.
    virtual dc::Tensor logits(const dc::Tensor& tokens, nn::LSTMState& state) = 0;
    /// The state to start a sequence of `batch` streams from (zeros; empty for the transformer).
    virtual nn::LSTMState initial_state(std::int64_t batch) const = 0;
    /// The longest context it reads (its positions), or 0 for any length.
    virtual std::int64_t context() const = 0;
};

/// Embedding → LSTM (2 layers, dropout between them) → Linear.
class LstmModel : public CharModel {
  public:
    LstmModel(std::int64_t vocab, std::int64_t embed = 64, std::int64_t hidden = 256,
              std::int64_t layers = 2, double dropout = 0.2)
        : hidden_(hidden),
          layers_(layers),
          embed_(register_module("embed", nn::Embedding(vocab, embed))),
          lstm_(register_module(
              "lstm", nn::LSTM(embed, hidden,
                               {.num_layers = layers, .batch_first = true, .dropout = dropout}))),
          head_(register_module("head", nn::Linear(hidden, vocab))) {}

    dc::Tensor logits(const dc::Tensor& tokens, nn::LSTMState& state) override {
        auto [output, last] = lstm_(embed_(tokens), state);  // output [B, L, hidden]
        state = last;
        return head_(output);
    }
    nn::LSTMState initial_state(std::int64_t batch) const override {
        return {dc::zeros({layers_, batch, hidden_}), dc::zeros({layers_, batch, hidden_})};
    }
    std::int64_t context() const override { return 0; }

  private:
    std::int64_t hidden_, layers_;
    nn::Embedding& embed_;
    nn::LSTM& lstm_;
    nn::Linear& head_;
};

/// Token and learned position embeddings → pre-norm TransformerEncoder under a causal mask
/// (position t attends to positions ≤ t only) → LayerNorm → Linear.
class TransformerModel : public CharModel {
  public:
    TransformerModel(std::int64_t vocab, std::int64_t positions, std::int64_t d_model = 128,
                     std::int64_t heads = 4, std::int64_t layers = 2, double dropout = 0.1)
        : positions_(positions),
          token_(register_module("token", nn::Embedding(vocab, d_model))),
          position_(register_module("position", nn::Embedding(positions, d_model))),
          encoder_(register_module(
              "encoder", nn::TransformerEncoder(nn::TransformerEncoderLayer(
                                                    d_model, heads,
                                                    {.dim_feedforward = 4 * d_model,
                                                     .dropout = dropout,
                                                     .activation = nn::TransformerActivation::gelu,
                                                     .batch_first = true,
                                                     .norm_first = true}),
                                                layers, nn::LayerNorm({d_model})))),
          head_(register_module("head", nn::Linear(d_model, vocab))) {}

    dc::Tensor logits(const dc::Tensor& tokens, nn::LSTMState&) override {
        const std::int64_t length = tokens.size(1);
        // x = token embedding + position embedding (rows 0..L-1, broadcast over the batch)
        const dc::Tensor x = token_(tokens) + position_.weight().slice(0, 0, length);
        const dc::Tensor causal = nn::generate_square_subsequent_mask(length);
        return head_(encoder_(x, {.mask = causal, .is_causal = true}));
    }
    nn::LSTMState initial_state(std::int64_t) const override { return {}; }
    std::int64_t context() const override { return positions_; }

  private:
    std::int64_t positions_;
    nn::Embedding& token_;
    nn::Embedding& position_;
    nn::TransformerEncoder& encoder_;
    nn::Linear& head_;
};

}  // namespace char_lm
