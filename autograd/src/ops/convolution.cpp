// Convolution and its adjoint (descent/spatial.hpp).
//   conv: one node whose kernels (conv_kernels.hpp) copy each sample's windows into columns
//         and multiply by the weight; under create_graph its backward is composed, as below,
//         so it differentiates again.
//   conv_transpose: rows = x·W [N·L_in, C_out·k], y = patches_adjoint(rows) + b, composed of
//         differentiable ops.
// Groups are a batch of products.

#include <fmt/format.h>

#include "../conv_kernels.hpp"
#include "../spatial_geometry.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {
using detail::Pair;
using detail::Windows;

/// What both directions check: the weight's rank and dtype, groups and bias.
void check_weight(const detail::AsImage& in, const Tensor& weight, const Tensor& bias,
                  std::int64_t groups, std::int64_t out_channels, std::string_view op) {
    detail::check_same_floating(in.x, weight, op, "input", "weight");
    if (weight.dim() != static_cast<std::int64_t>(in.rank) + 2) {
        throw ShapeError(fmt::format("{}: the weight must be {}-D, got {}", op, in.rank + 2,
                                     shape_str(weight.shape())));
    }
    if (groups < 1 || weight.size(0) % groups != 0 || in.x.size(1) % groups != 0) {
        throw Error(
            fmt::format("{}: groups must be ≥ 1 and divide the input channels ({}) and "
                        "weight.size(0) ({}), got {}",
                        op, in.x.size(1), weight.size(0), groups));
    }
    if (bias.defined()) {
        detail::check_same_floating(in.x, bias, op, "input", "bias");
        if (bias.dim() != 1 || bias.size(0) != out_channels) {
            throw ShapeError(fmt::format("{}: the bias must be [{}], got {}", op, out_channels,
                                         shape_str(bias.shape())));
        }
    }
}

/// The kernel extents of a weight [., ., k...] as (h, w), checked as every option is.
Pair kernel_of(const Tensor& weight, std::size_t rank, std::string_view op) {
    const Shape& s = weight.shape();
    return detail::pair_of(Extents(std::vector<std::int64_t>(s.begin() + 2, s.end())), rank, 1, op,
                           "the weight's kernel size");
}

/// rows [M, G·K] times the groups' weights [G, O_g, K]ᵀ: [M, G·O_g], group by group.
Tensor grouped_product(const Tensor& rows, const Tensor& weight, std::int64_t groups) {
    const std::int64_t m = rows.size(0);
    if (groups == 1) return matmul(rows, transpose(weight.reshape({weight.size(0), -1}), 0, 1));
    const Tensor w = weight.reshape({groups, weight.size(0) / groups, -1});     // [G, O_g, K]
    const Tensor r = permute(rows.reshape({m, groups, w.size(2)}), {1, 0, 2});  // [G, M, K]
    return permute(matmul(r, transpose(w, 1, 2)), {1, 0, 2}).reshape({m, -1});
}

/// A transposed convolution's output extent, (in − 1)·stride − 2·padding + dilation·(k − 1)
/// + output_padding + 1, or an Error naming op when it is below 1 or beyond int64.
std::int64_t transposed_extent(std::int64_t in, std::int64_t k, std::int64_t stride,
                               std::int64_t padding, std::int64_t dilation, std::int64_t extra,
                               std::string_view op) {
    std::int64_t grown = 0;  // the options are below 2³¹, so only this product can overflow
    if (__builtin_mul_overflow(in - 1, stride, &grown) ||
        grown > (std::int64_t{1} << 62) - (std::int64_t{1} << 33)) {
        throw ShapeError(
            fmt::format("{}: an input extent of {} at stride {} is too large", op, in, stride));
    }
    const std::int64_t out = grown - 2 * padding + dilation * (k - 1) + extra + 1;
    if (out < 1) {
        throw ShapeError(
            fmt::format("{}: an input extent of {} gives an output extent of {} "
                        "(padding {}, kernel {}, stride {})",
                        op, in, out, padding, k, stride));
    }
    return out;
}

