#pragma once
// What the spatial ops (spatial.hpp) share: their inputs seen as [N, C, H, W], the checks of
// their extents, and the window counts of torch's formulas.

#include <cstdint>
#include <string_view>
#include <vector>

#include "descent/spatial.hpp"
#include "patches.hpp"

namespace descent::detail {

/// An op's input as [N, C, H, W]: 1-D ops ([N, C, L] or [C, L]) get H = 1, an input without
/// its batch dim gets N = 1; `restore` gives a result of that layout back its own.
struct AsImage {
    Tensor x;          // [N, C, H, W]
    std::size_t rank;  // spatial dims of the op: 1 or 2
    bool batched;
    /// y [N, C', H', W'] in the caller's layout: H' dropped for 1-D, N dropped if unbatched.
    Tensor restore(const Tensor& y) const;
};
/// Checks that x is a floating [N, C, spatial...] or [C, spatial...] tensor with non-empty
/// spatial dims and views it as an image.
AsImage as_image(const Tensor& x, std::size_t rank, std::string_view op);

/// `extents` for each of `rank` spatial dims, each ≥ minimum, as (h, w); a 1-D op's h is
/// fill_h. An Error naming op and what otherwise.
struct Pair {
    std::int64_t h, w;
};
Pair pair_of(const Extents& extents, std::size_t rank, std::int64_t minimum, std::string_view op,
             std::string_view what, std::int64_t fill_h = 1);

/// Windows along one dim of `extent` (padded by pad_begin and pad_end) for a kernel spread by
/// dilation, at stride: ⌊(extent + pads − dilation·(kernel − 1) − 1) / stride⌋ + 1, or with
/// ceil_mode rounded up unless that window would start in the end padding (torch's rule).
/// An Error naming op when no window fits.
std::int64_t window_count(std::int64_t extent, std::int64_t kernel, std::int64_t stride,
                          std::int64_t dilation, std::int64_t pad_begin, std::int64_t pad_end,
                          bool ceil_mode, std::string_view op);

/// The windows of kernel k at stride s and dilation d over an h × w input padded by
/// pad_begin and pad_end, counted by window_count.
struct WindowSpec {
    Pair kernel, stride, dilation, pad_begin, pad_end;
};
Windows windows_over(std::int64_t h, std::int64_t w, const WindowSpec& spec, bool ceil_mode,
                     std::string_view op);

/// The ShapeError empty() would throw, naming op, unless a tensor of this shape and dtype fits
/// in memory: checked before any work toward it.
void check_fits(const Shape& shape, Dtype dtype, std::string_view op);

/// Throws an Error naming op unless a and b share a floating dtype.
void check_same_floating(const Tensor& a, const Tensor& b, std::string_view op,
                         std::string_view a_name, std::string_view b_name);

}  // namespace descent::detail
