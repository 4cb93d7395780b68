// softmax_kernel.hpp: x as [outer, extent, inner] blocks, softmax along the extent; a block is
// one item of the thread pool.

#include "softmax_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/threads.hpp"
#include "kernels.hpp"

namespace descent::kernel {
namespace {
namespace ei = Eigen::internal;

/// out[j] = e^(x[j] − shift[j·step]) for j < n (step 0: one shift for all), by whole packets from
/// the start and the rest one by one, so each element's arithmetic does not depend on where the
/// buffers lie (Eigen's own loop peels scalars up to the first aligned address, and its scalar
/// and packet exp differ in the last bit).
template <class T>
void exp_shifted(const T* x, const T* shift, std::int64_t step, T* out, std::int64_t n) {
    using Packet = typename ei::packet_traits<T>::type;
    constexpr std::int64_t width = ei::packet_traits<T>::size;
    std::int64_t j = 0;
    for (; j + width <= n; j += width) {
        const Packet s = step == 0 ? ei::pset1<Packet>(shift[0]) : ei::ploadu<Packet>(shift + j);
        ei::pstoreu(out + j, ei::pexp(ei::psub(ei::ploadu<Packet>(x + j), s)));
    }
    for (; j < n; ++j) out[j] = std::exp(x[j] - shift[j * step]);
}

/// Row sums and maxima in eight lanes, element k into lane k mod 8, then the lanes in order and
/// the rest: a fixed order wherever the row lies, and one the compiler vectorises.
constexpr std::int64_t kLanes = 8;

template <class T>
T row_max(const T* x, std::int64_t n) {  // x > m ? x : m, as torch's max keeps the first
    T lanes[kLanes];
    std::fill(lanes, lanes + kLanes, -std::numeric_limits<T>::infinity());
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        for (std::int64_t j = 0; j < kLanes; ++j)
            lanes[j] = x[k + j] > lanes[j] ? x[k + j] : lanes[j];
    }
    T m = -std::numeric_limits<T>::infinity();
    for (const T v : lanes) m = v > m ? v : m;
    for (; k < n; ++k) m = x[k] > m ? x[k] : m;
    return m;
}

/// Σ a[k]·b[k] in double (b null: Σ a[k]).
template <class T>
double row_dot(const T* a, const T* b, std::int64_t n) {
    double lanes[kLanes] = {};
    std::int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes) {
        for (std::int64_t j = 0; j < kLanes; ++j) {
            lanes[j] += double(a[k + j]) * (b ? double(b[k + j]) : 1.0);
        }
    }
    double s = 0;
    for (const double v : lanes) s += v;
    for (; k < n; ++k) s += double(a[k]) * (b ? double(b[k]) : 1.0);
    return s;
}

/// The shift m: the largest element, or 0 when that is ±inf or NaN (a row of −inf then gives
/// 0/0 = NaN, as torch's softmax does).
template <class T>
T finite_or_zero(T m) {
    return std::isfinite(m) ? m : T(0);
}

/// One block [extent, inner] of y = softmax(x).
template <class T>
void forward_block(const T* x, std::int64_t extent, std::int64_t inner, T* y) {
    if (inner == 1) {
        const T m = finite_or_zero(row_max(x, extent));
        exp_shifted(x, &m, 0, y, extent);
        const T total = T(row_dot<T>(y, nullptr, extent));
        for (std::int64_t k = 0; k < extent; ++k) y[k] /= total;
        return;
    }
    std::vector<T> m(static_cast<std::size_t>(inner), -std::numeric_limits<T>::infinity());
    for (std::int64_t k = 0; k < extent; ++k) {
        for (std::int64_t i = 0; i < inner; ++i) {
            const T v = x[k * inner + i];
            T& best = m[static_cast<std::size_t>(i)];
            best = v > best ? v : best;
        }
    }
    for (T& v : m) v = finite_or_zero(v);
    std::vector<double> s(static_cast<std::size_t>(inner), 0.0);
    for (std::int64_t k = 0; k < extent; ++k) {
        exp_shifted(x + k * inner, m.data(), 1, y + k * inner, inner);
        for (std::int64_t i = 0; i < inner; ++i) s[static_cast<std::size_t>(i)] += y[k * inner + i];
    }
    for (std::int64_t k = 0; k < extent; ++k) {
        for (std::int64_t i = 0; i < inner; ++i)
            y[k * inner + i] /= T(s[static_cast<std::size_t>(i)]);
    }
}

/// One block of ∂x = y ⊙ (g − Σ g ⊙ y).
template <class T>
void backward_block(const T* g, const T* y, std::int64_t extent, std::int64_t inner, T* dx) {
    if (inner == 1) {
        const T d = T(row_dot(g, y, extent));
        for (std::int64_t k = 0; k < extent; ++k) dx[k] = y[k] * (g[k] - d);
        return;
    }
    std::vector<double> dot(static_cast<std::size_t>(inner), 0.0);
    for (std::int64_t k = 0; k < extent; ++k) {
        for (std::int64_t i = 0; i < inner; ++i) {
            dot[static_cast<std::size_t>(i)] += double(g[k * inner + i]) * double(y[k * inner + i]);
        }
    }
    for (std::int64_t k = 0; k < extent; ++k) {
        for (std::int64_t i = 0; i < inner; ++i) {
            const std::int64_t at = k * inner + i;
            dx[at] = y[at] * (g[at] - T(dot[static_cast<std::size_t>(i)]));
        }
    }
}
}  // namespace

Tensor softmax_forward(const Tensor& x, std::int64_t dim) {
    const Blocks b = x.dim() == 0 ? Blocks{1, 1, 1} : blocks_around(x.shape(), dim);
    Tensor y = empty(x.shape(), x.dtype(), "softmax");
    dispatch_floating(x.dtype(), "softmax", [&](auto tag) {
        using T = decltype(tag);
        const T* in = x.data<T>();
        T* out = elements<T>(y);
        const std::int64_t block = b.extent * b.inner;
        parallel_for_elements(b.outer, x.numel(), [&](std::int64_t o) {
            forward_block(in + o * block, b.extent, b.inner, out + o * block);
        });
    });
    return y;
}

Tensor softmax_backward(const Tensor& g, const Tensor& y, std::int64_t dim) {
    if (is_grad_enabled()) return y * (g - sum(g * y, {dim}, true));  // create_graph
    const Blocks b = y.dim() == 0 ? Blocks{1, 1, 1} : blocks_around(y.shape(), dim);
    Tensor dx = empty(y.shape(), y.dtype(), "softmax");
    dispatch_floating(y.dtype(), "softmax", [&](auto tag) {
        using T = decltype(tag);
        const T* grad = g.data<T>();
        const T* out = y.data<T>();
        T* result = elements<T>(dx);
        const std::int64_t block = b.extent * b.inner;
        parallel_for_elements(b.outer, y.numel(), [&](std::int64_t o) {
            backward_block(grad + o * block, out + o * block, b.extent, b.inner,
                           result + o * block);
        });
    });
    return dx;
}

}  // namespace descent::kernel
