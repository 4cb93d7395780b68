// TransformerEncoderLayer and TransformerEncoder (transformer.hpp): modules composed of
// MultiheadAttention, Linear, Dropout and LayerNorm.

#include "descent/nn/transformer.hpp"

#include <fmt/format.h>

#include <memory>
#include <typeinfo>
#include <utility>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::nn {
namespace {

/// Runs f; an Error from a part of the layer is given again with `where` in front, keeping its
/// kind, so that the message names what the user called ("TransformerEncoder: layers.1: ...").
template <class F>
auto naming(std::string_view where, F&& f) {
    try {
        return f();
    } catch (const Error& e) {
        const std::string message = fmt::format("{}: {}", where, e.what());
        if (dynamic_cast<const ShapeError*>(&e)) throw ShapeError(message);
        if (dynamic_cast<const DtypeError*>(&e)) throw DtypeError(message);
        if (dynamic_cast<const IndexError*>(&e)) throw IndexError(message);
        if (typeid(e) == typeid(Error)) throw Error(message);
        throw;  // autograd, anomaly and format errors as they are
    }
}

/// The layers' holder, printed and named as torch's ModuleList ("layers.0.", "layers.1.", ...).
class ModuleList : public Module {
  public:
    void append(std::shared_ptr<Module> module) {
        add_child(std::to_string(named_children().size()), std::move(module));
    }
    std::string type_name() const override { return "ModuleList"; }
};

}  // namespace

TransformerEncoderLayer::TransformerEncoderLayer(std::int64_t d_model, std::int64_t nhead,
                                                 TransformerEncoderLayerOptions options)
    : d_model_(check_count(d_model, 1, "TransformerEncoderLayer", "d_model")),
      nhead_(check_count(nhead, 1, "TransformerEncoderLayer", "nhead")),
      options_(options) {
    constexpr std::string_view op = "TransformerEncoderLayer";
    check_count(options.dim_feedforward, 1, op, "dim_feedforward");
    check_option(options.dropout, closed(0, 1), op, "dropout");
    check_option(options.layer_norm_eps, above(0), op, "layer_norm_eps");
    if (options.activation != TransformerActivation::relu &&
        options.activation != TransformerActivation::gelu) {
        throw Error(fmt::format("{}: activation must be relu or gelu, got the value {}", op,
                                static_cast<int>(options.activation)));
    }
    if (d_model % nhead != 0) {
        throw ShapeError(
            fmt::format("{}: d_model {} is not divisible by nhead {}", op, d_model, nhead));
    }
    naming(op, [&] {
        self_attn_ =
            &register_module("self_attn", MultiheadAttention(d_model, nhead,
                                                             {.dropout = options.dropout,
                                                              .bias = options.bias,
                                                              .batch_first = options.batch_first}));
        linear1_ =
            &register_module("linear1", Linear(d_model, options.dim_feedforward, options.bias));
        dropout_ = &register_module("dropout", Dropout(options.dropout));
        linear2_ =
            &register_module("linear2", Linear(options.dim_feedforward, d_model, options.bias));
        norm1_ = &register_module("norm1",
                                  LayerNorm({d_model}, options.layer_norm_eps, true, options.bias));
        norm2_ = &register_module("norm2",
                                  LayerNorm({d_model}, options.layer_norm_eps, true, options.bias));
        dropout1_ = &register_module("dropout1", Dropout(options.dropout));
        dropout2_ = &register_module("dropout2", Dropout(options.dropout));
        return 0;
    });
}

Tensor TransformerEncoderLayer::self_attention_block(
    const Tensor& x, const TransformerEncoderLayerForwardOptions& options) {
    auto [out, weights] = (*self_attn_)(x, x, x,
                                        {.key_padding_mask = options.src_key_padding_mask,
                                         .need_weights = false,
                                         .attn_mask = options.src_mask,
                                         .is_causal = options.is_causal});
    return (*dropout1_)(out);
}

