// Tensor handle methods: metadata, element access, conversion, autograd hooks, and the member
// spellings of the free-function ops.

#include "descent/tensor.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "descent/engine.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "kernels.hpp"
#include "node.hpp"

namespace descent {

void throw_undefined_tensor() {
    throw Error("tensor: use of an undefined tensor");
}

namespace {
TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
    if (!impl) throw_undefined_tensor();
    return *impl;
}

/// x with its elements converted to To. Floats become int64 only where they fit (NaN, ±inf
/// and values beyond ±2⁶³ are an Error naming op and the element).
template <class To>
Tensor convert(const Tensor& x, Dtype dtype, std::string_view op) {
    Tensor y = empty(x.shape(), dtype, op);
    kernel::dispatch_any(x.dtype(), [&](auto tag) {
        using From = decltype(tag);
        if constexpr (std::is_same_v<To, std::int64_t> && std::is_floating_point_v<From>) {
            const From* src = static_cast<const From*>(x.raw_data());
            auto* dst = elements<std::int64_t>(y);
            for (std::int64_t i = 0; i < x.numel(); ++i) {
                if (!(src[i] >= From(-0x1p63) && src[i] < From(0x1p63))) {
                    throw Error(
                        fmt::format("{}: element {} of {} {} is {}, which int64 cannot hold", op, i,
                                    dtype_name(x.dtype()), shape_str(x.shape()), src[i]));
                }
                dst[i] = static_cast<std::int64_t>(src[i]);
            }
        } else {
            kernel::out<To>(y) = kernel::in<From>(x).template cast<To>();
        }
    });
    return y;
}
}  // namespace

const Shape& Tensor::shape() const {
    return checked(impl_).shape;
}
std::int64_t Tensor::numel() const {
    return checked(impl_).numel;
}
Dtype Tensor::dtype() const {
    return checked(impl_).dtype;
}
std::uint64_t Tensor::version() const {
    return checked(impl_).storage->version;
}

std::int64_t Tensor::size(std::int64_t d) const {
    return shape()[wrap_dim(d, dim(), "size")];
}

const void* Tensor::raw_data() const {
    return checked(impl_).storage->data;
}

void* Tensor::raw_mutable_data() {
    auto& impl = checked(impl_);
    ++impl.storage->version;
    return impl.storage->data;
}

void Tensor::check_dtype(Dtype expected, std::string_view op) const {
    if (dtype() != expected) {
        throw DtypeError(fmt::format("{}: tensor of shape {} is {}, not {}", op, shape_str(shape()),
                                     dtype_name(dtype()), dtype_name(expected)));
    }
}

void Tensor::check_rank(std::int64_t expected, std::string_view op) const {
    if (dim() != expected) {
        throw ShapeError(fmt::format("{}: expected a {}-d tensor, got shape {}", op, expected,
                                     shape_str(shape())));
    }
}

double Tensor::item() const {
    if (numel() != 1) {
        throw ShapeError(
            fmt::format("item: needs a tensor of one element, got shape {}", shape_str(shape())));
    }
    return to_vector()[0];
}

std::int64_t Tensor::integral_item() const {
    const double v = item();
    if (dtype() == Dtype::int64) return *static_cast<const std::int64_t*>(raw_data());
    return checked_int64(v, "item", "the value");
}

double Tensor::at(std::initializer_list<std::int64_t> index) const {
    if (static_cast<std::int64_t>(index.size()) != dim()) {
        throw IndexError(fmt::format("at: {} indices for a tensor of shape {}", index.size(),
                                     shape_str(shape())));
    }
    std::int64_t offset = 0, d = 0;
    for (const auto i : index) {
        const std::int64_t extent = shape()[d];
        if (i < -extent || i >= extent) {
            throw IndexError(fmt::format("at: index {} out of range for dim {} of size {} in {}", i,
                                         d, extent, shape_str(shape())));
        }
        offset = offset * extent + (i < 0 ? i + extent : i);
        ++d;
    }
    return kernel::dispatch_any(dtype(), [&](auto tag) {
        using T = decltype(tag);
        return static_cast<double>(static_cast<const T*>(raw_data())[offset]);
    });
}

std::vector<double> Tensor::to_vector() const {
    const Tensor d = convert<double>(*this, Dtype::float64, "to_vector");
    const double* p = static_cast<const double*>(d.raw_data());
    return std::vector<double>(p, p + numel());
}

