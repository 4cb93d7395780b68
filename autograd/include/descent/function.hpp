#pragma once
// Custom autograd functions, as torch::autograd::Function: forward computes with any code
// (Eigen, plain loops) and saves what backward needs; backward returns one gradient per tensor
// argument. Written with descent ops, backward is itself differentiable (double backward,
// gradgradcheck); a function whose backward is not sets `once_differentiable`, and
// differentiating through it is then an error naming it.
//
//   struct Log1pExp : descent::Function<Log1pExp> {
//       static constexpr const char* name = "Log1pExp";      // optional (default: the type's)
//       static descent::Tensor forward(descent::FunctionContext& ctx, const descent::Tensor& x) {
//           ctx.save_for_backward({x});
//           return ...;                                       // y = log(1 + eˣ), computed any way
//       }
//       static std::vector<descent::Tensor> backward(descent::FunctionContext& ctx,
//                                                    const std::vector<descent::Tensor>& grads) {
//           return {grads[0] * descent::sigmoid(ctx.saved()[0])};   // ∂y/∂x = σ(x)
//       }
//   };
//   descent::Tensor y = Log1pExp::apply(x);
//
// forward runs with grad mode off and returns a Tensor or a std::vector<Tensor>; its Tensor
// arguments are the inputs (in order), any other argument is passed through. backward gets one
// gradient per output (zeros of the output's shape and dtype for an output that received none
// or is marked non-differentiable) and returns one per input,
// undefined where none is needed (needs_input_grad); each must have its input's shape and
// dtype. Saved tensors are checked against in-place modification, like those of built-in ops.

#include <any>
#include <concepts>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "descent/grad_mode.hpp"
#include "descent/tensor.hpp"

namespace descent {

class BackwardContext;
class AnomalyScope;
namespace detail {
struct FunctionAccess;
}

/// What forward leaves for backward.
class FunctionContext {
  public:
    /// Tensors backward needs (inputs or outputs of forward).
    void save_for_backward(std::vector<Tensor> tensors);
    /// The saved tensors; in backward an Error if one was modified in place since it was saved.
    std::vector<Tensor> saved() const;
    /// Outputs that get no gradient (indices, masks, counts): they do not require grad.
    void mark_non_differentiable(std::vector<Tensor> outputs);
    /// Whether tensor argument i needs a gradient (it requires grad and grad mode was on).
    bool needs_input_grad(std::size_t i) const;
    /// Non-tensor values for backward, by name (tensors go to save_for_backward, which keeps
    /// the graph free of cycles).
    std::map<std::string, std::any> saved_data;

  private:
    friend struct detail::FunctionAccess;
    std::vector<Tensor> to_save_;
    std::vector<Tensor> non_differentiable_;
    std::vector<bool> needs_grad_;
    const BackwardContext* backward_ = nullptr;  // while backward runs
};

namespace detail {

/// A function's backward, type-erased: grads of its outputs → grads of its inputs.
using FunctionBackward =
    std::function<std::vector<Tensor>(FunctionContext&, const std::vector<Tensor>&)>;

/// Puts a function's outputs on the tape (the library's side of Function::apply).
std::vector<Tensor> record_function(std::string name, bool once_differentiable,
                                    FunctionBackward backward, std::shared_ptr<FunctionContext> ctx,
                                    const std::vector<Tensor>& inputs, std::vector<Tensor> outputs);
/// While alive, anomaly mode reports NaN/Inf from the ops of a function's forward as its own.
class InFunctionForward {
  public:
    explicit InFunctionForward(const std::string& name);
    ~InFunctionForward();
    InFunctionForward(const InFunctionForward&) = delete;
    InFunctionForward& operator=(const InFunctionForward&) = delete;

  private:
    std::unique_ptr<AnomalyScope> scope_;
};

/// The context of a new application, with needs_input_grad from the inputs.
std::shared_ptr<FunctionContext> make_context(const std::vector<Tensor>& inputs);
/// The readable name of a type (demangled typeid).
std::string type_name(const std::type_info& type);

template <class T>
void collect_tensor(std::vector<Tensor>& inputs, const T& arg) {
    if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) inputs.push_back(arg);
}

}  // namespace detail

template <class Derived>
struct Function {
    /// Runs Derived::forward with grad mode off and records its outputs on the tape.
    template <class... Args>
    static auto apply(Args&&... args) {
        std::vector<Tensor> inputs;
        (detail::collect_tensor(inputs, args), ...);
        std::shared_ptr<FunctionContext> ctx = detail::make_context(inputs);
        using Result = decltype(Derived::forward(*ctx, std::forward<Args>(args)...));
        static_assert(std::is_same_v<Result, Tensor> || std::is_same_v<Result, std::vector<Tensor>>,
                      "Function: forward must return a Tensor or a std::vector<Tensor>");
        const std::string name = function_name();
        std::vector<Tensor> outputs;
        {
            const NoGradGuard no_grad;
            const detail::InFunctionForward scope(name);
            if constexpr (std::is_same_v<Result, Tensor>) {
                outputs.push_back(Derived::forward(*ctx, std::forward<Args>(args)...));
            } else {
                outputs = Derived::forward(*ctx, std::forward<Args>(args)...);
            }
        }
        outputs = detail::record_function(name, is_once_differentiable(), &Derived::backward,
                                          std::move(ctx), inputs, std::move(outputs));
        if constexpr (std::is_same_v<Result, Tensor>) {
            return outputs.front();
        } else {
            return outputs;
        }
    }

    /// Derived::name if it declares one (a string), else its C++ type name.
    static std::string function_name() {
        if constexpr (requires {
                          { Derived::name } -> std::convertible_to<std::string>;
                      }) {
            return std::string(Derived::name);
        } else {
            return detail::type_name(typeid(Derived));
        }
    }

    /// Derived::once_differentiable if it declares it: its backward is not differentiable.
    static constexpr bool is_once_differentiable() {
        if constexpr (requires {
                          { Derived::once_differentiable } -> std::convertible_to<bool>;
                      }) {
            return Derived::once_differentiable;
        } else {
            return false;
        }
    }
};

}  // namespace descent
