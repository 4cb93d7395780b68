// Running sums and products along a dim. Each backward is written with differentiable ops;
// cumprod's has three forms, as torch's: a division where x has no zeros, an exact O(n) kernel
// with zeros when no graph is recorded, and an exact O(n²) formula with zeros under
// create_graph (the one whose own derivative is right).

#include <fmt/format.h>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {
using kernel::Blocks;

/// Unsigned arithmetic for int64: the sum or product wraps around as torch's does, where the
/// signed overflow would be undefined behaviour.
template <class T>
T wrapping_add(T a, T b) {
    if constexpr (std::is_same_v<T, std::int64_t>) {
        return static_cast<T>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
    } else {
        return a + b;
    }
}
template <class T>
T wrapping_mul(T a, T b) {
    if constexpr (std::is_same_v<T, std::int64_t>) {
        return static_cast<T>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
    } else {
        return a * b;
    }
}

/// x as a running sum or product takes it: a bool x as int64 (as torch), any other as is.
Tensor scan_input(const Tensor& x, std::string_view op) {
    kernel::check_defined(x, op);
    return x.dtype() == Dtype::boolean ? x.to(Dtype::int64) : x;
}

/// y[.., k, ..] = combine(y[.., k−1, ..], x[.., k, ..]) along dim, y[.., 0, ..] = x[.., 0, ..].
template <class Combine>
Tensor scan(const Tensor& x, std::int64_t dim, Combine combine) {
    Tensor y = copy_of(x);
    if (x.numel() == 0) return y;  // (its extent along dim may still be huge)
    const Blocks b = kernel::blocks_around(x.shape(), dim);
    kernel::dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        if constexpr (!std::is_same_v<T, bool>) {  // (a bool x came as int64)
            T* p = elements<T>(y);
            for (std::int64_t o = 0; o < b.outer; ++o) {
                for (std::int64_t k = 1; k < b.extent; ++k) {
                    T* row = p + (o * b.extent + k) * b.inner;
                    for (std::int64_t i = 0; i < b.inner; ++i)
                        row[i] = combine(row[i - b.inner], row[i]);
                }
            }
        }
    });
    return y;
}

/// Σ_{j≥k} g_j along dim: the adjoint of cumsum.
Tensor reverse_cumsum(const Tensor& g, std::int64_t dim) {
    return flip(cumsum(flip(g, {dim}), dim), {dim});
}

bool has_zero(const Tensor& x) {
    return kernel::dispatch_floating(x.dtype(), "cumprod", [&](auto tag) {
        using T = decltype(tag);
        return (kernel::in<T>(x) == T(0)).any();
    });
}

/// ∂x of y = cumprod(x) without recording, exact with zeros. Along a slice whose first zero is
/// at z:  ∂x_k = Σ_{j≥k} g_j y_j / x_k for k < z,  ∂x_z = Σ_{j≥z} g_j y_{z−1} Π_{z<i≤j} x_i,
/// and ∂x_k = 0 for k > z (every product through x_k holds x_z = 0).
Tensor cumprod_backward_kernel(const Tensor& x, const Tensor& y, const Tensor& g,
                               std::int64_t dim) {
    Tensor dx = zeros(x.shape(), {.dtype = x.dtype()});
    const Blocks b = kernel::blocks_around(x.shape(), dim);
    kernel::dispatch_floating(x.dtype(), "cumprod", [&](auto tag) {
        using T = decltype(tag);
        for (std::int64_t o = 0; o < b.outer; ++o) {
            for (std::int64_t i = 0; i < b.inner; ++i) {
                const std::int64_t start = o * b.extent * b.inner + i, step = b.inner;
                const T* xs = elements<T>(x) + start;
                const T* ys = elements<T>(y) + start;
                const T* gs = elements<T>(g) + start;
                T* out = elements<T>(dx) + start;
                std::int64_t z = 0;
                while (z < b.extent && xs[z * step] != T(0)) ++z;
                T tail = 0;  // Σ_{k≤j<z} g_j y_j
                for (std::int64_t k = z; k-- > 0;) {
                    tail += gs[k * step] * ys[k * step];
                    out[k * step] = tail / xs[k * step];
                }
                if (z == b.extent) continue;
                T product = z > 0 ? ys[(z - 1) * step] : T(1), sum = 0;  // y_{z−1} Π_{z<i≤j} x_i
                for (std::int64_t j = z; j < b.extent; ++j) {
                    if (j > z) product *= xs[j * step];
                    sum += gs[j * step] * product;
                }
                out[z * step] = sum;
            }
        }
    });
    return dx;
}

/// ∂x_k = Σ_{j≥k} g_j Π_{i≤j, i≠k} x_i in differentiable ops, exact with zeros: row k of an
/// [n, n] matrix is x with x_k replaced by 1, whose cumprod holds those products at every j,
/// and triu keeps j ≥ k. O(n²) memory per slice, for create_graph only.
Tensor cumprod_backward_quadratic(const Tensor& x, const Tensor& g, std::int64_t dim) {
    const Tensor x_last = transpose(x, dim, -1), g_last = transpose(g, dim, -1);
    const std::int64_t n = x_last.size(-1);
    const Tensor rows = masked_fill(unsqueeze(x_last, -2), eye(n, {.dtype = Dtype::boolean}), 1.0);
    const Tensor products = triu(cumprod(rows, -1));
    return transpose(sum(products * unsqueeze(g_last, -2), {-1}), dim, -1);
}

Tensor cumprod_backward(const Tensor& x, const Tensor& y, const Tensor& g, std::int64_t dim) {
    if (!has_zero(x)) return reverse_cumsum(g * y, dim) / x;  // ∂x_k = Σ_{j≥k} g_j y_j / x_k
    if (!is_grad_enabled()) return cumprod_backward_kernel(x, y, g, dim);
    return cumprod_backward_quadratic(x, g, dim);
}
}  // namespace

Tensor cumsum(const Tensor& x_in, std::int64_t dim_in) {  // y = cumsum(x);  ∂x = reverse-cumsum(g)
    const Tensor x = scan_input(x_in, "cumsum");
    if (x.dim() == 0) {
        wrap_dim(dim_in, 1, "cumsum");
        return reshape(cumsum(reshape(x, {1}), 0), {});
    }
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "cumsum");
    Tensor y = scan(x, dim, [](auto a, auto b) { return wrapping_add(a, b); });
    return record(
        Op::cumsum, {x}, std::move(y), {},
        [dim](const BackwardContext&, const Tensor& g) { return Grads{reverse_cumsum(g, dim)}; });
}

Tensor cumprod(const Tensor& x_in, std::int64_t dim_in) {
    // y_j = Π_{i≤j} x_i;  ∂x_k = Σ_{j≥k} g_j Π_{i≤j, i≠k} x_i
    const Tensor x = scan_input(x_in, "cumprod");
    if (x.dim() == 0) {
        wrap_dim(dim_in, 1, "cumprod");
        return reshape(cumprod(reshape(x, {1}), 0), {});
    }
    const std::int64_t dim = wrap_dim(dim_in, x.dim(), "cumprod");
    Tensor y = scan(x, dim, [](auto a, auto b) { return wrapping_mul(a, b); });
    return record(Op::cumprod, {x}, y, {x, y}, [dim](const BackwardContext& c, const Tensor& g) {
        return Grads{cumprod_backward(c.saved(0), c.saved(1), g, dim)};
    });
}

}  // namespace descent
