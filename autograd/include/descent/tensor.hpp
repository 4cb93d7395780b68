#pragma once
// Tensor: a cheap handle to an n-dimensional, row-major, contiguous array with a runtime dtype.
// Copying a Tensor shares its storage (like PyTorch). A tensor that requires grad is recorded
// on the tape by every op it flows through; see autograd.hpp for backward() and grad().

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "descent/check.hpp"
#include "descent/dtype.hpp"
#include "descent/error.hpp"
#include "descent/shape.hpp"

namespace descent {

struct TensorImpl;
struct Node;
class Tensor;

using Dims = std::vector<std::int64_t>;
/// One dim given as a plain integer (x.sum(1)); bool is not one.
template <class I>
concept DimIndex = std::integral<I> && !std::same_as<I, bool>;
/// Tensors with names, in order: state dicts, named parameters, checkpoint contents.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
/// A gradient hook: receives the gradient, returns a replacement or an undefined Tensor to keep it.
using GradHook = std::function<Tensor(const Tensor&)>;

struct TensorOptions {
    Dtype dtype = Dtype::float32;
    bool requires_grad = false;
};

struct BackwardOptions {
    bool retain_graph = false;  ///< keep saved tensors so backward can run again
    bool create_graph = false;  ///< record the backward itself (gradients of gradients)
};

enum class GeluApproximation { none, tanh };

class Tensor {
  public:
    Tensor() = default;
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // --- metadata -------------------------------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const;
    std::int64_t dim() const { return static_cast<std::int64_t>(shape().size()); }
    std::int64_t size(std::int64_t dim) const;
    std::int64_t numel() const;
    Dtype dtype() const;
    /// Bumped by every in-place write; shared by tensors that share storage.
    std::uint64_t version() const;
    /// True when both handles refer to the same tensor.
    bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

    // --- element access -------------------------------------------------------------------
    /// The value of a one-element tensor, converted to double.
    double item() const;
    /// The value as T. Integer types get int64 values exactly; a float that is not integral
    /// truncates, and NaN, ±inf or a value out of T's range is an Error.
    template <class T>
    T item() const {
        if constexpr (std::is_same_v<T, bool>) {
            return item() != 0.0;
        } else if constexpr (std::is_integral_v<T>) {
            return checked_integer<T>(integral_item(), "item", "the value");
        } else {
            return static_cast<T>(item());
        }
    }
    /// One element by its full index, converted to double.
    double at(std::initializer_list<std::int64_t> index) const;
    std::vector<double> to_vector() const;
    std::vector<std::int64_t> to_int_vector() const;

    const void* raw_data() const;
    /// Writable data; bumps the version counter (as any in-place write does).
    void* raw_mutable_data();
    template <class T>
    const T* data() const {
        check_dtype(dtype_of<T>(), "data");
        return static_cast<const T*>(raw_data());
    }
    template <class T>
    T* mutable_data() {
        check_dtype(dtype_of<T>(), "mutable_data");
        return static_cast<T*>(raw_mutable_data());
    }
    /// All elements as a flat Eigen array map (no copy), and a 2-D tensor as a row-major
    /// Eigen matrix map, defined by the header descent/eigen.hpp: include it to use them (Eigen
    /// is most of a translation unit's compile time, so it stays out of the other headers).
    template <class T>
    auto map() const;
    template <class T>
    auto mutable_map();
    template <class T>
    auto matrix() const;

    // --- conversion -----------------------------------------------------------------------
    Tensor to(Dtype dtype) const;
    /// A copy with its own storage, recorded on the tape (gradient flows through).
    Tensor clone() const;
    /// Shares storage, but is cut from the tape.
    Tensor detach() const;
    /// Makes this leaf hold `data`'s values (same shape, any dtype; shared, not copied) while
    /// staying the same tensor — its requires_grad, hooks and every handle to it are kept, as
    /// torch's `param.data = data`; a gradient is converted to the new dtype. A graph that saved
    /// the old values refuses to run backward.
    void set_data(const Tensor& data);

    // --- autograd -------------------------------------------------------------------------
    bool requires_grad() const;
    /// Marks a floating-point leaf as requiring grad (an error on int64/bool or non-leaves).
    Tensor& requires_grad_(bool enabled = true);
    bool is_leaf() const;
    /// The accumulated gradient of a leaf (undefined until a backward reaches it). Reading it
    /// while another thread runs a backward that reaches this leaf is a data race, as in torch:
    /// join (or otherwise wait for) that thread first.
    Tensor grad() const;
    void set_grad(const Tensor& grad);
    /// Name of the op that produced this tensor ("" for leaves).
    std::string grad_fn_name() const;
    /// Accumulates d(this)/d(leaf) into the .grad() of every leaf reached. With create_graph
    /// a leaf's gradient is recorded from ops that can have saved the leaf itself (the grad of
    /// x·x holds x): a cycle, leaf → grad → graph → leaf, that keeps both alive, as in torch.
    /// Reset the gradients (set_grad({}), zero_grad) once used, or take them from
    /// descent::grad(), which stores none.
    void backward(const Tensor& gradient = {}, BackwardOptions options = {}) const;
    void register_hook(GradHook hook) const;