std::vector<std::int64_t> Tensor::to_int_vector() const {
    const Tensor d = convert<std::int64_t>(*this, Dtype::int64, "to_int_vector");
    const auto* p = static_cast<const std::int64_t*>(d.raw_data());
    return std::vector<std::int64_t>(p, p + numel());
}

Tensor Tensor::to(Dtype target) const {  // float ↔ float is differentiable: ∂ converts back
    if (target == dtype()) return *this;
    Tensor y = kernel::dispatch_any(target, [&](auto tag) {
        using To = decltype(tag);
        return convert<To>(*this, target, "to");
    });
    if (!is_floating(target) || !is_floating(dtype())) return y;
    return record(
        Op::to_dtype, {*this}, std::move(y), {},
        [](const BackwardContext& c, const Tensor& g) { return Grads{g.to(c.input_dtype(0))}; });
}

Tensor Tensor::clone() const {  // ∂: identity
    Tensor y = copy_of(*this);
    if (!is_floating(dtype())) return y;
    return record(Op::clone, {*this}, std::move(y), {},
                  [](const BackwardContext&, const Tensor& g) { return Grads{g}; });
}

Tensor Tensor::detach() const {
    return alias(*this, shape());
}

void Tensor::set_data(const Tensor& data) {
    auto& impl = checked(impl_);
    const auto& source = checked(data.impl());
    if (impl.grad_fn) {
        throw AutogradError(
            fmt::format("set_data: only a leaf can take new data; this {} tensor "
                        "was computed by {}",
                        shape_str(impl.shape), impl.grad_fn->name()));
    }
    if (source.shape != impl.shape) {
        throw ShapeError(fmt::format("set_data: new data of shape {} for a tensor of shape {}",
                                     shape_str(source.shape), shape_str(impl.shape)));
    }
    if (impl.requires_grad && !is_floating(source.dtype)) {
        throw DtypeError(fmt::format("set_data: a tensor that requires grad cannot hold {} data",
                                     dtype_name(source.dtype)));
    }
    // past every version the old storage had, so saved copies of it are seen as modified
    source.storage->version = std::max(source.storage->version, impl.storage->version) + 1;
    impl.storage = source.storage;
    if (impl.dtype == source.dtype) return;
    impl.dtype = source.dtype;
    if (impl.grad.defined()) {
        const NoGradGuard no_grad;
        impl.grad = impl.grad.to(source.dtype);
    }
}

bool Tensor::requires_grad() const {
    return checked(impl_).requires_grad;
}

Tensor& Tensor::requires_grad_(bool enabled) {
    auto& impl = checked(impl_);
    if (enabled && !is_floating(impl.dtype)) {
        throw DtypeError(
            fmt::format("requires_grad_: only float32/float64 tensors can require "
                        "gradients, got {} of shape {}",
                        dtype_name(impl.dtype), shape_str(impl.shape)));
    }
    if (impl.grad_fn) {
        throw AutogradError(
            fmt::format("requires_grad_: only leaf tensors can change it; this "
                        "{} tensor was computed by {} (use detach())",
                        shape_str(impl.shape), impl.grad_fn->name()));
    }
    impl.requires_grad = enabled;
    // The leaf's accumulator is made now, while one thread sets the model up, so that threads
    // recording ops on a shared leaf later only read it.
    if (enabled) gradient_edge(*this);
    return *this;
}

bool Tensor::is_leaf() const {
    return !checked(impl_).grad_fn;
}
Tensor Tensor::grad() const {
    return checked(impl_).grad;
}

void Tensor::set_grad(const Tensor& g) {
    if (g.defined() && (g.shape() != shape() || g.dtype() != dtype())) {
        throw ShapeError(fmt::format("set_grad: gradient {} {} does not fit tensor {} {}",
                                     dtype_name(g.dtype()), shape_str(g.shape()),
                                     dtype_name(dtype()), shape_str(shape())));
    }
    if (g.defined() && g.numel() > 0 && g.raw_data() == raw_data()) {
        throw AutogradError(
            fmt::format("set_grad: the gradient of a {} tensor would share its "
                        "storage with the tensor itself",
                        shape_str(shape())));
    }
    checked(impl_).grad = g;
}

std::string Tensor::grad_fn_name() const {
    const auto& fn = checked(impl_).grad_fn;
    return fn ? std::string(fn->name()) : std::string();
}

void Tensor::backward(const Tensor& gradient, BackwardOptions options) const {
    backward_one(*this, gradient, options);
}

void Tensor::register_hook(GradHook hook) const {
    if (!hook) throw AutogradError("register_hook: the hook is empty");
    if (!requires_grad()) {
        throw AutogradError(fmt::format("register_hook: tensor of shape {} does not require grad",
                                        shape_str(shape())));
    }
    gradient_edge(*this)->pre_hooks.push_back(std::move(hook));
}

