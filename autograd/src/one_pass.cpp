// The one-pass kernels (one_pass.hpp) and the compositions they equal under create_graph.

#include "one_pass.hpp"

#include <cmath>
#include <vector>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "same_shape.hpp"

namespace descent::kernel {
namespace {
/// out = g·[y > 0] elementwise, NaN in y giving g·0; the mask made by a packet compare (GCC
/// keeps a scalar loop for Eigen's bool-to-float cast, which goes element by element).
template <class T>
void times_positive_mask(const T* g, const T* y, T* out, std::int64_t n) {
    namespace ei = Eigen::internal;
    using Packet = typename ei::packet_traits<T>::type;
    constexpr std::int64_t width = ei::packet_traits<T>::size;
    const Packet zero = ei::pset1<Packet>(T(0)), one = ei::pset1<Packet>(T(1));
    std::int64_t i = 0;
    for (; i + width <= n; i += width) {
        const Packet mask = ei::pand(ei::pcmp_lt(zero, ei::ploadu<Packet>(y + i)), one);
        ei::pstoreu(out + i, ei::pmul(ei::ploadu<Packet>(g + i), mask));
    }
    for (; i < n; ++i) out[i] = g[i] * T(y[i] > T(0));
}

/// onehot(y) [N, C] in the given dtype.
Tensor one_hot(const Tensor& target, std::int64_t classes, Dtype dtype) {
    Tensor t = zeros({target.numel(), classes}, {.dtype = dtype});
    const std::int64_t* y = target.data<std::int64_t>();
    kernel::dispatch_floating(dtype, "softmax_cross_entropy", [&](auto tag) {
        using T = decltype(tag);
        T* p = t.mutable_data<T>();
        for (std::int64_t i = 0; i < target.numel(); ++i) p[i * classes + y[i]] = T(1);
    });
    return t;
}

/// Row i of z as softmax(zᵢ) in `probs` (the exponentials e^{zᵢc − max}, then divided by their
/// sum, formed in double); returns log Σ_c e^{zᵢc}. The exponentials go by whole packets from
/// the row's start and the last classes mod width one by one, so each element gets the same
/// arithmetic wherever the buffers lie (Eigen's own loop would peel scalars up to the first
/// aligned address, and its scalar and packet exp differ in the last bit).
template <class T>
double softmax_row(const T* z, std::int64_t classes, T* probs) {
    namespace ei = Eigen::internal;
    using Packet = typename ei::packet_traits<T>::type;
    constexpr std::int64_t width = ei::packet_traits<T>::size;
    using Row = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
    const T m = Row(z, classes).maxCoeff();
    const Packet pm = ei::pset1<Packet>(m);
    std::int64_t c = 0;
    for (; c + width <= classes; c += width)
        ei::pstoreu(probs + c, ei::pexp(ei::psub(ei::ploadu<Packet>(z + c), pm)));
    for (; c < classes; ++c) probs[c] = std::exp(z[c] - m);
    Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> e(probs, classes);
    double s = 0;
    for (std::int64_t c = 0; c < classes; ++c) s += double(probs[c]);
    e *= T(1.0 / s);
    return double(m) + std::log(s);
}
}  // namespace

Tensor relu_backward(const Tensor& g, const Tensor& y) {
    if (is_grad_enabled() || !same_shape(g.shape(), y.shape()) || g.dtype() != y.dtype()) {
        return g * mask_as(y > 0.0, y.dtype());  // recorded (create_graph), or broadcast
    }
    Tensor dx = empty(g.shape(), g.dtype(), "relu");
    dispatch_floating(g.dtype(), "relu", [&](auto tag) {
        using T = decltype(tag);
        for_each_chunk(dx.numel(), [&](std::int64_t first, std::int64_t count) {
            times_positive_mask(in<T>(g).data() + first, in<T>(y).data() + first,
                                out<T>(dx).data() + first, count);
        });
    });
    return dx;
}

Tensor softmax_cross_entropy_loss(const Tensor& z, const Tensor& y, const Tensor& w,
                                  double divisor) {
    const std::int64_t rows = z.size(0), classes = z.size(1);
    Tensor loss = empty({}, z.dtype(), "softmax_cross_entropy");
    dispatch_floating(z.dtype(), "softmax_cross_entropy", [&](auto tag) {
        using T = decltype(tag);
        const T *pz = z.data<T>(), *pw = w.data<T>();
        const std::int64_t* py = y.data<std::int64_t>();
        std::vector<T> probs(static_cast<std::size_t>(classes));
        double total = 0;
        for (std::int64_t i = 0; i < rows; ++i) {
            const double lse = softmax_row(pz + i * classes, classes, probs.data());
            total += double(pw[i]) * (lse - double(pz[i * classes + py[i]]));
        }
        *loss.mutable_data<T>() = T(total / divisor);
    });
    return loss;
}

Tensor softmax_cross_entropy_backward(const Tensor& z, const Tensor& y, const Tensor& w,
                                      const Tensor& g, double divisor) {
    const std::int64_t rows = z.size(0), classes = z.size(1);
    if (is_grad_enabled()) {  // create_graph: differentiable ops
        const Tensor scale = reshape(w * (g / divisor), {rows, 1});
        return (softmax(z, 1) - one_hot(y, classes, z.dtype())) * scale;
    }
    Tensor dz = empty({rows, classes}, z.dtype(), "softmax_cross_entropy");
    dispatch_floating(z.dtype(), "softmax_cross_entropy", [&](auto tag) {
        using T = decltype(tag);
        const T *pz = z.data<T>(), *pw = w.data<T>();
        const std::int64_t* py = y.data<std::int64_t>();
        T* pd = dz.mutable_data<T>();
        const double upstream = g.item() / divisor;
        for (std::int64_t i = 0; i < rows; ++i) {
            T* row = pd + i * classes;
            softmax_row(pz + i * classes, classes, row);
            row[py[i]] -= T(1);
            Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(row, classes) *=
                T(double(pw[i]) * upstream);
        }
    });
    return dz;
}

}  // namespace descent::kernel
