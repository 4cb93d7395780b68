#include "recurrent_scan.hpp"

#include <any>

#include "composed_backward.hpp"
#include "descent/function.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "recurrent_kernels.hpp"

namespace descent::nn::detail {
namespace {

Geometry geometry_of(CellKind kind, const Tensor& gates_x, const Tensor& h0, bool reverse) {
    const std::int64_t G = kind == CellKind::lstm ? 4 : kind == CellKind::gru ? 3 : 1;
    return {gates_x.size(0), gates_x.size(1), gates_x.size(2) / G, h0.size(1), G, reverse};
}

struct Scan : Function<Scan> {
    static constexpr const char* name = "recurrent_scan";

    static std::vector<Tensor> forward(FunctionContext& ctx, const Tensor& gates_x,
                                       const Tensor& h0, const Tensor& c0, const Tensor& weight_hh,
                                       const Tensor& bias_hh, const Tensor& weight_hr,
                                       CellKind kind, bool reverse) {
        const Geometry g = geometry_of(kind, gates_x, h0, reverse);
        const ScanWeights w{weight_hh, or_undefined(bias_hh), or_undefined(weight_hr)};
        const LSTMState start{h0, c0};
        Trace tr = forward_steps(kind, gates_x, start, w, g);
        ctx.save_for_backward({gates_x, h0, c0, weight_hh, bias_hh, weight_hr});
        ctx.saved_data["trace"] = tr;
        ctx.saved_data["kind"] = kind;
        ctx.saved_data["reverse"] = reverse;
        // copies: what the user receives must not alias what backward reads
        if (kind == CellKind::lstm) return {tr.hs.clone(), tr.cs.clone()};
        return {tr.hs.clone()};
    }

    static std::vector<Tensor> backward(FunctionContext& ctx, const std::vector<Tensor>& grads) {
        const std::vector<Tensor> in = ctx.saved();
        const auto kind = std::any_cast<CellKind>(ctx.saved_data.at("kind"));
        const bool reverse = std::any_cast<bool>(ctx.saved_data.at("reverse"));
        const Tensor d_cs = kind == CellKind::lstm ? grads[1] : Tensor{};
        if (is_grad_enabled()) return differentiable_backward(ctx, in, kind, reverse, grads);
        const auto& tr = std::any_cast<const Trace&>(ctx.saved_data.at("trace"));
        const Geometry g = geometry_of(kind, in[0], in[1], reverse);
        std::vector<Tensor> out = backward_steps(kind, in, tr, grads[0], d_cs, g);
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!ctx.needs_input_grad(i)) out[i] = Tensor{};
        }
        return out;
    }

    /// create_graph: the composed steps, run again from the inputs and differentiated.
    static std::vector<Tensor> differentiable_backward(FunctionContext& ctx,
                                                       const std::vector<Tensor>& in, CellKind kind,
                                                       bool reverse,
                                                       const std::vector<Tensor>& grads) {
        return composed_backward(ctx, in, grads, [kind, reverse](const std::vector<Tensor>& v) {
            const ScanResult again =
                composed_scan(kind, v[0], {v[1], kind == CellKind::lstm ? v[2] : Tensor{}},
                              {v[3], or_undefined(v[4]), or_undefined(v[5])}, reverse);
            if (kind == CellKind::lstm) return std::vector<Tensor>{again.hs, again.cs};
            return std::vector<Tensor>{again.hs};
        });
    }
};

}  // namespace

ScanResult recurrent_scan(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                          const ScanWeights& weights, bool reverse) {
    const Dtype dtype = gates_x.dtype();
    const Tensor c0 = kind == CellKind::lstm ? start.c : zeros({0}, {.dtype = dtype});
    const std::vector<Tensor> out =
        Scan::apply(gates_x, start.h, c0, weights.weight_hh, or_empty(weights.bias_hh, dtype),
                    or_empty(weights.weight_hr, dtype), kind, reverse);
    return {out[0], kind == CellKind::lstm ? out[1] : Tensor{}};
}

ScanResult composed_scan(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                         const ScanWeights& w, bool reverse) {
    const std::int64_t length = gates_x.size(0);
    std::vector<Tensor> steps = split(gates_x, 1, 0);
    std::vector<Tensor> hs(steps.size()), cs(steps.size());
    LSTMState state = start;
    for (std::int64_t k = 0; k < length; ++k) {
        const auto t = static_cast<std::size_t>(reverse ? length - 1 - k : k);
        const Tensor gates = steps[t].squeeze(0);
        switch (kind) {
            case CellKind::rnn_tanh:
            case CellKind::rnn_relu:
                state.h =
                    rnn_step(gates, state.h, w.weight_hh, w.bias_hh,
                             kind == CellKind::rnn_tanh ? Nonlinearity::tanh : Nonlinearity::relu);
                break;
            case CellKind::lstm:
                state = lstm_step(gates, state, w.weight_hh, w.bias_hh, w.weight_hr);
                break;
            case CellKind::gru:
                state.h = gru_step(gates, state.h, w.weight_hh, w.bias_hh);
                break;
        }
        hs[t] = state.h;
        cs[t] = state.c;
    }
    return {stack(hs, 0), kind == CellKind::lstm ? stack(cs, 0) : Tensor{}};
}

}  // namespace descent::nn::detail