/// ∂x of a convolution, composed: rows = ∂y·W per group [N·L, C·k], summed into place.
Tensor composed_input_grad(const Tensor& g, const Tensor& weight, const Shape& x_shape,
                           const Windows& win, std::int64_t groups) {
    const std::int64_t n = g.size(0), o = g.size(1), l = g.size(2) * g.size(3);
    const Tensor g_rows = permute(g.reshape({n, o, l}), {0, 2, 1}).reshape({n * l, o});
    const Tensor w_t = transpose(weight.reshape({groups, o / groups, -1}), 1, 2);  // [G, K, O_g]
    const Tensor rows = grouped_product(g_rows, w_t.reshape({-1, o / groups}), groups);
    return detail::patches_adjoint(rows.reshape({n, l, -1}), x_shape, win);
}

/// ∂W of a convolution, composed: per group ∂y_gᵀ [O_g, N·L] · windows_g [N·L, C_g·k].
Tensor composed_weight_grad(const Tensor& g, const Tensor& x, const Shape& w_shape,
                            const Windows& win, std::int64_t groups) {
    const std::int64_t n = g.size(0), o = g.size(1), l = g.size(2) * g.size(3);
    const Tensor g_rows = permute(g.reshape({n, o, l}), {0, 2, 1}).reshape({n * l, o});
    const Tensor rows = detail::patches(x, win).reshape({n * l, -1});
    const Tensor gt = permute(g_rows.reshape({n * l, groups, o / groups}), {1, 2, 0});
    const Tensor r = permute(rows.reshape({n * l, groups, -1}), {1, 0, 2});
    return matmul(gt, r).reshape(w_shape);
}

/// y = conv(x, W) + b over [N, C, H, W] as one node.
Tensor conv_node(const Tensor& x, const Tensor& weight, const Tensor& bias, const Windows& win,
                 std::int64_t groups) {
    Tensor y = kernel::conv_forward(x, weight, bias, win, groups);
    const bool has_bias = bias.defined();
    std::vector<Tensor> inputs{x, weight};
    if (has_bias) inputs.push_back(bias);
    return record(Op::conv2d, inputs, y, {x, weight},
                  [win, groups, has_bias](const BackwardContext& c, const Tensor& g) {
                      const Tensor x_ = c.saved(0), w_ = c.saved(1);
                      const bool graph = is_grad_enabled();  // create_graph: compose
                      Grads grads(has_bias ? 3 : 2);
                      if (c.needs_grad(0)) {
                          grads[0] = graph
                                         ? composed_input_grad(g, w_, x_.shape(), win, groups)
                                         : kernel::conv_input_grad(g, w_, x_.shape(), win, groups);
                      }
                      if (c.needs_grad(1)) {
                          grads[1] = graph
                                         ? composed_weight_grad(g, x_, w_.shape(), win, groups)
                                         : kernel::conv_weight_grad(g, x_, w_.shape(), win, groups);
                      }
                      if (has_bias && c.needs_grad(2)) grads[2] = sum(g, {0, 2, 3});  // Σ ∂y
                      return grads;
                  });
}

Tensor convolution(const Tensor& input, const Tensor& weight, const Tensor& bias,
                   const ConvOptions& o, std::size_t rank, std::string_view op) {
    const detail::AsImage in = detail::as_image(input, rank, op);
    check_weight(in, weight, bias, o.groups, weight.defined() ? weight.size(0) : 0, op);
    const std::int64_t n = in.x.size(0), c = in.x.size(1), h = in.x.size(2), w = in.x.size(3);
    if (weight.size(1) * o.groups != c) {
        throw ShapeError(
            fmt::format("{}: the weight {} expects {} input channels ({} groups), "
                        "the input {} has {}",
                        op, shape_str(weight.shape()), weight.size(1) * o.groups, o.groups,
                        shape_str(input.shape()), c));
    }
    const Pair k = kernel_of(weight, rank, op);
    const Pair stride = detail::pair_of(o.stride, rank, 1, op, "stride");
    const Pair dilation = detail::pair_of(o.dilation, rank, 1, op, "dilation");
    Pair begin{0, 0}, end{0, 0};
    if (o.padding.same()) {  // total d·(k − 1), the odd one at the end
        if (stride.h != 1 || stride.w != 1) {
            throw Error(fmt::format("{}: padding \"same\" needs stride 1", op));
        }
        const Pair total{dilation.h * (k.h - 1), dilation.w * (k.w - 1)};
        begin = {total.h / 2, total.w / 2};
        end = {total.h - begin.h, total.w - begin.w};
    } else {
        begin = end = detail::pair_of(o.padding.extents(), rank, 0, op, "padding", 0);
    }
    const Windows win = detail::windows_over(h, w, {k, stride, dilation, begin, end}, false, op);
    // one sample's windows, and the output
    detail::check_fits({win.out_h, win.out_w, c, k.h, k.w}, input.dtype(), op);
    detail::check_fits({n, weight.size(0), win.out_h, win.out_w}, input.dtype(), op);
    const Tensor w4 = rank == 1 ? unsqueeze(weight, 2) : weight;
    return in.restore(conv_node(in.x, w4, bias, win, o.groups));
}

