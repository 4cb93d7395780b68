// unfold and fold (torch.nn.functional): the windows of an image as columns, and back.
//   unfold: [N, C, H, W] → [N, C·kh·kw, L],  fold: its adjoint, summing overlaps.

#include <fmt/format.h>

#include "../spatial_geometry.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"

namespace descent {
namespace {
using detail::Pair;
using detail::Windows;

Windows windows_for(std::int64_t h, std::int64_t w, const Extents& kernel, const UnfoldOptions& o,
                    std::string_view op) {
    const Pair k = detail::pair_of(kernel, 2, 1, op, "kernel_size");
    const Pair d = detail::pair_of(o.dilation, 2, 1, op, "dilation");
    const Pair p = detail::pair_of(o.padding, 2, 0, op, "padding");
    const Pair s = detail::pair_of(o.stride, 2, 1, op, "stride");
    return detail::windows_over(h, w, {k, s, d, p, p}, false, op);
}
}  // namespace

Tensor unfold(const Tensor& x, const Extents& kernel, const UnfoldOptions& o) {
    const detail::AsImage in = detail::as_image(x, 2, "unfold");
    const std::int64_t n = in.x.size(0), c = in.x.size(1);
    const Windows w = windows_for(in.x.size(2), in.x.size(3), kernel, o, "unfold");
    detail::check_fits({n, w.out_h, w.out_w, c, w.kernel_h, w.kernel_w}, x.dtype(), "unfold");
    const Tensor columns = transpose(detail::patches(in.x, w), 1, 2);
    return in.batched ? columns : squeeze(columns, 0);
}

Tensor fold(const Tensor& columns, const Extents& output_size, const Extents& kernel,
            const UnfoldOptions& o) {
    if (!columns.defined() || (columns.dim() != 2 && columns.dim() != 3)) {
        throw ShapeError(
            fmt::format("fold: expected columns [N, C·kh·kw, L] or [C·kh·kw, L], got {}",
                        columns.defined() ? shape_str(columns.shape()) : "undefined"));
    }
    const bool batched = columns.dim() == 3;
    const Tensor cols = batched ? columns : unsqueeze(columns, 0);
    const Pair size = detail::pair_of(output_size, 2, 1, "fold", "output_size");
    const Windows w = windows_for(size.h, size.w, kernel, o, "fold");
    const std::int64_t per_window = w.kernel_h * w.kernel_w;
    if (cols.size(1) % per_window != 0 || cols.size(2) != w.out_h * w.out_w) {
        throw ShapeError(fmt::format(
            "fold: columns {} do not fit a {} x {} kernel over {} x {} "
            "({} windows)",
            shape_str(columns.shape()), w.kernel_h, w.kernel_w, size.h, size.w, w.out_h * w.out_w));
    }
    const Shape image{cols.size(0), cols.size(1) / per_window, size.h, size.w};
    detail::check_fits(image, cols.dtype(), "fold");
    const Tensor y = detail::patches_adjoint(transpose(cols, 1, 2), image, w);
    return batched ? y : squeeze(y, 0);
}

}  // namespace descent
