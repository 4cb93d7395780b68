#pragma once
// Attention: scaled dot-product attention as a function and MultiheadAttention as a module, with
// torch 2.x's arguments, defaults, masks, parameter names and layouts (a torch state_dict loads
// key for key). Both are composed of differentiable ops (matmul, softmax, masked_fill), so their
// gradients of any order come from the tape.
//
// Fully masked rows: a query row whose scores are all −inf (every key masked, or no key at all)
// attends nowhere and its output is 0, with zero gradients — as torch ≥ 2.5's
// scaled_dot_product_attention (its "safe softmax"). MultiheadAttention does the same in both of
// its paths; torch's MultiheadAttention gives NaN there when need_weights is true (its own
// softmax), 0 otherwise (through scaled_dot_product_attention).
// Zero-length sequences follow torch: L = 0 or a zero batch gives empty results of the right
// shape, S = 0 gives a zero attention output (every row is fully masked).

#include <cstdint>
#include <optional>
#include <string>

#include "descent/nn/layers.hpp"
#include "descent/nn/module.hpp"
#include "descent/tensor.hpp"

namespace descent::nn {

struct ScaledDotProductAttentionOptions {
    /// Broadcastable to [..., L, S]: bool (true = the query may attend to that key) or of the
    /// query's floating dtype (added to the scores; −inf masks). Undefined: no mask.
    Tensor attn_mask = {};
    /// Dropout on the attention weights, from the global generator, whenever > 0 (as torch's
    /// functional form: it does not know train or eval; pass 0 in evaluation).
    double dropout_p = 0.0;
    /// Query i may attend to keys j ≤ i (the top-left lower triangle of [L, S]); an Error with
    /// attn_mask, as in torch.
    bool is_causal = false;
    /// The factor of the scores; 1/√E when not given.
    std::optional<double> scale = std::nullopt;
};

/// softmax(query·keyᵀ·scale + mask)·value for query [..., L, E], key [..., S, E] and value
/// [..., S, Ev] of one floating dtype, batch dims broadcast (as matmul): [..., L, Ev].
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const ScaledDotProductAttentionOptions& options = {});

namespace functional {
using nn::scaled_dot_product_attention;
}

/// A square float mask for causal self-attention: 0 on and below the diagonal, −inf above
/// (torch.nn.Transformer.generate_square_subsequent_mask).
Tensor generate_square_subsequent_mask(std::int64_t size, Dtype dtype = Dtype::float32);

struct MultiheadAttentionOptions {
    /// Dropout on the attention weights in training mode.
    double dropout = 0.0;
    /// in_proj_bias and out_proj.bias.
    bool bias = true;
    /// bias_k, bias_v [1, 1, E]: one more key and value, appended to every sequence.
    bool add_bias_kv = false;
    /// One more key and value of zeros, appended after the projections (and bias_k, bias_v).
    bool add_zero_attn = false;
    /// Feature sizes of key and value (embed_dim when not given); other than embed_dim, the
    /// projections are q_proj_weight, k_proj_weight and v_proj_weight instead of in_proj_weight.
    std::optional<std::int64_t> kdim = std::nullopt;
    std::optional<std::int64_t> vdim = std::nullopt;
    /// Inputs and output as [N, L, E] rather than [L, N, E].
    bool batch_first = false;
};

/// The masks and switches of one MultiheadAttention call (torch's forward arguments).
struct MultiheadAttentionForwardOptions {
    /// [N, S] ([S] unbatched): bool (true = ignore that key) or float (added to the scores).
    Tensor key_padding_mask = {};
    /// Return the attention weights too.
    bool need_weights = true;
    /// [L, S] or [N·num_heads, L, S] ([num_heads, L, S] unbatched): bool (true = may NOT
    /// attend, unlike scaled_dot_product_attention) or float (added to the scores).
    Tensor attn_mask = {};
    /// Weights averaged over the heads ([N, L, S]) rather than per head ([N, heads, L, S]).
    bool average_attn_weights = true;
    /// A hint that attn_mask is the causal mask, as torch's: attn_mask must be given, and is
    /// what is applied (see generate_square_subsequent_mask).
    bool is_causal = false;
};