Tensor convolution_transpose(const Tensor& input, const Tensor& weight, const Tensor& bias,
                             const ConvTransposeOptions& o, std::size_t rank, std::string_view op) {
    const detail::AsImage in = detail::as_image(input, rank, op);
    const std::int64_t out_channels =
        weight.defined() && weight.dim() > 1 ? weight.size(1) * o.groups : 0;
    check_weight(in, weight, bias, o.groups, out_channels, op);
    const std::int64_t n = in.x.size(0), c = in.x.size(1), h = in.x.size(2), w = in.x.size(3);
    if (weight.size(0) != c) {
        throw ShapeError(fmt::format(
            "{}: the weight {} expects {} input channels, the input {} "
            "has {}",
            op, shape_str(weight.shape()), weight.size(0), shape_str(input.shape()), c));
    }
    const Pair k = kernel_of(weight, rank, op);
    const Pair stride = detail::pair_of(o.stride, rank, 1, op, "stride");
    const Pair dilation = detail::pair_of(o.dilation, rank, 1, op, "dilation");
    const Pair padding = detail::pair_of(o.padding, rank, 0, op, "padding", 0);
    const Pair extra = detail::pair_of(o.output_padding, rank, 0, op, "output_padding", 0);
    if ((extra.h >= stride.h && extra.h >= dilation.h) ||
        (extra.w >= stride.w && extra.w >= dilation.w)) {
        throw Error(
            fmt::format("{}: output_padding must be smaller than the stride or the "
                        "dilation",
                        op));
    }
    const Pair size{transposed_extent(h, k.h, stride.h, padding.h, dilation.h, extra.h, op),
                    transposed_extent(w, k.w, stride.w, padding.w, dilation.w, extra.w, op)};
    const Shape out_shape{n, out_channels, size.h, size.w};
    detail::check_fits({n, h, w, out_channels, k.h, k.w}, input.dtype(), op);  // the windows
    detail::check_fits(out_shape, input.dtype(), op);
    const Windows win{k.h,        k.w,       stride.h,  stride.w, dilation.h,
                      dilation.w, padding.h, padding.w, h,        w};
    // x as rows [N·H·W, C_in] times W [C_in, C_out/g·k] per group: each input position's
    // contribution to the windows it feeds, then summed into place
    const Tensor x_rows = permute(in.x, {0, 2, 3, 1}).reshape({n * h * w, c});
    const Tensor w_t = transpose(weight.reshape({o.groups, c / o.groups, -1}), 1, 2);
    const Tensor rows = grouped_product(x_rows, w_t.reshape({-1, c / o.groups}), o.groups);
    Tensor y = detail::patches_adjoint(rows.reshape({n, h * w, -1}), out_shape, win);
    if (bias.defined()) y = y + bias.reshape({out_channels, 1, 1});
    return in.restore(y);
}
}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvOptions& o) {
    return convolution(x, weight, bias, o, 1, "conv1d");
}
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvOptions& o) {
    return convolution(x, weight, bias, o, 2, "conv2d");
}
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTransposeOptions& o) {
    return convolution_transpose(x, weight, bias, o, 1, "conv_transpose1d");
}
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTransposeOptions& o) {
    return convolution_transpose(x, weight, bias, o, 2, "conv_transpose2d");
}

}  // namespace descent
