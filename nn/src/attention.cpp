// Scaled dot-product attention and MultiheadAttention (attention.hpp), composed of
// differentiable ops so that backward and double backward need nothing of their own.

#include "descent/nn/attention.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "descent/check.hpp"
#include "descent/nn/functional.hpp"
#include "descent/nn/init.hpp"
#include "descent/ops.hpp"

namespace descent::nn {
namespace {

constexpr double neg_inf = -std::numeric_limits<double>::infinity();

std::string describe(const Tensor& t) {
    return t.defined() ? fmt::format("{} {}", dtype_name(t.dtype()), shape_str(t.shape()))
                       : "an undefined tensor";
}

void require_defined(const Tensor& t, std::string_view op, std::string_view name) {
    if (!t.defined()) throw Error(fmt::format("{}: {} is an undefined tensor", op, name));
}

/// A mask is bool or of the inputs' floating dtype (an int64 mask is refused, as in torch).
void check_mask_dtype(const Tensor& mask, Dtype dtype, std::string_view op, std::string_view name) {
    if (mask.dtype() != Dtype::boolean && mask.dtype() != dtype) {
        throw DtypeError(fmt::format("{}: {} must be bool or {} (the inputs' dtype), got {}", op,
                                     name, dtype_name(dtype), describe(mask)));
    }
}

/// cols > rows over [rows, cols]: true strictly above the diagonal (the future of each query).
Tensor above_diagonal(std::int64_t rows, std::int64_t cols) {
    const Tensor r = reshape(arange(0.0, static_cast<double>(rows)), {rows, 1});
    const Tensor c = reshape(arange(0.0, static_cast<double>(cols)), {1, cols});
    return c > r;
}

/// mask with one more key column at the end: false (bool, not masked) or 0 (float).
Tensor with_extra_key(const Tensor& mask) {
    if (!mask.defined()) return mask;
    Shape column = mask.shape();
    column.back() = 1;
    return concat({mask, zeros(column, {.dtype = mask.dtype()})}, -1);
}

/// A bool mask (true = masked) as the float mask torch 2.x turns it into: −inf where masked.
Tensor as_additive(const Tensor& mask, Dtype dtype) {
    if (mask.dtype() != Dtype::boolean) return mask;
    return masked_fill(zeros(mask.shape(), {.dtype = dtype}), mask, neg_inf);
}

/// The attention weights and output of scaled dot-product attention, after its checks (`op`
/// names the caller in errors): what MultiheadAttention shares with the function.
struct AttentionResult {
    Tensor output;
    Tensor weights;
};

AttentionResult attention(const Tensor& query, const Tensor& key, const Tensor& value,
                          const ScaledDotProductAttentionOptions& options, std::string_view op) {
    require_defined(query, op, "query");
    require_defined(key, op, "key");
    require_defined(value, op, "value");
    if (query.dim() < 2 || key.dim() < 2 || value.dim() < 2) {
        throw ShapeError(fmt::format(
            "{}: query [..., L, E], key [..., S, E] and value [..., S, Ev] need at least 2 dims, "
            "got query {}, key {}, value {}",
            op, shape_str(query.shape()), shape_str(key.shape()), shape_str(value.shape())));
    }
    const Dtype dtype = query.dtype();
    if (!is_floating(dtype) || key.dtype() != dtype || value.dtype() != dtype) {
        throw DtypeError(
            fmt::format("{}: query, key and value must have one floating dtype, got {}, {} and {}",
                        op, dtype_name(dtype), dtype_name(key.dtype()), dtype_name(value.dtype())));
    }
    const std::int64_t length = query.size(-2), source = key.size(-2);
    if (query.size(-1) != key.size(-1) || value.size(-2) != source) {
        throw ShapeError(fmt::format(
            "{}: query [..., L, E], key [..., S, E] and value [..., S, Ev] do not fit: query {}, "
            "key {}, value {}",
            op, shape_str(query.shape()), shape_str(key.shape()), shape_str(value.shape())));
    }
    // the batch dims broadcast as matmul's: [..., L, S] scores
    const auto batch_of = [](const Tensor& t) {
        return Shape(t.shape().begin(), t.shape().end() - 2);
    };
    Shape scores_shape =
        broadcast_shapes(broadcast_shapes(batch_of(query), batch_of(key), op), batch_of(value), op);
    scores_shape.push_back(length);
    scores_shape.push_back(source);
    check_option(options.dropout_p, closed(0, 1), op, "dropout_p");
    const double scale = options.scale ? check_option(*options.scale, finite(), op, "scale")
                                       : 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
    const Tensor& mask = options.attn_mask;
    if (mask.defined()) {
        if (options.is_causal) {
            throw Error(fmt::format("{}: give attn_mask or is_causal, not both (attn_mask {})", op,
                                    describe(mask)));
        }
        check_mask_dtype(mask, dtype, op, "attn_mask");
        // the mask broadcasts to the scores without enlarging them
        bool fits = mask.dim() <= static_cast<std::int64_t>(scores_shape.size());
        for (std::int64_t i = 1; fits && i <= mask.dim(); ++i) {
            const std::int64_t m = mask.size(-i), s = scores_shape[scores_shape.size() - i];
            fits = m == 1 || m == s;
        }
        if (!fits) {
            throw ShapeError(fmt::format("{}: attn_mask {} does not broadcast to the scores {}", op,
                                         shape_str(mask.shape()), shape_str(scores_shape)));
        }
    }

    // scores = (q·scale)·kᵀ (the scale on the smaller operand), −inf where a query may not attend
    Tensor scores = matmul(query * scale, key, false, true);
    if (options.is_causal) scores = masked_fill(scores, above_diagonal(length, source), neg_inf);
    if (mask.defined()) {
        scores = mask.dtype() == Dtype::boolean ? masked_fill(scores, logical_not(mask), neg_inf)
                                                : scores + mask;
    }
    // safe softmax: a row of all −inf (or of no keys) gives weights 0, not NaN; the row is
    // zeroed before the softmax too, so that no NaN reaches its backward. Only a mask can make
    // such a row (the causal one leaves every query its first key).
    Tensor weights;
    if (source == 0) {
        weights = scores;
    } else if (!mask.defined()) {
        weights = softmax(scores, -1);
    } else {
        const Tensor dead = max(scores.detach(), -1, true) == neg_inf;
        weights = dead.sum().item() != 0.0
                      ? masked_fill(softmax(masked_fill(scores, dead, 0.0), -1), dead, 0.0)
                      : softmax(scores, -1);
    }
    if (options.dropout_p > 0.0) weights = functional::dropout(weights, options.dropout_p, true);
    Tensor output = matmul(weights, value);
    return {std::move(output), std::move(weights)};
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const ScaledDotProductAttentionOptions& options) {
    return attention(query, key, value, options, "scaled_dot_product_attention").output;
}

Tensor generate_square_subsequent_mask(std::int64_t size, Dtype dtype) {
    check_count(size, 0, "generate_square_subsequent_mask", "size");
    checked_numel({size, size}, "generate_square_subsequent_mask");
    if (!is_floating(dtype)) {
        throw DtypeError(
            fmt::format("generate_square_subsequent_mask: dtype must be float32 or "
                        "float64, got {}",
                        dtype_name(dtype)));
    }
    return masked_fill(zeros({size, size}, {.dtype = dtype}), above_diagonal(size, size), neg_inf);
}

MultiheadAttention::MultiheadAttention(std::int64_t embed_dim, std::int64_t num_heads,
                                       MultiheadAttentionOptions options)
    : embed_dim_(check_count(embed_dim, 1, "MultiheadAttention", "embed_dim")),
      num_heads_(check_count(num_heads, 1, "MultiheadAttention", "num_heads")),
      kdim_(check_count(options.kdim.value_or(embed_dim), 1, "MultiheadAttention", "kdim")),
      vdim_(check_count(options.vdim.value_or(embed_dim), 1, "MultiheadAttention", "vdim")),
      options_(options) {
    check_option(options.dropout, closed(0, 1), "MultiheadAttention", "dropout");
    if (embed_dim % num_heads != 0) {
        throw ShapeError(
            fmt::format("MultiheadAttention: embed_dim {} is not divisible by num_heads {}",
                        embed_dim, num_heads));
    }
    const std::int64_t e = embed_dim;
    if (e > std::numeric_limits<std::int64_t>::max() / 3) {
        throw ShapeError(fmt::format("MultiheadAttention: embed_dim {} is too large", e));
    }
    checked_numel({3 * e, std::max({e, kdim_, vdim_})}, "MultiheadAttention");
    if (kdim_ == e && vdim_ == e) {
        in_proj_weight_ = &register_parameter("in_proj_weight", zeros({3 * e, e}));
        init::xavier_uniform_(*in_proj_weight_);
    } else {
        q_proj_weight_ = &register_parameter("q_proj_weight", zeros({e, e}));
        k_proj_weight_ = &register_parameter("k_proj_weight", zeros({e, kdim_}));
        v_proj_weight_ = &register_parameter("v_proj_weight", zeros({e, vdim_}));
        init::xavier_uniform_(*q_proj_weight_);
        init::xavier_uniform_(*k_proj_weight_);
        init::xavier_uniform_(*v_proj_weight_);
    }
    if (options.bias) in_proj_bias_ = &register_parameter("in_proj_bias", zeros({3 * e}));
    if (options.add_bias_kv) {
        bias_k_ = &register_parameter("bias_k", zeros({1, 1, e}));
        bias_v_ = &register_parameter("bias_v", zeros({1, 1, e}));
        init::xavier_normal_(*bias_k_);
        init::xavier_normal_(*bias_v_);
    }
    out_proj_ = &register_module("out_proj", Linear(e, e, options.bias));
    if (options.bias) {
        Tensor out_bias = out_proj_->bias();  // shares the parameter's storage
        init::zeros_(out_bias);
    }
}

namespace {

/// The weights' shapes and dtypes against one another; returns (E, kdim, vdim).
std::array<std::int64_t, 3> check_parameters(const MultiheadAttentionParameters& p,
                                             std::string_view op) {
    const Tensor& out_w = p.out_proj_weight;
    require_defined(out_w, op, "out_proj_weight");
    if (out_w.dim() != 2 || out_w.size(0) != out_w.size(1) || !is_floating(out_w.dtype())) {
        throw ShapeError(
            fmt::format("{}: out_proj_weight must be a square float matrix [E, E], "
                        "got {}",
                        op, describe(out_w)));
    }
    const std::int64_t e = out_w.size(0);
    check_count(p.num_heads, 1, op, "num_heads");
    if (e % p.num_heads != 0) {
        throw ShapeError(
            fmt::format("{}: embed_dim {} is not divisible by num_heads {}", op, e, p.num_heads));
    }
    check_option(p.dropout_p, closed(0, 1), op, "dropout_p");
    const auto expect = [&](const Tensor& t, std::string_view name, const Shape& shape) {
        if (t.defined() && (t.shape() != shape || t.dtype() != out_w.dtype())) {
            throw ShapeError(fmt::format("{}: {} must be {} {}, got {}", op, name,
                                         dtype_name(out_w.dtype()), shape_str(shape), describe(t)));
        }
    };
    std::int64_t kdim = e, vdim = e;
    const bool separate =
        p.q_proj_weight.defined() || p.k_proj_weight.defined() || p.v_proj_weight.defined();
    if (p.in_proj_weight.defined() == separate) {
        throw Error(
            fmt::format("{}: give in_proj_weight or all of q_proj_weight, k_proj_weight "
                        "and v_proj_weight (one of the two)",
                        op));
    }
    if (separate) {
        require_defined(p.q_proj_weight, op, "q_proj_weight");
        require_defined(p.k_proj_weight, op, "k_proj_weight");
        require_defined(p.v_proj_weight, op, "v_proj_weight");
        kdim = p.k_proj_weight.dim() == 2 ? p.k_proj_weight.size(1) : -1;
        vdim = p.v_proj_weight.dim() == 2 ? p.v_proj_weight.size(1) : -1;
        expect(p.q_proj_weight, "q_proj_weight", {e, e});
        expect(p.k_proj_weight, "k_proj_weight", {e, std::max<std::int64_t>(kdim, 1)});
        expect(p.v_proj_weight, "v_proj_weight", {e, std::max<std::int64_t>(vdim, 1)});
    }
    expect(p.in_proj_weight, "in_proj_weight", {3 * e, e});
    expect(p.in_proj_bias, "in_proj_bias", {3 * e});
    expect(p.out_proj_bias, "out_proj_bias", {e});
    if (p.bias_k.defined() != p.bias_v.defined()) {
        throw Error(fmt::format("{}: give both bias_k and bias_v, or neither", op));
    }
    expect(p.bias_k, "bias_k", {1, 1, e});
    expect(p.bias_v, "bias_v", {1, 1, e});
    return {e, kdim, vdim};
}

AttentionOutput multi_head_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const MultiheadAttentionParameters& params,
                                     const MultiheadAttentionForwardOptions& options,
                                     std::string_view op) {
    const std::array<std::int64_t, 3> dims = check_parameters(params, op);
    const std::int64_t e = dims[0], kdim = dims[1], vdim = dims[2];  // lambdas below capture e
    require_defined(query, op, "query");
    require_defined(key, op, "key");
    require_defined(value, op, "value");
    const std::int64_t rank = query.dim();
    if ((rank != 2 && rank != 3) || key.dim() != rank || value.dim() != rank) {
        throw ShapeError(fmt::format(
            "{}: query, key and value must all be 3-D (batched) or all 2-D (unbatched), got query "
            "{}, key {}, value {}",
            op, shape_str(query.shape()), shape_str(key.shape()), shape_str(value.shape())));
    }
    const Dtype dtype = params.out_proj_weight.dtype();
    if (query.dtype() != dtype || key.dtype() != dtype || value.dtype() != dtype) {
        throw DtypeError(fmt::format(
            "{}: query, key and value must have the parameters' dtype {}, got {}, {} and {}", op,
            dtype_name(dtype), dtype_name(query.dtype()), dtype_name(key.dtype()),
            dtype_name(value.dtype())));
    }
    const bool batched = rank == 3;
    // internally [N, L, features]
    const auto inside = [&](const Tensor& x) {
        if (!batched) return unsqueeze(x, 0);
        return params.batch_first ? x : transpose(x, 0, 1);
    };
    const Tensor q_in = inside(query), k_in = inside(key), v_in = inside(value);
    const std::int64_t n = q_in.size(0), length = q_in.size(1), source = k_in.size(1);
    const std::int64_t heads = params.num_heads, d = e / heads;
    if (q_in.size(2) != e || k_in.size(2) != kdim || v_in.size(2) != vdim || k_in.size(0) != n ||
        v_in.size(0) != n || v_in.size(1) != source) {
        throw ShapeError(fmt::format(
            "{}: expected query [L, N, {}], key [S, N, {}] and value [S, N, {}]{}, got query {}, "
            "key {}, value {}",
            op, e, kdim, vdim,
            !batched ? " (unbatched: without N)"
                     : (params.batch_first ? " (batch_first: N first)" : ""),
            shape_str(query.shape()), shape_str(key.shape()), shape_str(value.shape())));
    }

    // masks, as [N or 1, heads or 1, L or 1, S]
    Tensor padding = options.key_padding_mask, attn = options.attn_mask;
    if (padding.defined()) {
        check_mask_dtype(padding, dtype, op, "key_padding_mask");
        const Shape want = batched ? Shape{n, source} : Shape{source};
        if (padding.shape() != want) {
            throw ShapeError(fmt::format("{}: key_padding_mask must be {}, got {}", op,
                                         shape_str(want), shape_str(padding.shape())));
        }
        padding = reshape(padding, {n, 1, 1, source});
    }
    if (attn.defined()) {
        check_mask_dtype(attn, dtype, op, "attn_mask");
        const Shape two{length, source}, three{n * heads, length, source};
        if (attn.shape() != two && attn.shape() != three) {
            throw ShapeError(fmt::format("{}: attn_mask must be {} or {}, got {}", op,
                                         shape_str(two), shape_str(three),
                                         shape_str(attn.shape())));
        }
        attn = attn.dim() == 2 ? reshape(attn, {1, 1, length, source})
                               : reshape(attn, {n, heads, length, source});
    } else if (options.is_causal) {
        throw Error(fmt::format(
            "{}: is_causal is a hint that attn_mask is the causal mask, as in torch: give the mask "
            "too (generate_square_subsequent_mask({}))",
            op, length));
    }

    // projections: q = query·W_qᵀ + b_q, k = key·W_kᵀ + b_k, v = value·W_vᵀ + b_v
    const auto part = [&](const Tensor& t, std::int64_t i) {
        return t.defined() ? slice(t, 0, i * e, (i + 1) * e) : Tensor{};
    };
    const auto weight = [&](std::int64_t i, const Tensor& separate) {
        return params.in_proj_weight.defined() ? part(params.in_proj_weight, i) : separate;
    };
    const Tensor& b = params.in_proj_bias;
    const Tensor q = linear(q_in, weight(0, params.q_proj_weight), part(b, 0));
    Tensor k = linear(k_in, weight(1, params.k_proj_weight), part(b, 1));
    Tensor v = linear(v_in, weight(2, params.v_proj_weight), part(b, 2));
    const auto extra_key = [&] {
        attn = with_extra_key(attn);
        padding = with_extra_key(padding);
    };
    if (params.bias_k.defined()) {  // one more key and value: bias_k and bias_v
        k = concat({k, expand(params.bias_k, {n, 1, e})}, 1);
        v = concat({v, expand(params.bias_v, {n, 1, e})}, 1);
        extra_key();
    }
    // heads: [N, L, E] → [N, heads, L, E/heads]
    const auto split_heads = [&](const Tensor& x) {
        return permute(reshape(x, {n, x.size(1), heads, d}), {0, 2, 1, 3});
    };
    const Tensor qh = split_heads(q);
    Tensor kh = split_heads(k), vh = split_heads(v);
    if (params.add_zero_attn) {  // one more key and value of zeros
        kh = concat({kh, zeros({n, heads, 1, d}, {.dtype = dtype})}, 2);
        vh = concat({vh, zeros({n, heads, 1, d}, {.dtype = dtype})}, 2);
        extra_key();
    }

    // one mask, as torch 2.x merges them: bool ones or'ed (then negated: true = may attend),
    // otherwise each as a float (−inf where a bool one is true) and their sum
    Tensor merged;
    if (attn.defined() && padding.defined()) {
        merged = attn.dtype() == Dtype::boolean && padding.dtype() == Dtype::boolean
                     ? logical_or(attn, padding)
                     : as_additive(attn, dtype) + as_additive(padding, dtype);
    } else {
        merged = attn.defined() ? attn : padding;
    }
    if (merged.defined() && merged.dtype() == Dtype::boolean) merged = logical_not(merged);
    auto [heads_out, weights] =
        attention(qh, kh, vh, {.attn_mask = merged, .dropout_p = params.dropout_p}, op);

    // heads concatenated: [N, heads, L, E/heads] → [N, L, E], then out_proj
    Tensor out = linear(reshape(permute(heads_out, {0, 2, 1, 3}), {n, length, e}),
                        params.out_proj_weight, params.out_proj_bias);
    out = !batched ? squeeze(out, 0) : (params.batch_first ? out : transpose(out, 0, 1));
    if (!options.need_weights) return {std::move(out), Tensor{}};
    if (options.average_attn_weights) weights = mean(weights, 1);
    if (!batched) weights = squeeze(weights, 0);
    return {std::move(out), std::move(weights)};
}

}  // namespace

AttentionOutput MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                            const Tensor& value,
                                            const MultiheadAttentionForwardOptions& options) {
    const auto get = [](const Tensor* t) { return t ? *t : Tensor{}; };
    const MultiheadAttentionParameters parameters{
        .num_heads = num_heads_,
        .in_proj_weight = get(in_proj_weight_),
        .q_proj_weight = get(q_proj_weight_),
        .k_proj_weight = get(k_proj_weight_),
        .v_proj_weight = get(v_proj_weight_),
        .in_proj_bias = get(in_proj_bias_),
        .bias_k = get(bias_k_),
        .bias_v = get(bias_v_),
        .out_proj_weight = out_proj_->weight(),
        .out_proj_bias = out_proj_->bias(),
        .add_zero_attn = options_.add_zero_attn,
        .dropout_p = is_training() ? options_.dropout : 0.0,
        .batch_first = options_.batch_first};
    return multi_head_attention(query, key, value, parameters, options, "MultiheadAttention");
}

AttentionOutput multi_head_attention_forward(const Tensor& query, const Tensor& key,
                                             const Tensor& value,
                                             const MultiheadAttentionParameters& parameters,
                                             const MultiheadAttentionForwardOptions& options) {
    return multi_head_attention(query, key, value, parameters, options,
                                "multi_head_attention_forward");
}

}  // namespace descent::nn