/// What MultiheadAttention returns: `auto [output, weights] = mha(q, k, v);`
struct AttentionOutput {
    /// [L, N, E] ([N, L, E] with batch_first, [L, E] unbatched).
    Tensor output;
    /// The attention weights after dropout, [N, L, S] averaged or [N, heads, L, S] (without N
    /// when unbatched), S counting bias_k and the zero key; undefined without need_weights.
    Tensor weights;
};

/// The parameters and settings of a multi-head attention as tensors: MultiheadAttention's own,
/// or any others through multi_head_attention_forward. E = out_proj_weight.size(0).
struct MultiheadAttentionParameters {
    std::int64_t num_heads = 1;
    /// [3E, E]; or undefined, and then q_proj_weight [E, E], k_proj_weight [E, kdim] and
    /// v_proj_weight [E, vdim].
    Tensor in_proj_weight = {};
    Tensor q_proj_weight = {};
    Tensor k_proj_weight = {};
    Tensor v_proj_weight = {};
    /// [3E] or undefined.
    Tensor in_proj_bias = {};
    /// [1, 1, E] both, or both undefined.
    Tensor bias_k = {};
    Tensor bias_v = {};
    /// [E, E], and [E] or undefined.
    Tensor out_proj_weight = {};
    Tensor out_proj_bias = {};
    bool add_zero_attn = false;
    /// Dropout on the attention weights whenever > 0 (the module passes its dropout in
    /// training mode only).
    double dropout_p = 0.0;
    bool batch_first = false;
};

/// Multi-head attention as a function (torch.nn.functional.multi_head_attention_forward, with
/// the weights in one struct): see MultiheadAttention.
AttentionOutput multi_head_attention_forward(const Tensor& query, const Tensor& key,
                                             const Tensor& value,
                                             const MultiheadAttentionParameters& parameters,
                                             const MultiheadAttentionForwardOptions& options = {});

namespace functional {
using nn::multi_head_attention_forward;
}

/// Multi-head attention: the query, key and value projected to num_heads heads of
/// embed_dim/num_heads features, scaled dot-product attention in each, the heads concatenated
/// and projected by out_proj. Parameters as torch's: in_proj_weight [3E, E] (or q_proj_weight
/// [E, E], k_proj_weight [E, kdim], v_proj_weight [E, vdim]) Xavier-uniform, in_proj_bias [3E]
/// zero, bias_k and bias_v [1, 1, E] Xavier-normal, out_proj a Linear(E, E) with a zero bias.
/// Inputs [L, N, E] / [S, N, kdim] / [S, N, vdim] (batch first: [N, L, E], ...) or unbatched
/// [L, E] / [S, kdim] / [S, vdim].
class MultiheadAttention : public Module {
  public:
    MultiheadAttention(std::int64_t embed_dim, std::int64_t num_heads,
                       MultiheadAttentionOptions options = {});
    AttentionOutput forward(const Tensor& query, const Tensor& key, const Tensor& value,
                            const MultiheadAttentionForwardOptions& options = {});
    AttentionOutput operator()(const Tensor& query, const Tensor& key, const Tensor& value,
                               const MultiheadAttentionForwardOptions& options = {}) {
        return forward(query, key, value, options);
    }

    std::int64_t embed_dim() const { return embed_dim_; }
    std::int64_t num_heads() const { return num_heads_; }
    const MultiheadAttentionOptions& options() const { return options_; }
    Linear& out_proj() { return *out_proj_; }

  private:
    std::int64_t embed_dim_, num_heads_, kdim_, vdim_;
    MultiheadAttentionOptions options_;
    Tensor* in_proj_weight_ = nullptr;
    Tensor* q_proj_weight_ = nullptr;
    Tensor* k_proj_weight_ = nullptr;
    Tensor* v_proj_weight_ = nullptr;
    Tensor* in_proj_bias_ = nullptr;
    Tensor* bias_k_ = nullptr;
    Tensor* bias_v_ = nullptr;
    Linear* out_proj_ = nullptr;
};

}  // namespace descent::nn
