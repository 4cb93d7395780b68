// Tensors from values and the usual constant fillers. Every shape is checked (negative and
// overflowing extents, sizes beyond memory) under the name of the function the user called.

#include <fmt/format.h>

#include <cmath>

#include "descent/check.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"

namespace descent {
namespace {
Tensor filled(const Shape& shape, double value, TensorOptions options, std::string_view op) {
    Tensor t = empty(shape, options.dtype, op);
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        const T v = kernel::from_double<T>(value, op);
        kernel::for_each_chunk(t.numel(), [&](std::int64_t first, std::int64_t count) {
            kernel::out<T>(t, first, count).setConstant(v);
        });
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}

/// A 1-D tensor of n elements, element i = value(i) converted to the dtype.
template <class Value>
Tensor generated(std::int64_t n, TensorOptions options, std::string_view op, Value value) {
    Tensor t = empty({n}, options.dtype, op);
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        auto out = kernel::out<T>(t);
        for (std::int64_t i = 0; i < n; ++i) out[i] = kernel::from_double<T>(value(i), op);
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}

void check_fills(const Shape& shape, std::size_t values, std::string_view op) {
    if (checked_numel(shape, op) != static_cast<std::int64_t>(values)) {
        throw ShapeError(
            fmt::format("{}: {} values do not fill shape {}", op, values, shape_str(shape)));
    }
}
}  // namespace

Tensor tensor(const std::vector<double>& values) {
    return tensor(values, {static_cast<std::int64_t>(values.size())});
}

Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options) {
    check_fills(shape, values.size(), "tensor");
    Tensor t = empty(shape, options.dtype, "tensor");
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        auto out = kernel::out<T>(t);
        for (std::size_t i = 0; i < values.size(); ++i) {
            out[static_cast<Eigen::Index>(i)] = kernel::from_double<T>(values[i], "tensor");
        }
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}

Tensor int_tensor(const std::vector<std::int64_t>& values, const Shape& shape) {
    check_fills(shape, values.size(), "int_tensor");
    Tensor t = empty(shape, Dtype::int64, "int_tensor");
    std::copy(values.begin(), values.end(), elements<std::int64_t>(t));
    return t;
}

Tensor scalar_tensor(double value, TensorOptions options) {
    return filled({}, value, options, "scalar_tensor");
}
Tensor zeros(const Shape& shape, TensorOptions options) {
    return filled(shape, 0.0, options, "zeros");
}
Tensor ones(const Shape& shape, TensorOptions options) {
    return filled(shape, 1.0, options, "ones");
}
Tensor full(const Shape& shape, double value, TensorOptions options) {
    return filled(shape, value, options, "full");
}
Tensor zeros_like(const Tensor& like) {
    return filled(like.shape(), 0.0, {.dtype = like.dtype()}, "zeros_like");
}
Tensor ones_like(const Tensor& like) {
    return filled(like.shape(), 1.0, {.dtype = like.dtype()}, "ones_like");
}
Tensor full_like(const Tensor& like, double value) {
    return filled(like.shape(), value, {.dtype = like.dtype()}, "full_like");
}

Tensor eye(std::int64_t n, TensorOptions options) {
    Tensor t = filled({n, n}, 0.0, {.dtype = options.dtype}, "eye");
    kernel::dispatch_any(options.dtype, [&](auto tag) {
        using T = decltype(tag);
        T* p = elements<T>(t);
        for (std::int64_t i = 0; i < n; ++i) p[i * n + i] = T(1);
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}

Tensor arange(double start, double end, double step, TensorOptions options) {
    // ⌈(end − start)/step⌉ elements; the bounds and the step must be finite
    const double count = std::ceil((end - start) / step);
    if (!std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step) || step == 0.0 ||
        !(count >= 0.0)) {
        throw ShapeError(
            fmt::format("arange: no range from {} to {} in steps of {}", start, end, step));
    }
    const std::int64_t n = checked_int64(count, "arange", "the element count");
    return generated(n, options, "arange",
                     [&](std::int64_t i) { return start + static_cast<double>(i) * step; });
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options) {
    if (steps < 0) throw ShapeError(fmt::format("linspace: negative number of steps {}", steps));
    const double delta = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0.0;
    // the upper half counts back from end, so both ends are exact (as torch.linspace)
    return generated(steps, options, "linspace", [&](std::int64_t i) {
        if (steps == 1) return start;  // as torch
        return i < steps / 2 ? start + delta * static_cast<double>(i)
                             : end - delta * static_cast<double>(steps - 1 - i);
    });
}

}  // namespace descent