Tensor Tensor::neg() const {
    return descent::neg(*this);
}
Tensor Tensor::exp() const {
    return descent::exp(*this);
}
Tensor Tensor::log() const {
    return descent::log(*this);
}
Tensor Tensor::sqrt() const {
    return descent::sqrt(*this);
}
Tensor Tensor::abs() const {
    return descent::abs(*this);
}
Tensor Tensor::tanh() const {
    return descent::tanh(*this);
}
Tensor Tensor::sigmoid() const {
    return descent::sigmoid(*this);
}
Tensor Tensor::relu() const {
    return descent::relu(*this);
}
Tensor Tensor::pow(double e) const {
    return descent::pow(*this, e);
}
Tensor Tensor::pow(const Tensor& e) const {
    return descent::pow(*this, e);
}
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const {
    return descent::clamp(*this, lo, hi);
}

Tensor Tensor::sum() const {
    return descent::sum(*this);
}
Tensor Tensor::sum(const Dims& d, bool k) const {
    return descent::sum(*this, d, k);
}
Tensor Tensor::mean() const {
    return descent::mean(*this);
}
Tensor Tensor::mean(const Dims& d, bool k) const {
    return descent::mean(*this, d, k);
}
Tensor Tensor::max() const {
    return descent::max(*this);
}
Tensor Tensor::max(const Dims& d, bool k) const {
    return descent::max(*this, d, k);
}
Tensor Tensor::min() const {
    return descent::min(*this);
}
Tensor Tensor::min(const Dims& d, bool k) const {
    return descent::min(*this, d, k);
}
Tensor Tensor::var() const {
    return descent::var(*this);
}
Tensor Tensor::var(const Dims& d, bool u, bool k) const {
    return descent::var(*this, d, u, k);
}
Tensor Tensor::std() const {
    return descent::std(*this);
}
Tensor Tensor::std(const Dims& d, bool u, bool k) const {
    return descent::std(*this, d, u, k);
}
Tensor Tensor::logsumexp(const Dims& d, bool k) const {
    return descent::logsumexp(*this, d, k);
}
Tensor Tensor::softmax(std::int64_t d) const {
    return descent::softmax(*this, d);
}
Tensor Tensor::log_softmax(std::int64_t d) const {
    return descent::log_softmax(*this, d);
}
Tensor Tensor::argmax() const {
    return descent::argmax(*this);
}
Tensor Tensor::argmax(std::int64_t d, bool k) const {
    return descent::argmax(*this, d, k);
}
Tensor Tensor::argmin() const {
    return descent::argmin(*this);
}
Tensor Tensor::argmin(std::int64_t d, bool k) const {
    return descent::argmin(*this, d, k);
}

Tensor Tensor::matmul(const Tensor& o) const {
    return descent::matmul(*this, o);
}
Tensor Tensor::reshape(const Shape& s) const {
    return descent::reshape(*this, s);
}
Tensor Tensor::flatten(std::int64_t s, std::int64_t e) const {
    return descent::flatten(*this, s, e);
}
Tensor Tensor::transpose(std::int64_t a, std::int64_t b) const {
    return descent::transpose(*this, a, b);
}
Tensor Tensor::t() const {
    if (dim() > 2) {
        throw ShapeError(
            fmt::format("t: expects a tensor of at most 2 dims, got shape {}", shape_str(shape())));
    }
    return dim() < 2 ? *this : descent::transpose(*this, 0, 1);
}
Tensor Tensor::permute(const Dims& o) const {
    return descent::permute(*this, o);
}
Tensor Tensor::squeeze() const {
    return descent::squeeze(*this);
}
Tensor Tensor::squeeze(std::int64_t d) const {
    return descent::squeeze(*this, d);
}
Tensor Tensor::unsqueeze(std::int64_t d) const {
    return descent::unsqueeze(*this, d);
}
Tensor Tensor::expand(const Shape& s) const {
    return descent::expand(*this, s);
}
Tensor Tensor::slice(std::int64_t d, std::int64_t s, std::int64_t e, std::int64_t st) const {
    return descent::slice(*this, d, s, e, st);
}
Tensor Tensor::index_select(std::int64_t d, const Tensor& i) const {
    return descent::index_select(*this, d, i);
}
Tensor Tensor::gather(std::int64_t d, const Tensor& i) const {
    return descent::gather(*this, d, i);
}

}  // namespace descent
