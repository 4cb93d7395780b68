#pragma once
// The sliding windows behind convolution, pooling and unfold/fold: `patches` copies every
// window of an [N, C, H, W] tensor into a row, and `patches_adjoint` sums rows back into place.
// Each is the other's backward, so both differentiate any number of times; window_mean and its
// adjoint are the same pair for average pooling.

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::detail {

/// Where the windows of a 2-D sliding operation sit. Window (i, j) covers rows
/// i·stride_h − pad_h + a·dilation_h for a < kernel_h, and columns likewise; positions outside
/// the input read the pad value. out_h × out_w windows, computed by the caller (so floor or ceil
/// modes and asymmetric padding are the caller's choice).
struct Windows {
    std::int64_t kernel_h, kernel_w;
    std::int64_t stride_h, stride_w;
    std::int64_t dilation_h, dilation_w;
    std::int64_t pad_h, pad_w;  // before the first row and column
    std::int64_t out_h, out_w;
};

/// [N, C, H, W] → [N, out_h·out_w, C·kernel_h·kernel_w]: row l holds window l, channel by
/// channel, in the order of a convolution weight [O, C, kh, kw] flattened.
Tensor patches(const Tensor& x, const Windows& windows, double pad_value = 0.0);

/// [N, out_h·out_w, C·kernel_h·kernel_w] → `input_shape` [N, C, H, W]: each element added to
/// the input position it was copied from (the padding receives nothing).
Tensor patches_adjoint(const Tensor& rows, const Shape& input_shape, const Windows& windows);

/// [N, C, H, W] → [N, C, out_h, out_w]: each window's sum divided by its divisor (`divisors`,
/// out_h·out_w of them, shared by every plane): average pooling in one pass, without copying
/// the windows out.
Tensor window_mean(const Tensor& x, const Windows& windows, const Tensor& divisors);

/// The adjoint of window_mean: each g[n, c, i, j] / divisor added to every input position of
/// window (i, j). Each is the other's backward.
Tensor window_mean_adjoint(const Tensor& g, const Shape& input_shape, const Windows& windows,
                           const Tensor& divisors);

}  // namespace descent::detail