Tensor TransformerEncoderLayer::feed_forward_block(const Tensor& x) {
    const Tensor hidden = (*linear1_)(x);
    const Tensor act =
        options_.activation == TransformerActivation::gelu ? gelu(hidden) : relu(hidden);
    return (*dropout2_)((*linear2_)((*dropout_)(act)));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src) {
    return forward(src, {});
}

Tensor TransformerEncoderLayer::forward(const Tensor& src,
                                        const TransformerEncoderLayerForwardOptions& options) {
    constexpr std::string_view op = "TransformerEncoderLayer";
    if (!src.defined()) throw Error(fmt::format("{}: src is an undefined tensor", op));
    if (options.is_causal && !options.src_mask.defined()) {
        throw Error(fmt::format(
            "{}: is_causal is a hint that src_mask is the causal mask, as in torch: give the "
            "mask too (generate_square_subsequent_mask)",
            op));
    }
    return naming(op, [&] {
        Tensor x = src;
        if (options_.norm_first) {
            // x + SA(LN₁(x)), then x + FF(LN₂(x))
            x = x + self_attention_block((*norm1_)(x), options);
            return x + feed_forward_block((*norm2_)(x));
        }
        // LN₁(x + SA(x)), then LN₂(x + FF(x))
        x = (*norm1_)(x + self_attention_block(x, options));
        return (*norm2_)(x + feed_forward_block(x));
    });
}

TransformerEncoder::TransformerEncoder(const TransformerEncoderLayer& encoder_layer,
                                       std::int64_t num_layers, std::optional<LayerNorm> norm) {
    constexpr std::string_view op = "TransformerEncoder";
    check_count(num_layers, 1, op, "num_layers");
    const StateDict state = encoder_layer.state_dict();
    const NamedTensors given = encoder_layer.named_parameters();
    auto& list = register_module("layers", ModuleList{});
    for (std::int64_t i = 0; i < num_layers; ++i) {
        // a deep copy: a new layer of the same settings, then the values copied in
        auto layer = std::make_shared<TransformerEncoderLayer>(
            encoder_layer.d_model(), encoder_layer.nhead(), encoder_layer.options());
        if (!given.empty()) layer->to(given.front().second.dtype());
        layer->load_state_dict(state);
        const NamedTensors mine = layer->named_parameters();
        for (std::size_t j = 0; j < mine.size(); ++j) {
            Tensor(mine[j].second).requires_grad_(given[j].second.requires_grad());
        }
        layer->train(encoder_layer.is_training());
        layers_.push_back(layer.get());
        list.append(std::move(layer));
    }
    if (norm) norm_ = &register_module("norm", std::move(*norm));
}

TransformerEncoderLayer& TransformerEncoder::layer(std::int64_t i) {
    if (i < 0 || i >= num_layers()) {
        throw IndexError(
            fmt::format("TransformerEncoder::layer: index {} is out of range for {} "
                        "layers",
                        i, num_layers()));
    }
    return *layers_[static_cast<std::size_t>(i)];
}

Tensor TransformerEncoder::forward(const Tensor& src) {
    return forward(src, {});
}

Tensor TransformerEncoder::forward(const Tensor& src,
                                   const TransformerEncoderForwardOptions& options) {
    constexpr std::string_view op = "TransformerEncoder";
    if (options.is_causal && !options.mask.defined()) {
        throw Error(fmt::format(
            "{}: is_causal is a hint that mask is the causal mask, as in torch: give the mask too "
            "(generate_square_subsequent_mask)",
            op));
    }
    Tensor x = src;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        x = naming(fmt::format("{}: layers.{}", op, i), [&] {
            return (*layers_[i])(x, {.src_mask = options.mask,
                                     .src_key_padding_mask = options.src_key_padding_mask,
                                     .is_causal = options.is_causal});
        });
    }
    if (norm_) x = naming(fmt::format("{}: norm", op), [&] { return (*norm_)(x); });
    return x;
}

}  // namespace descent::nn
