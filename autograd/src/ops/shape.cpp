// Shape ops. reshape (and squeeze/unsqueeze/flatten, built on it) shares storage; permute and
// expand copy, since every tensor is contiguous. Each backward undoes its forward on the
// gradient: reshape back, permute by the inverse order, sum a broadcast back.

#include <fmt/format.h>

#include <algorithm>

#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {

/// The requested shape with its one −1 extent inferred from count; any other negative
/// extent, a second −1, or a shape of another element count is a ShapeError.
Shape resolve_shape(const Shape& requested, std::int64_t count, const Shape& from) {
    Shape shape = requested;
    std::int64_t infer = -1;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == -1 && infer < 0) {
            infer = static_cast<std::int64_t>(d);
            shape[d] = 1;
        } else if (shape[d] < 0) {
            throw ShapeError(fmt::format("reshape: invalid target shape {} for {}",
                                         shape_str(requested), shape_str(from)));
        }
    }
    const std::int64_t known = checked_numel(shape, "reshape");
    if (infer >= 0) {
        if (known == 0 || count % known != 0) {
            throw ShapeError(fmt::format("reshape: cannot reshape {} ({} elements) into {}",
                                         shape_str(from), count, shape_str(requested)));
        }
        shape[infer] = count / known;
    }
    if (checked_numel(shape, "reshape") != count) {
        throw ShapeError(fmt::format("reshape: cannot reshape {} ({} elements) into {}",
                                     shape_str(from), count, shape_str(requested)));
    }
    return shape;
}
}  // namespace

Tensor reshape(const Tensor& x, const Shape& requested) {  // ∂: reshape the gradient back
    Tensor y = alias(x, resolve_shape(requested, x.numel(), x.shape()));
    return record(Op::reshape, {x}, std::move(y), {},
                  [](const BackwardContext& c, const Tensor& g) {
                      return Grads{reshape(g, c.input_shape(0))};
                  });
}

Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
    if (x.dim() == 0) return reshape(x, {1});
    const std::int64_t s = wrap_dim(start_dim, x.dim(), "flatten");
    const std::int64_t e = wrap_dim(end_dim, x.dim(), "flatten");
    if (s > e) {
        throw IndexError(fmt::format("flatten: start_dim {} comes after end_dim {} in {}",
                                     start_dim, end_dim, shape_str(x.shape())));
    }
    Shape shape(x.shape().begin(), x.shape().begin() + s);
    shape.push_back(-1);
    shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
    if (x.numel() == 0)
        shape[s] = numel_of(Shape(x.shape().begin() + s, x.shape().begin() + e + 1));
    return reshape(x, shape);
}

Tensor squeeze(const Tensor& x) {
    Shape shape;
    for (const auto e : x.shape()) {
        if (e != 1) shape.push_back(e);
    }
    return reshape(x, shape);
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
    if (x.dim() == 0) return reshape(x, {});
    const std::int64_t d = wrap_dim(dim, x.dim(), "squeeze");
    Shape shape = x.shape();
    if (shape[d] == 1) shape.erase(shape.begin() + d);
    return reshape(x, shape);
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
    const std::int64_t d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
    Shape shape = x.shape();
    shape.insert(shape.begin() + d, 1);
    return reshape(x, shape);
}

Tensor permute(const Tensor& x, const Dims& order_in) {  // ∂: permute by the inverse order
    Dims order;
    for (const auto d : order_in)
        order.push_back(wrap_dim(d, std::max<std::int64_t>(x.dim(), 1), "permute"));
    Dims sorted = order;
    std::sort(sorted.begin(), sorted.end());
    bool valid = static_cast<std::int64_t>(order.size()) == x.dim();
    for (std::size_t i = 0; valid && i < sorted.size(); ++i)
        valid = sorted[i] == static_cast<std::int64_t>(i);
    if (!valid) {
        throw ShapeError(fmt::format("permute: [{}] is not an order of the {} dims of {}",
                                     joined(order_in, ","), x.dim(), shape_str(x.shape())));
    }
    Dims inverse(order.size());
    for (std::size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<std::int64_t>(i);
    Tensor y = kernel::permute_copy(x, order);
    return record(
        Op::permute, {x}, std::move(y), {},
        [inverse](const BackwardContext&, const Tensor& g) { return Grads{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
    if (x.dim() == 0) return x;
    Dims order(static_cast<std::size_t>(x.dim()));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    std::swap(order[wrap_dim(dim0, x.dim(), "transpose")],
              order[wrap_dim(dim1, x.dim(), "transpose")]);
    return permute(x, order);
}

Tensor expand(const Tensor& x, const Shape& requested) {  // ∂: sum the gradient back
    Shape shape = requested;
    const std::size_t lead = shape.size() >= x.shape().size() ? shape.size() - x.shape().size() : 0;
    for (std::size_t d = 0; d < shape.size(); ++d) {
        if (shape[d] == -1 && d >= lead) shape[d] = x.shape()[d - lead];
    }
    checked_numel(shape, "expand");
    if (shape == x.shape()) return x;
    Tensor y = kernel::broadcast_copy(x, shape);
    return record(Op::expand, {x}, std::move(y), {}, [](const BackwardContext& c, const Tensor& g) {
        return Grads{sum_to(g, c.input_shape(0))};
    });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
    return expand(x, shape);
}

}  // namespace descent