    // --- elementwise ----------------------------------------------------------------------
    Tensor neg() const;
    Tensor exp() const;
    Tensor log() const;
    Tensor sqrt() const;
    Tensor abs() const;
    Tensor tanh() const;
    Tensor sigmoid() const;
    Tensor relu() const;
    Tensor pow(double exponent) const;
    Tensor pow(const Tensor& exponent) const;
    Tensor clamp(std::optional<double> min, std::optional<double> max) const;

    // --- reductions -----------------------------------------------------------------------
    Tensor sum() const;
    Tensor sum(const Dims& dims, bool keepdim = false) const;
    Tensor mean() const;
    Tensor mean(const Dims& dims, bool keepdim = false) const;
    Tensor max() const;
    Tensor max(const Dims& dims, bool keepdim = false) const;
    Tensor min() const;
    Tensor min(const Dims& dims, bool keepdim = false) const;
    /// Unbiased variance of all elements (list the dims to choose `unbiased`).
    Tensor var() const;
    Tensor var(const Dims& dims, bool unbiased = true, bool keepdim = false) const;
    Tensor std() const;
    Tensor std(const Dims& dims, bool unbiased = true, bool keepdim = false) const;
    Tensor logsumexp(const Dims& dims, bool keepdim = false) const;
    /// One dim without braces, as torch's x.sum(1): x.sum(1), x.mean(-1, true), x.var(0).
    template <DimIndex I>
    Tensor sum(I dim, bool keepdim = false) const {
        return sum(Dims{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <DimIndex I>
    Tensor mean(I dim, bool keepdim = false) const {
        return mean(Dims{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <DimIndex I>
    Tensor max(I dim, bool keepdim = false) const {
        return max(Dims{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <DimIndex I>
    Tensor min(I dim, bool keepdim = false) const {
        return min(Dims{static_cast<std::int64_t>(dim)}, keepdim);
    }
    template <DimIndex I>
    Tensor var(I dim, bool unbiased = true, bool keepdim = false) const {
        return var(Dims{static_cast<std::int64_t>(dim)}, unbiased, keepdim);
    }
    template <DimIndex I>
    Tensor std(I dim, bool unbiased = true, bool keepdim = false) const {
        return std(Dims{static_cast<std::int64_t>(dim)}, unbiased, keepdim);
    }
    template <DimIndex I>
    Tensor logsumexp(I dim, bool keepdim = false) const {
        return logsumexp(Dims{static_cast<std::int64_t>(dim)}, keepdim);
    }
    Tensor softmax(std::int64_t dim) const;
    Tensor log_softmax(std::int64_t dim) const;
    Tensor argmax() const;
    Tensor argmax(std::int64_t dim, bool keepdim = false) const;
    Tensor argmin() const;
    Tensor argmin(std::int64_t dim, bool keepdim = false) const;

    // --- linear algebra and shape ---------------------------------------------------------
    Tensor matmul(const Tensor& other) const;
    Tensor reshape(const Shape& shape) const;
    Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
    Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
    /// Transpose of a 2-D tensor (a 0-d or 1-d tensor is returned as is).
    Tensor t() const;
    Tensor permute(const Dims& order) const;
    Tensor squeeze() const;
    Tensor squeeze(std::int64_t dim) const;
    Tensor unsqueeze(std::int64_t dim) const;
    Tensor expand(const Shape& shape) const;
    Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end,
                 std::int64_t step = 1) const;
    Tensor index_select(std::int64_t dim, const Tensor& index) const;
    Tensor gather(std::int64_t dim, const Tensor& index) const;

    // --- in-place (never recorded; bump the version counter) ------------------------------
    Tensor& add_(const Tensor& other, double alpha = 1.0);
    Tensor& add_(double value);
    Tensor& sub_(const Tensor& other, double alpha = 1.0);
    Tensor& mul_(const Tensor& other);
    Tensor& mul_(double value);
    Tensor& div_(const Tensor& other);
    Tensor& div_(double value);
    Tensor& copy_(const Tensor& source);
    Tensor& fill_(double value);
    Tensor& zero_();
    Tensor& clamp_(std::optional<double> min, std::optional<double> max);
    /// this += value · a ⊙ b
    Tensor& addcmul_(const Tensor& a, const Tensor& b, double value = 1.0);
    /// this += value · a ⊘ b
    Tensor& addcdiv_(const Tensor& a, const Tensor& b, double value = 1.0);

    const std::shared_ptr<TensorImpl>& impl() const { return impl_; }

  private:
    std::int64_t integral_item() const;
    void check_dtype(Dtype expected, std::string_view op) const;
    void check_rank(std::int64_t expected, std::string_view op) const;
    std::shared_ptr<TensorImpl> impl_;
};

// --- creation ---------------------------------------------------------------------------
/// A 1-D float32 tensor holding `values` (give a shape to choose options too).
Tensor tensor(const std::vector<double>& values);
/// A tensor of the given shape holding `values` in row-major order.
Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options = {});
/// An int64 tensor (class labels, indices).
Tensor int_tensor(const std::vector<std::int64_t>& values, const Shape& shape);
Tensor scalar_tensor(double value, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor zeros_like(const Tensor& like);
Tensor ones_like(const Tensor& like);
Tensor full_like(const Tensor& like, double value);
Tensor eye(std::int64_t n, TensorOptions options = {});
/// start, start+step, ... up to but excluding end.
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
/// `steps` evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});

std::ostream& operator<<(std::ostream& os, const Tensor& t);
/// numpy-style text: nested brackets, middle of large tensors elided, dtype when not float32.
std::string to_string(const Tensor& t);

}  // namespace descent
