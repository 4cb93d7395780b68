#pragma once
// The transformer encoder: TransformerEncoderLayer (self-attention and a feed-forward block,
// each with a residual connection and a LayerNorm) and TransformerEncoder (a stack of
// independent copies of one layer, and an optional final norm), with torch 2.x's arguments,
// defaults and children names, so a torch state_dict loads key for key ("layers.0.self_attn.
// in_proj_weight", "layers.1.norm2.bias", "norm.weight", ...).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "descent/nn/attention.hpp"
#include "descent/nn/layers.hpp"
#include "descent/nn/module.hpp"

namespace descent::nn {

/// The feed-forward block's activation (torch's activation="relu" or "gelu").
enum class TransformerActivation { relu, gelu };

struct TransformerEncoderLayerOptions {
    std::int64_t dim_feedforward = 2048;
    double dropout = 0.1;
    TransformerActivation activation = TransformerActivation::relu;
    double layer_norm_eps = 1e-5;
    /// src as [N, L, E] rather than [L, N, E].
    bool batch_first = false;
    /// Pre-norm: x + block(norm(x)); otherwise post-norm: norm(x + block(x)).
    bool norm_first = false;
    /// The Linear layers', the attention's and the LayerNorms' additive biases.
    bool bias = true;
};

/// The masks of one call (torch's src_mask, src_key_padding_mask, is_causal; see
/// MultiheadAttentionForwardOptions for their shapes and meaning).
struct TransformerEncoderLayerForwardOptions {
    Tensor src_mask = {};
    Tensor src_key_padding_mask = {};
    /// A hint that src_mask is the causal mask (which must then be given), as torch's.
    bool is_causal = false;
};

/// One encoder layer. Post-norm (the default):
///   x = norm1(x + dropout1(self_attn(x, x, x)))
///   x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
/// Pre-norm (norm_first): x = x + dropout1(self_attn(norm1(x), ...)), then
/// x = x + dropout2(linear2(dropout(activation(linear1(norm2(x)))))).
/// src is [L, N, d_model] ([N, L, d_model] with batch_first, [L, d_model] unbatched); the one-
/// tensor forward (for Sequential) applies no mask.
class TransformerEncoderLayer : public Module {
  public:
    TransformerEncoderLayer(std::int64_t d_model, std::int64_t nhead,
                            TransformerEncoderLayerOptions options = {});
    Tensor forward(const Tensor& src) override;
    Tensor forward(const Tensor& src, const TransformerEncoderLayerForwardOptions& options);
    Tensor operator()(const Tensor& src,
                      const TransformerEncoderLayerForwardOptions& options = {}) {
        return forward(src, options);
    }

    std::int64_t d_model() const { return d_model_; }
    std::int64_t nhead() const { return nhead_; }
    const TransformerEncoderLayerOptions& options() const { return options_; }
    MultiheadAttention& self_attn() { return *self_attn_; }
    Linear& linear1() { return *linear1_; }
    Linear& linear2() { return *linear2_; }
    LayerNorm& norm1() { return *norm1_; }
    LayerNorm& norm2() { return *norm2_; }

  private:
    Tensor self_attention_block(const Tensor& x,
                                const TransformerEncoderLayerForwardOptions& options);
    Tensor feed_forward_block(const Tensor& x);

    std::int64_t d_model_, nhead_;
    TransformerEncoderLayerOptions options_;
    MultiheadAttention* self_attn_;
    Linear* linear1_;
    Dropout* dropout_;
    Linear* linear2_;
    LayerNorm* norm1_;
    LayerNorm* norm2_;
    Dropout* dropout1_;
    Dropout* dropout2_;
};

/// The masks of one call (torch's mask, src_key_padding_mask, is_causal), given to every layer.
struct TransformerEncoderForwardOptions {
    Tensor mask = {};
    Tensor src_key_padding_mask = {};
    /// A hint that mask is the causal mask (which must then be given), as torch's.
    bool is_causal = false;
};

/// num_layers encoder layers applied in turn, then `norm` if given. Like torch's deep copy, each
/// layer starts with encoder_layer's parameter values (and dtype, requires_grad and settings)
/// but holds parameters of its own: training one changes neither the others nor encoder_layer.
/// The norm is kept as given (its parameters are the caller's, as in torch).
class TransformerEncoder : public Module {
  public:
    TransformerEncoder(const TransformerEncoderLayer& encoder_layer, std::int64_t num_layers,
                       std::optional<LayerNorm> norm = std::nullopt);
    Tensor forward(const Tensor& src) override;
    Tensor forward(const Tensor& src, const TransformerEncoderForwardOptions& options);
    Tensor operator()(const Tensor& src, const TransformerEncoderForwardOptions& options = {}) {
        return forward(src, options);
    }

    std::int64_t num_layers() const { return static_cast<std::int64_t>(layers_.size()); }
    /// The i-th layer; an IndexError when i ≥ num_layers().
    TransformerEncoderLayer& layer(std::int64_t i);
    /// The final norm, or nullptr.
    LayerNorm* norm() { return norm_; }

  private:
    std::vector<TransformerEncoderLayer*> layers_;
    LayerNorm* norm_ = nullptr;
};

}  // namespace descent::nn
