// numpy/PyTorch-style printing: nested brackets, aligned columns, the middle of each dim elided
// ("...") when the tensor has more than 1000 elements.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "kernels.hpp"
#include "node.hpp"

namespace descent {
namespace {
constexpr std::int64_t kElideAbove = 1000;
constexpr std::int64_t kEdgeItems = 3;

struct Printer {
    const Tensor& t;
    std::vector<double> values;
    std::vector<std::int64_t> integers;  // int64 tensors print exactly, not through double
    bool elide;
    bool scientific = false;
    std::size_t width = 1;

    std::string element(std::int64_t i) const {
        const double v = values[i];
        switch (t.dtype()) {
            case Dtype::boolean:
                return v != 0.0 ? "True" : "False";
            case Dtype::int64:
                return fmt::format("{}", integers[i]);
            default:
                return scientific ? fmt::format("{:.4e}", v) : fmt::format("{:.4f}", v);
        }
    }

    bool shown(std::int64_t i, std::int64_t extent) const {
        return !elide || extent <= 2 * kEdgeItems || i < kEdgeItems || i >= extent - kEdgeItems;
    }

    void write(std::string& out, std::size_t dim, std::int64_t offset, std::size_t indent) const {
        const Shape& shape = t.shape();
        if (dim == shape.size()) {
            const std::string s = element(offset);
            out += std::string(width - std::min(width, s.size()), ' ') + s;
            return;
        }
        const std::int64_t extent = shape[dim];
        const std::int64_t stride = numel_of(Shape(shape.begin() + dim + 1, shape.end()));
        const bool last = dim + 1 == shape.size();
        out += '[';
        for (std::int64_t i = 0; i < extent; ++i) {
            if (!shown(i, extent)) {
                if (i == kEdgeItems) {
                    out += "...,";
                    out += last ? std::string(" ") : '\n' + std::string(indent + 1, ' ');
                }
                continue;
            }
            write(out, dim + 1, offset + i * stride, indent + 1);
            if (i + 1 < extent) {
                out += ',';
                if (last) {
                    out += ' ';
                } else {
                    out.append(shape.size() - dim - 1, '\n');
                    out.append(indent + 1, ' ');
                }
            }
        }
        out += ']';
    }
};
}  // namespace

std::string to_string(const Tensor& t) {
    if (!t.defined()) return "tensor(undefined)";
    Printer p{t, t.to_vector(), {}, t.numel() > kElideAbove};
    if (t.dtype() == Dtype::int64) p.integers = t.to_int_vector();
    if (is_floating(t.dtype())) {
        double largest = 0.0, smallest = INFINITY;
        for (const double v : p.values) {
            if (!std::isfinite(v) || v == 0.0) continue;
            largest = std::max(largest, std::abs(v));
            smallest = std::min(smallest, std::abs(v));
        }
        p.scientific =
            largest >= 1e8 || (largest > 0.0 && (smallest < 1e-4 || largest / smallest >= 1e6));
    }
    for (std::int64_t i = 0; i < t.numel(); ++i) p.width = std::max(p.width, p.element(i).size());
    std::string text = "tensor(";
    if (t.numel() == 0 && t.dim() > 0) {
        text += "[]";
    } else {
        p.write(text, 0, 0, 7);
    }
    if (t.dtype() != Dtype::float32) text += fmt::format(", dtype={}", dtype_name(t.dtype()));
    if (!t.grad_fn_name().empty()) {
        text += fmt::format(", grad_fn=<{}>", t.grad_fn_name());
    } else if (t.requires_grad()) {
        text += ", requires_grad=True";
    }
    if (t.numel() == 0) text += fmt::format(", size={}", shape_str(t.shape()));
    return text + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
    return os << to_string(t);
}

}  // namespace descent
