#include "kernels.hpp"

#include <algorithm>
#include <cstring>

namespace descent::kernel {
namespace {

/// dst (contiguous, `shape`) ← src read through `strides` (element strides, 0 = broadcast).
template <class T>
void strided_copy(const T* src, const Shape& shape, const std::vector<std::int64_t>& strides,
                  T* dst) {
    const std::int64_t total = numel_of(shape);
    if (total == 0) return;
    if (shape.empty()) {
        dst[0] = src[0];
        return;
    }
    const std::size_t rank = shape.size();
    const std::int64_t row = shape.back();
    const std::int64_t step = strides.back();
    std::vector<std::int64_t> index(rank, 0);
    std::int64_t offset = 0;
    for (std::int64_t done = 0; done < total; done += row) {
        if (step == 1) {
            std::copy_n(src + offset, row, dst + done);
        } else if (step == 0) {
            std::fill_n(dst + done, row, src[offset]);
        } else {
            for (std::int64_t j = 0; j < row; ++j) dst[done + j] = src[offset + j * step];
        }
        for (std::size_t d = rank - 1; d-- > 0;) {  // odometer over all dims but the last
            offset += strides[d];
            if (++index[d] < shape[d]) break;
            offset -= strides[d] * shape[d];
            index[d] = 0;
        }
    }
}

std::vector<std::int64_t> contiguous_strides(const Shape& shape) {
    std::vector<std::int64_t> strides(shape.size());
    std::int64_t s = 1;
    for (std::size_t d = shape.size(); d-- > 0;) {
        strides[d] = s;
        s *= shape[d];
    }
    return strides;
}

Tensor copy_with_strides(const Tensor& x, const Shape& shape,
                         const std::vector<std::int64_t>& strides) {
    Tensor y = empty(shape, x.dtype());
    dispatch_any(x.dtype(), [&](auto tag) {
        using T = decltype(tag);
        strided_copy(static_cast<const T*>(x.raw_data()), shape, strides, elements<T>(y));
    });
    return y;
}

}  // namespace

void throw_undefined_input(std::string_view op) {
    throw Error(fmt::format("{}: an input tensor is undefined", op));
}

void require_floating(const Tensor& x, std::string_view op) {
    check_defined(x, op);
    if (!is_floating(x.dtype())) {
        throw DtypeError(fmt::format(
            "{}: expected a float32 or float64 tensor, got {} {}; convert it with .to(float32)", op,
            dtype_name(x.dtype()), shape_str(x.shape())));
    }
}

void throw_different_dtypes(const Tensor& a, const Tensor& b, std::string_view op) {
    throw DtypeError(fmt::format(
        "{}: operands have different dtypes, {} {} and {} {}; convert one with .to()", op,
        dtype_name(a.dtype()), shape_str(a.shape()), dtype_name(b.dtype()), shape_str(b.shape())));
}

Tensor broadcast_copy(const Tensor& x, const Shape& shape) {
    if (x.shape() == shape) return x;
    const Shape& from = x.shape();
    if (from.size() > shape.size()) {
        throw ShapeError(
            fmt::format("expand: cannot broadcast {} to {}", shape_str(from), shape_str(shape)));
    }
    const auto own = contiguous_strides(from);
    const std::size_t lead = shape.size() - from.size();
    std::vector<std::int64_t> strides(shape.size(), 0);
    for (std::size_t d = 0; d < from.size(); ++d) {
        if (from[d] == shape[lead + d]) {
            strides[lead + d] = own[d];
        } else if (from[d] != 1) {
            throw ShapeError(fmt::format("expand: cannot broadcast {} to {}", shape_str(from),
                                         shape_str(shape)));
        }
    }
    return copy_with_strides(x, shape, strides);
}

bool is_trailing_block(const Shape& small, const Shape& big) {
    std::size_t lead = 0;
    while (lead < small.size() && small[lead] == 1) ++lead;
    const std::size_t rest = small.size() - lead;
    return rest <= big.size() && std::equal(small.begin() + lead, small.end(), big.end() - rest);
}

Tensor permute_copy(const Tensor& x, const Dims& order) {
    const auto own = contiguous_strides(x.shape());
    Shape shape(order.size());
    std::vector<std::int64_t> strides(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        shape[i] = x.shape()[order[i]];
        strides[i] = own[order[i]];
    }
    return copy_with_strides(x, shape, strides);
}

Blocks blocks_around(const Shape& shape, std::int64_t dim) {
    Blocks b{1, shape[dim], 1};
    for (std::int64_t d = 0; d < dim; ++d) b.outer *= shape[d];
    for (std::size_t d = dim + 1; d < shape.size(); ++d) b.inner *= shape[d];
    return b;
}

Tensor mask_as(const Tensor& mask, Dtype dtype) {
    Tensor m = empty(mask.shape(), dtype);
    dispatch_floating(dtype, "mask", [&](auto tag) {
        using T = decltype(tag);
        out<T>(m) = in<bool>(mask).template cast<T>();
    });
    return m;
}

}  // namespace descent::kernel
