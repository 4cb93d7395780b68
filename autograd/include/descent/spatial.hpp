#pragma once
// Convolution, pooling, padding and unfold/fold over [N, C, L] and [N, C, H, W] tensors, with
// torch's layouts, arguments, defaults and semantics (torch.nn.functional). Each is composed
// of differentiable ops, or is a node whose backward is (the window copies are each other's
// adjoints; conv runs kernels, and composes its backward under create_graph), so gradients of
// any order exist; every one is in the op table's gradcheck/gradgradcheck sweep.
//
//   Tensor y = conv2d(x, weight, bias, {.stride = 2, .padding = 1});
//   Tensor z = max_pool2d(y, 2);
//   Tensor s = conv1d(x1, w1, {}, {.padding = "same", .dilation = 2});

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

/// An extent per spatial dim, or one for all of them: 3, or {3, 5} (height, width).
class Extents {
  public:
    Extents() = default;  // unset: the op's default (a pool's stride is its kernel)
    template <std::integral I>
    Extents(I all) : values_{static_cast<std::int64_t>(all)} {}
    Extents(std::initializer_list<std::int64_t> values) : values_(values) {}
    explicit Extents(std::vector<std::int64_t> values) : values_(std::move(values)) {}
    bool empty() const { return values_.empty(); }
    /// As given: one value, one per dim, or none (unset).
    const std::vector<std::int64_t>& values() const { return values_; }
    /// One extent per spatial dim (`rank` of them): one value repeated, or exactly `rank`;
    /// anything else is an Error naming op and what.
    std::vector<std::int64_t> expand(std::size_t rank, std::string_view op,
                                     std::string_view what) const;

  private:
    std::vector<std::int64_t> values_;
};

/// A convolution's padding: extents (zeros on both sides), or "valid" (none) or "same"
/// (output as large as the input at stride 1; an odd total puts the extra one at the end).
class ConvPadding {
  public:
    template <std::integral I>
    ConvPadding(I all) : extents_(all) {}
    ConvPadding(std::initializer_list<std::int64_t> values) : extents_(values) {}
    ConvPadding(Extents extents) : extents_(std::move(extents)) {}
    ConvPadding(const char* mode);
    bool same() const { return same_; }
    const Extents& extents() const { return extents_; }

  private:
    Extents extents_;
    bool same_ = false;
};

struct ConvOptions {
    Extents stride = 1;
    ConvPadding padding = 0;
    Extents dilation = 1;
    std::int64_t groups = 1;
};

/// Cross-correlation (torch.nn.functional.conv1d/conv2d): x [N, C_in, L] or [N, C_in, H, W]
/// (or without N), weight [C_out, C_in/groups, k...], bias [C_out] or undefined.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const ConvOptions& options = {});
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
              const ConvOptions& options = {});

struct ConvTransposeOptions {
    Extents stride = 1;
    Extents padding = 0;
    /// Added to one side of the output, to pick among the sizes a stride > 1 maps to one input.
    Extents output_padding = 0;
    std::int64_t groups = 1;
    Extents dilation = 1;
};

/// The adjoint of conv (torch's conv_transpose1d/2d): weight [C_in, C_out/groups, k...].
Tensor conv_transpose1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTransposeOptions& options = {});
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                        const ConvTransposeOptions& options = {});

struct PoolOptions {
    /// Unset: the kernel size.
    Extents stride = {};
    /// At most half the kernel on each side; max pooling pads with −inf, average with 0.
    Extents padding = 0;
    /// Max pooling only.
    Extents dilation = 1;
    /// Count a last, partial window (one that starts inside the input or its left padding).
    bool ceil_mode = false;
    /// Average pooling: divide by the window including its padding (else by the elements of
    /// the input it covers).
    bool count_include_pad = true;
    /// Average pooling: divide by this instead.
    std::optional<std::int64_t> divisor_override = std::nullopt;
};

/// The largest element of each window; its gradient goes to the first largest, as torch's.
Tensor max_pool1d(const Tensor& x, const Extents& kernel, const PoolOptions& options = {});
Tensor max_pool2d(const Tensor& x, const Extents& kernel, const PoolOptions& options = {});
Tensor avg_pool1d(const Tensor& x, const Extents& kernel, const PoolOptions& options = {});
Tensor avg_pool2d(const Tensor& x, const Extents& kernel, const PoolOptions& options = {});

/// Pooling to a given output size: window i spans [⌊i·L/out⌋, ⌈(i+1)·L/out⌉).
Tensor adaptive_avg_pool1d(const Tensor& x, const Extents& output_size);
Tensor adaptive_avg_pool2d(const Tensor& x, const Extents& output_size);
Tensor adaptive_max_pool1d(const Tensor& x, const Extents& output_size);
Tensor adaptive_max_pool2d(const Tensor& x, const Extents& output_size);

enum class PadMode { constant, reflect, replicate, circular };

/// Pads the last dims: `pads` = {left, right} of the last dim, then {top, bottom} of the one
/// before, ... (torch.nn.functional.pad). Negative pads crop (constant mode). reflect mirrors
/// without repeating the edge (pads < extent), replicate repeats it, circular wraps around
/// (pads ≤ extent).
Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, PadMode mode = PadMode::constant,
           double value = 0.0);

enum class InterpolateMode { nearest, linear, bilinear };

struct InterpolateOptions {
    /// The output's spatial extents; or else
    Extents size = {};
    /// per spatial dim (or one for all): output extent ⌊in · factor⌋, and the factor's inverse
    /// as the kernels' scale (torch's default, recompute_scale_factor unset).
    std::vector<double> scale_factor = {};
    /// nearest for [N, C, L] and [N, C, H, W]; linear for [N, C, L]; bilinear for [N, C, H, W].
    InterpolateMode mode = InterpolateMode::nearest;
    /// Linear modes only: map corner pixel centres onto corner pixel centres (unset: false).
    std::optional<bool> align_corners = std::nullopt;
};

/// Resizes the spatial dims of x (torch.nn.functional.interpolate) with torch's source
/// positions: nearest reads x[min(⌊j·scale⌋, in − 1)], scale = in/out (or 1/scale_factor);
/// (bi)linear weighs the two neighbours of (j + ½)·scale − ½ (clamped at 0), or of
/// j·(in − 1)/(out − 1) with align_corners.
Tensor interpolate(const Tensor& x, const InterpolateOptions& options);

struct UnfoldOptions {
    Extents dilation = 1;
    Extents padding = 0;
    Extents stride = 1;
};

/// Every window of x [N, C, H, W] as a column: [N, C·kh·kw, L] (torch.nn.functional.unfold).
Tensor unfold(const Tensor& x, const Extents& kernel, const UnfoldOptions& options = {});
/// The adjoint of unfold: columns [N, C·kh·kw, L] summed into [N, C, output_size...].
Tensor fold(const Tensor& columns, const Extents& output_size, const Extents& kernel,
            const UnfoldOptions& options = {});

}  // namespace descent
