// conv_kernels.hpp: im2col and col2im of one sample, and the products around them.

#include "conv_kernels.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "descent/threads.hpp"
#include "gemm.hpp"
#include "kernels.hpp"
#ifdef DESCENT_HAVE_ONEDNN
#include "conv_onednn.hpp"
#endif

namespace descent::kernel {
namespace {
using detail::Windows;

/// The windows' columns ox whose element ox·stride − pad + offset lies in [0, width).
struct Inside {
    std::int64_t begin, end;
};
Inside inside(std::int64_t offset, std::int64_t stride, std::int64_t width, std::int64_t count) {
    // ox·stride + offset ≥ 0  ⇔  ox ≥ ⌈−offset/stride⌉;  ox·stride + offset < width
    const std::int64_t first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    const std::int64_t last = width - offset <= 0 ? 0 : (width - offset - 1) / stride + 1;
    return {std::min(first, count), std::clamp(last, std::min(first, count), count)};
}

/// Visits, for one sample of [C, H, W], each column row r = (c·kh + a)·kw + b and window row oy
/// with the image row it reads (c·H + iy, or −1 in the padding): f(r, oy, row, inside, offset),
/// where window columns [inside.begin, inside.end) read image column ox·stride + offset.
template <class F>
void for_each_column_run(std::int64_t channels, std::int64_t height, std::int64_t width,
                         const Windows& w, F&& f) {
    for (std::int64_t c = 0; c < channels; ++c) {
        for (std::int64_t a = 0; a < w.kernel_h; ++a) {
            for (std::int64_t b = 0; b < w.kernel_w; ++b) {
                const std::int64_t r = (c * w.kernel_h + a) * w.kernel_w + b;
                const std::int64_t offset = b * w.dilation_w - w.pad_w;
                const Inside cols = inside(offset, w.stride_w, width, w.out_w);
                for (std::int64_t oy = 0; oy < w.out_h; ++oy) {
                    const std::int64_t iy = oy * w.stride_h - w.pad_h + a * w.dilation_h;
                    const std::int64_t row = iy >= 0 && iy < height ? c * height + iy : -1;
                    f(r, oy, row, row < 0 ? Inside{0, 0} : cols, offset);
                }
            }
        }
    }
}

/// cols [C·kh·kw, out_h·out_w] of one image [C, H, W] (0 in the padding).
template <class T>
void im2col(const T* image, std::int64_t c, std::int64_t h, std::int64_t wd, const Windows& w,
            T* cols) {
    const std::int64_t l = w.out_h * w.out_w;
    for_each_column_run(
        c, h, wd, w,
        [&](std::int64_t r, std::int64_t oy, std::int64_t row, Inside in, std::int64_t offset) {
            T* dst = cols + r * l + oy * w.out_w;
            std::fill(dst, dst + in.begin, T(0));
            const std::int64_t base = row * wd + offset;  // image index of window column 0
            if (w.stride_w == 1 && in.end > in.begin) {
                std::memcpy(dst + in.begin, image + base + in.begin,
                            sizeof(T) * (in.end - in.begin));
            } else {
                for (std::int64_t ox = in.begin; ox < in.end; ++ox) {
                    dst[ox] = image[base + ox * w.stride_w];
                }
            }
            std::fill(dst + in.end, dst + w.out_w, T(0));
        });
}

/// image [C, H, W] += the columns summed back to the positions they were copied from.
template <class T>
void col2im(const T* cols, std::int64_t c, std::int64_t h, std::int64_t wd, const Windows& w,
            T* image) {
    const std::int64_t l = w.out_h * w.out_w;
    for_each_column_run(
        c, h, wd, w,
        [&](std::int64_t r, std::int64_t oy, std::int64_t row, Inside in, std::int64_t offset) {
            const T* src = cols + r * l + oy * w.out_w;
            const std::int64_t base = row * wd + offset;
            for (std::int64_t ox = in.begin; ox < in.end; ++ox)
                image[base + ox * w.stride_w] += src[ox];
        });
}

struct Sizes {
    std::int64_t n, c, h, w, o, per_group_k, l;
};
Sizes sizes_of(const Shape& x, const Shape& weight, const Windows& w) {
    return {
        x[0], x[1], x[2], x[3], weight[0], weight[1] * weight[2] * weight[3], w.out_h * w.out_w};
}

/// ∂W is summed over this many fixed ranges of samples (the most threads that can share it).
constexpr std::int64_t kWeightChunks = 8;

/// Runs body(chunk, first, last, scratch) over the samples in `chunks` fixed ranges, over
/// the threads when the work is large, each thread with its own scratch of `scratch_size`
/// elements (allocated before the threads start, so nothing inside can throw). The ranges do not
/// depend on the thread count, so neither do the results.
template <class T, class Body>
void over_samples(std::int64_t samples, std::int64_t chunks, double work, std::size_t scratch_size,
                  Body&& body) {
    const int threads = chunks > 1 && work >= static_cast<double>(parallel_threshold())
                            ? static_cast<int>(std::min<std::int64_t>(get_num_threads(), chunks))
                            : 1;
    std::vector<std::vector<T>> scratch(static_cast<std::size_t>(threads),
                                        std::vector<T>(scratch_size));
    parallel_for(chunks, threads, [&](std::int64_t chunk, int slot) {
        body(chunk, samples * chunk / chunks, samples * (chunk + 1) / chunks,
             scratch[static_cast<std::size_t>(slot)].data());
    });
}

double work_of(const Sizes& s) {  // multiply-adds of one direction's products
    return static_cast<double>(s.n) * static_cast<double>(s.o) *
           static_cast<double>(s.per_group_k) * static_cast<double>(s.l);
}
}  // namespace

Tensor conv_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, const Windows& win,
                    std::int64_t groups) {
#ifdef DESCENT_HAVE_ONEDNN
    if (auto y = onednn::conv_forward(x, weight, bias, win, groups)) return *std::move(y);
#endif
    const Sizes s = sizes_of(x.shape(), weight.shape(), win);
    Tensor y = empty({s.n, s.o, win.out_h, win.out_w}, x.dtype(), "conv2d");
    dispatch_floating(x.dtype(), "conv2d", [&](auto tag) {
        using T = decltype(tag);
        const std::int64_t og = s.o / groups;
        const T* in = x.data<T>();
        T* result = elements<T>(y);
        over_samples<T>(
            s.n, s.n, work_of(s), static_cast<std::size_t>(s.c * win.kernel_h * win.kernel_w * s.l),
            [&](std::int64_t, std::int64_t first, std::int64_t last, T* cols) {
                for (std::int64_t n = first; n < last; ++n) {
                    im2col(in + n * s.c * s.h * s.w, s.c, s.h, s.w, win, cols);
                    T* out = result + n * s.o * s.l;
                    for (std::int64_t g = 0; g < groups;
                         ++g) {  // y_g = W_g [O_g, K] · cols_g [K, L]
                        detail::gemm(weight.data<T>() + g * og * s.per_group_k, og, s.per_group_k,
                                     false, cols + g * s.per_group_k * s.l, s.per_group_k, s.l,
                                     false, out + g * og * s.l);
                    }
                    if (bias.defined()) {
                        for (std::int64_t o = 0; o < s.o; ++o) {
                            const T b = bias.data<T>()[o];
                            T* row = out + o * s.l;
                            for (std::int64_t i = 0; i < s.l; ++i) row[i] += b;
                        }
                    }
                }
            });
    });
    return y;
}

