// In-place updates for optimizers and initialisers. They are not recorded: on a tensor that
// requires grad they are only allowed with grad mode off (NoGradGuard). Each bumps the version
// counter, so a graph that saved the old values refuses to run backward on the new ones.

#include <fmt/format.h>

#include <cstring>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"

namespace descent {
namespace {

void check_writable(const Tensor& self, std::string_view op) {
    if (!self.defined()) throw Error(fmt::format("{}: undefined tensor", op));
    if (is_grad_enabled() && self.requires_grad()) {
        throw AutogradError(fmt::format(
            "{}: in-place update of a {} tensor that requires grad while grad mode is on; wrap "
            "it in NoGradGuard (as optimizers do) or use the out-of-place op",
            op, shape_str(self.shape())));
    }
}

/// `other` broadcast to self's shape (which must not grow).
Tensor operand(const Tensor& self, const Tensor& other, std::string_view op) {
    kernel::check_same_dtype(self, other, op);
    if (broadcast_shapes(self.shape(), other.shape(), op) != self.shape()) {
        throw ShapeError(fmt::format("{}: cannot broadcast {} into the shape {} being updated", op,
                                     shape_str(other.shape()), shape_str(self.shape())));
    }
    return kernel::broadcast_copy(other, self.shape());
}

/// self ← f(self) over Eigen arrays, for a floating self.
template <class F>
Tensor& update(Tensor& self, std::string_view op, F&& f) {
    check_writable(self, op);
    kernel::dispatch_floating(self.dtype(), op, [&](auto tag) {
        using T = decltype(tag);
        auto s = self.mutable_map<T>();
        f(s, tag);
    });
    return self;
}
}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) {
    const Tensor o = operand(*this, other, "add_");
    return update(*this, "add_", [&](auto& s, auto tag) {
        using T = decltype(tag);
        s += static_cast<T>(alpha) * kernel::in<T>(o);
    });
}

Tensor& Tensor::add_(double value) {
    return update(*this, "add_",
                  [&](auto& s, auto tag) { s += static_cast<decltype(tag)>(value); });
}

Tensor& Tensor::sub_(const Tensor& other, double alpha) {
    return add_(other, -alpha);
}

Tensor& Tensor::mul_(const Tensor& other) {
    const Tensor o = operand(*this, other, "mul_");
    return update(*this, "mul_", [&](auto& s, auto tag) { s *= kernel::in<decltype(tag)>(o); });
}

Tensor& Tensor::mul_(double value) {
    return update(*this, "mul_",
                  [&](auto& s, auto tag) { s *= static_cast<decltype(tag)>(value); });
}

Tensor& Tensor::div_(const Tensor& other) {
    const Tensor o = operand(*this, other, "div_");
    return update(*this, "div_", [&](auto& s, auto tag) { s /= kernel::in<decltype(tag)>(o); });
}

Tensor& Tensor::div_(double value) {
    return update(*this, "div_",
                  [&](auto& s, auto tag) { s /= static_cast<decltype(tag)>(value); });
}

Tensor& Tensor::copy_(const Tensor& source) {
    check_writable(*this, "copy_");
    if (broadcast_shapes(shape(), source.shape(), "copy_") != shape()) {
        throw ShapeError(fmt::format("copy_: cannot broadcast {} into the shape {} being updated",
                                     shape_str(source.shape()), shape_str(shape())));
    }
    const Tensor src = kernel::broadcast_copy(source.to(dtype()).detach(), shape());
    if (numel() > 0) std::memcpy(raw_mutable_data(), src.raw_data(), numel() * dtype_size(dtype()));
    return *this;
}

Tensor& Tensor::fill_(double value) {
    check_writable(*this, "fill_");
    kernel::dispatch_any(dtype(), [&](auto tag) {
        using T = decltype(tag);
        mutable_map<T>().setConstant(kernel::from_double<T>(value, "fill_"));
    });
    return *this;
}

Tensor& Tensor::zero_() {
    return fill_(0.0);
}

Tensor& Tensor::clamp_(std::optional<double> lo, std::optional<double> hi) {
    return update(*this, "clamp_", [&](auto& s, auto tag) {
        using T = decltype(tag);
        if (lo) s = kernel::nan_max(s, static_cast<T>(*lo));
        if (hi) s = kernel::nan_min(s, static_cast<T>(*hi));
    });
}

Tensor& Tensor::addcmul_(const Tensor& a, const Tensor& b, double value) {
    const Tensor oa = operand(*this, a, "addcmul_"), ob = operand(*this, b, "addcmul_");
    return update(*this, "addcmul_", [&](auto& s, auto tag) {
        using T = decltype(tag);
        s += static_cast<T>(value) * kernel::in<T>(oa) * kernel::in<T>(ob);
    });
}

Tensor& Tensor::addcdiv_(const Tensor& a, const Tensor& b, double value) {
    const Tensor oa = operand(*this, a, "addcdiv_"), ob = operand(*this, b, "addcdiv_");
    return update(*this, "addcdiv_", [&](auto& s, auto tag) {
        using T = decltype(tag);
        s += static_cast<T>(value) * kernel::in<T>(oa) / kernel::in<T>(ob);
    });
}

}  // namespace descent
