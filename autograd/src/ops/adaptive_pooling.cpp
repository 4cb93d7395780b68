// Pooling to an output size: window i of out along an extent L spans [⌊i·L/out⌋, ⌈(i+1)·L/out⌉),
// so windows may differ in size and overlap.
//   avg: separable sums, y = (S_h · x · S_wᵀ) / (|window i|·|window j|), S[i, j] = [j in window i];
//   max: each window gathered (short ones repeat their last element), then its first largest.

#include <fmt/format.h>

#include <algorithm>

#include "../spatial_geometry.hpp"
#include "descent/ops.hpp"
#include "descent/spatial.hpp"

namespace descent {
namespace {
using detail::Pair;

struct Span {
    std::int64_t start, end;
};

std::vector<Span> adaptive_spans(std::int64_t extent, std::int64_t out) {
    std::vector<Span> spans;
    for (std::int64_t i = 0; i < out; ++i) {
        spans.push_back({i * extent / out, ((i + 1) * extent + out - 1) / out});
    }
    return spans;
}

Pair output_size(const detail::AsImage& in, const Extents& size, std::string_view op) {
    const Pair out = detail::pair_of(size, in.rank, 1, op, "output_size");
    // (i + 1)·extent stays far inside int64: extents and sizes are below 2³¹ each
    if (in.x.size(2) >= (std::int64_t{1} << 31) || in.x.size(3) >= (std::int64_t{1} << 31)) {
        throw ShapeError(fmt::format("{}: the input {} is too large", op, shape_str(in.x.shape())));
    }
    detail::check_fits({in.x.size(0), in.x.size(1), out.h, out.w}, in.x.dtype(), op);
    return out;
}

/// A [out, extent] matrix with ones in row i over window i, and the windows' sizes [out].
std::pair<Tensor, Tensor> window_sums(std::int64_t extent, std::int64_t out, Dtype dtype,
                                      std::string_view op) {
    detail::check_fits({out, extent}, Dtype::float64, op);
    std::vector<double> ones(static_cast<std::size_t>(out * extent), 0.0), sizes;
    for (std::int64_t i = 0; const Span s : adaptive_spans(extent, out)) {
        for (std::int64_t j = s.start; j < s.end; ++j)
            ones[static_cast<std::size_t>(i * extent + j)] = 1;
        sizes.push_back(static_cast<double>(s.end - s.start));
        ++i;
    }
    return {tensor(ones, {out, extent}, {.dtype = dtype}), tensor(sizes, {out}, {.dtype = dtype})};
}

/// The indices of each window along one extent, [out·k] for the longest window k (shorter ones
/// repeat their last index, which changes neither the maximum nor which element is first).
std::pair<Tensor, std::int64_t> window_indices(std::int64_t extent, std::int64_t out) {
    const std::vector<Span> spans = adaptive_spans(extent, out);
    std::int64_t k = 0;
    for (const Span& s : spans) k = std::max(k, s.end - s.start);
    std::vector<std::int64_t> index;
    for (const Span& s : spans) {
        for (std::int64_t a = 0; a < k; ++a) index.push_back(std::min(s.start + a, s.end - 1));
    }
    return {int_tensor(index, {out * k}), k};
}

Tensor adaptive_avg(const Tensor& x, const Extents& size, std::size_t rank, std::string_view op) {
    const detail::AsImage in = detail::as_image(x, rank, op);
    const Pair out = output_size(in, size, op);
    // window sums S_h·x·S_wᵀ, then one division by the window's size, as torch divides
    const auto [s_w, size_w] = window_sums(in.x.size(3), out.w, x.dtype(), op);
    Tensor y = matmul(in.x, transpose(s_w, 0, 1));  // [N, C, H, out_w]
    if (rank == 1) return in.restore(y / size_w);
    const auto [s_h, size_h] = window_sums(in.x.size(2), out.h, x.dtype(), op);
    y = transpose(matmul(transpose(y, 2, 3), transpose(s_h, 0, 1)), 2, 3);  // [N, C, oh, ow]
    return in.restore(y / (unsqueeze(size_h, 1) * size_w));
}

Tensor adaptive_max(const Tensor& x, const Extents& size, std::size_t rank, std::string_view op) {
    const detail::AsImage in = detail::as_image(x, rank, op);
    const Pair out = output_size(in, size, op);
    const std::int64_t n = in.x.size(0), c = in.x.size(1);
    const auto [rows, kh] = window_indices(in.x.size(2), out.h);
    const auto [cols, kw] = window_indices(in.x.size(3), out.w);
    detail::check_fits({n, c, out.h, kh, out.w, kw}, x.dtype(), op);
    const Tensor grid = index_select(index_select(in.x, 2, rows), 3, cols);  // [N, C, oh·kh, ow·kw]
    const Tensor windows = permute(grid.reshape({n, c, out.h, kh, out.w, kw}), {0, 1, 2, 4, 3, 5})
                               .reshape({n, c, out.h, out.w, kh * kw});
    const Tensor best = gather(windows, 4, argmax(windows.detach(), 4, true));
    return in.restore(squeeze(best, 4));
}
}  // namespace

Tensor adaptive_avg_pool1d(const Tensor& x, const Extents& output_size) {
    return adaptive_avg(x, output_size, 1, "adaptive_avg_pool1d");
}
Tensor adaptive_avg_pool2d(const Tensor& x, const Extents& output_size) {
    return adaptive_avg(x, output_size, 2, "adaptive_avg_pool2d");
}
Tensor adaptive_max_pool1d(const Tensor& x, const Extents& output_size) {
    return adaptive_max(x, output_size, 1, "adaptive_max_pool1d");
}
Tensor adaptive_max_pool2d(const Tensor& x, const Extents& output_size) {
    return adaptive_max(x, output_size, 2, "adaptive_max_pool2d");
}

}  // namespace descent