Tensor conv_input_grad(const Tensor& g, const Tensor& weight, const Shape& x_shape,
                       const Windows& win, std::int64_t groups) {
#ifdef DESCENT_HAVE_ONEDNN
    if (auto dx = onednn::conv_input_grad(g, weight, x_shape, win, groups)) return *std::move(dx);
#endif
    const Sizes s = sizes_of(x_shape, weight.shape(), win);
    Tensor dx = zeros(x_shape, {.dtype = g.dtype()});
    dispatch_floating(g.dtype(), "conv2d", [&](auto tag) {
        using T = decltype(tag);
        const std::int64_t og = s.o / groups;
        const T* grads = g.data<T>();
        T* result = elements<T>(dx);
        over_samples<T>(
            s.n, s.n, work_of(s), static_cast<std::size_t>(s.c * win.kernel_h * win.kernel_w * s.l),
            [&](std::int64_t, std::int64_t first, std::int64_t last, T* cols) {
                for (std::int64_t n = first; n < last; ++n) {
                    const T* grad = grads + n * s.o * s.l;
                    for (std::int64_t k = 0; k < groups; ++k) {  // cols_k = W_kᵀ · ∂y_k [K, L]
                        detail::gemm(weight.data<T>() + k * og * s.per_group_k, og, s.per_group_k,
                                     true, grad + k * og * s.l, og, s.l, false,
                                     cols + k * s.per_group_k * s.l);
                    }
                    col2im(cols, s.c, s.h, s.w, win, result + n * s.c * s.h * s.w);
                }
            });
    });
    return dx;
}

