// Tensors from values and the usual constant fillers.

#include <fmt/format.h>

#include <cmath>

#include "descent/ops.hpp"
#include "kernels.hpp"

namespace descent {
namespace {
Tensor filled(const Shape& shape, double value, TensorOptions options) {
    for (const auto e : shape) {
        if (e < 0)
            throw ShapeError(fmt::format("full: negative extent in shape {}", shape_str(shape)));
    }
    Tensor t = empty(shape, options.dtype);
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        kernel::out<T>(t).setConstant(static_cast<T>(value));
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}
}  // namespace

Tensor tensor(const std::vector<double>& values) {
    return tensor(values, {static_cast<std::int64_t>(values.size())});
}

Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options) {
    if (numel_of(shape) != static_cast<std::int64_t>(values.size())) {
        throw ShapeError(
            fmt::format("tensor: {} values do not fill shape {}", values.size(), shape_str(shape)));
    }
    Tensor t = empty(shape, options.dtype);
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        kernel::out<T>(t) =
            Eigen::Map<const Eigen::ArrayXd>(values.data(), t.numel()).template cast<T>();
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}

Tensor int_tensor(const std::vector<std::int64_t>& values, const Shape& shape) {
    if (numel_of(shape) != static_cast<std::int64_t>(values.size())) {
        throw ShapeError(fmt::format("int_tensor: {} values do not fill shape {}", values.size(),
                                     shape_str(shape)));
    }
    Tensor t = empty(shape, Dtype::int64);
    std::copy(values.begin(), values.end(), static_cast<std::int64_t*>(t.impl()->storage->data));
    return t;
}

Tensor scalar_tensor(double value, TensorOptions options) {
    return filled({}, value, options);
}
Tensor zeros(const Shape& shape, TensorOptions options) {
    return filled(shape, 0.0, options);
}
Tensor ones(const Shape& shape, TensorOptions options) {
    return filled(shape, 1.0, options);
}
Tensor full(const Shape& shape, double value, TensorOptions options) {
    return filled(shape, value, options);
}
Tensor zeros_like(const Tensor& like) {
    return zeros(like.shape(), {.dtype = like.dtype()});
}
Tensor ones_like(const Tensor& like) {
    return ones(like.shape(), {.dtype = like.dtype()});
}
Tensor full_like(const Tensor& like, double value) {
    return full(like.shape(), value, {.dtype = like.dtype()});
}

Tensor eye(std::int64_t n, TensorOptions options) {
    Tensor t = zeros({n, n}, {.dtype = options.dtype});
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        T* p = static_cast<T*>(t.impl()->storage->data);
        for (std::int64_t i = 0; i < n; ++i) p[i * n + i] = T(1);
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}

Tensor arange(double start, double end, double step, TensorOptions options) {
    if (step == 0.0 || (end - start) / step < 0.0) {
        throw ShapeError(
            fmt::format("arange: no range from {} to {} in steps of {}", start, end, step));
    }
    const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
    std::vector<double> values(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) values[i] = start + static_cast<double>(i) * step;
    return tensor(values, {n}, options);
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options) {
    if (steps < 0) throw ShapeError(fmt::format("linspace: negative number of steps {}", steps));
    std::vector<double> values(static_cast<std::size_t>(steps));
    const double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // the upper half counts back from end, so both ends are exact (as torch.linspace)
    for (std::int64_t i = 0; i < steps; ++i) {
        values[i] = i < steps / 2 ? start + delta * static_cast<double>(i)
                                  : end - delta * static_cast<double>(steps - 1 - i);
    }
    return tensor(values, {steps}, options);
}

}  // namespace descent