Tensor conv_weight_grad(const Tensor& g, const Tensor& x, const Shape& weight_shape,
                        const Windows& win, std::int64_t groups) {
#ifdef DESCENT_HAVE_ONEDNN
    if (auto dw = onednn::conv_weight_grad(g, x, weight_shape, win, groups)) {
        return *std::move(dw);
    }
#endif
    const Sizes s = sizes_of(x.shape(), weight_shape, win);
    Tensor dw = zeros(weight_shape, {.dtype = g.dtype()});
    dispatch_floating(g.dtype(), "conv2d", [&](auto tag) {
        using T = decltype(tag);
        const std::int64_t og = s.o / groups;
        const auto weights = static_cast<std::size_t>(s.o * s.per_group_k);
        const auto columns = static_cast<std::size_t>(s.c * win.kernel_h * win.kernel_w * s.l);
        // a partial ∂W per fixed range of samples, summed in range order after the threads
        const std::int64_t chunks = std::min<std::int64_t>(s.n, kWeightChunks);
        std::vector<T> partial(static_cast<std::size_t>(chunks) * weights, T(0));
        const T* in = x.data<T>();
        const T* grads = g.data<T>();
        over_samples<T>(s.n, chunks, work_of(s), columns + weights,
                        [&](std::int64_t chunk, std::int64_t first, std::int64_t last, T* scratch) {
                            T* cols = scratch;
                            T* product = scratch + columns;
                            T* sum = partial.data() + static_cast<std::size_t>(chunk) * weights;
                            for (std::int64_t n = first; n < last; ++n) {
                                im2col(in + n * s.c * s.h * s.w, s.c, s.h, s.w, win, cols);
                                const T* grad = grads + n * s.o * s.l;
                                for (std::int64_t k = 0; k < groups;
                                     ++k) {  // ∂W_k += ∂y_k · cols_kᵀ [O_g, K]
                                    detail::gemm(grad + k * og * s.l, og, s.l, false,
                                                 cols + k * s.per_group_k * s.l, s.per_group_k, s.l,
                                                 true, product + k * og * s.per_group_k);
                                }
                                for (std::size_t i = 0; i < weights; ++i) sum[i] += product[i];
                            }
                        });
        T* out = elements<T>(dw);
        for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
            const T* sum = partial.data() + static_cast<std::size_t>(chunk) * weights;
            for (std::size_t i = 0; i < weights; ++i) out[i] += sum[i];
        }
    });
    return dw;
}

}  // namespace descent::kernel
