// The library's side of custom functions (function.hpp): their outputs go on the tape as one
// node named after the function. A single differentiable output is recorded directly; several
// are packed into one flat tensor whose node runs the function's backward, and handed out as
// reshaped slices of it, so the engine's one-output nodes serve any number of outputs.

#include "descent/function.hpp"

#include <cxxabi.h>
#include <fmt/format.h>

#include <cstdlib>

#include "anomaly.hpp"
#include "descent/ops.hpp"
#include "node.hpp"

namespace descent {

namespace detail {
struct FunctionAccess {
    static std::vector<Tensor>& to_save(FunctionContext& c) { return c.to_save_; }
    static std::vector<Tensor>& non_differentiable(FunctionContext& c) {
        return c.non_differentiable_;
    }
    static std::vector<bool>& needs_grad(FunctionContext& c) { return c.needs_grad_; }
    static const BackwardContext*& backward(FunctionContext& c) { return c.backward_; }
};
}  // namespace detail

using detail::FunctionAccess;

void FunctionContext::save_for_backward(std::vector<Tensor> tensors) {
    for (std::size_t i = 0; i < tensors.size(); ++i) {
        if (!tensors[i].defined()) {
            throw AutogradError(fmt::format("save_for_backward: tensor {} is undefined", i));
        }
    }
    to_save_ = std::move(tensors);
}

std::vector<Tensor> FunctionContext::saved() const {
    if (!backward_) return to_save_;
    std::vector<Tensor> out;
    for (std::size_t i = 0; i < backward_->saved_count(); ++i) out.push_back(backward_->saved(i));
    return out;
}

void FunctionContext::mark_non_differentiable(std::vector<Tensor> outputs) {
    non_differentiable_ = std::move(outputs);
}

bool FunctionContext::needs_input_grad(std::size_t i) const {
    if (i >= needs_grad_.size()) {
        throw IndexError(fmt::format("needs_input_grad: input {} of {}", i, needs_grad_.size()));
    }
    return backward_ ? backward_->needs_grad(i) : needs_grad_[i];
}

namespace detail {
namespace {

/// Where each output's gradient is in the gradient of the recorded tensor.
struct Layout {
    struct Place {
        bool differentiable;
        std::int64_t offset, numel;
        Shape shape;
        Dtype dtype;
    };
    std::vector<Place> outputs;
    bool packed;  // several differentiable outputs, flattened into one tensor

    /// One gradient per output from g: zeros of its shape and dtype for an output marked
    /// non-differentiable (or not floating), as function.hpp promises.
    std::vector<Tensor> split(const Tensor& g) const {
        std::vector<Tensor> grads;
        for (const Place& p : outputs) {
            if (!p.differentiable) {
                grads.push_back(zeros(p.shape, {.dtype = p.dtype}));
            } else if (!packed) {
                grads.push_back(g);
            } else {
                grads.push_back(reshape(slice(g, 0, p.offset, p.offset + p.numel), p.shape));
            }
        }
        return grads;
    }
};

/// Sets the context's backward for the scope of a call, and clears it however the call ends.
class InBackward {
  public:
    InBackward(FunctionContext& ctx, const BackwardContext& c) : ctx_(ctx) {
        FunctionAccess::backward(ctx_) = &c;
    }
    ~InBackward() { FunctionAccess::backward(ctx_) = nullptr; }
    InBackward(const InBackward&) = delete;
    InBackward& operator=(const InBackward&) = delete;

  private:
    FunctionContext& ctx_;
};

/// g on the tape with an edge to everything the gradient depended on, and a backward that
/// refuses to run: the gradient of a once_differentiable function.
Tensor refuse_second_derivative(const std::string& name, const Tensor& g,
                                std::vector<Tensor> depends_on) {
    return record_custom(
        name, depends_on, g.detach(), {}, [name](const BackwardContext&, const Tensor&) -> Grads {
            throw AutogradError(
                fmt::format("{}: its backward is once_differentiable and cannot be "
                            "differentiated (create_graph or gradgradcheck through it)",
                            name));
        });
}

BackwardFn function_backward(std::string name, bool once, FunctionBackward backward,
                             std::shared_ptr<FunctionContext> ctx, Layout layout) {
    return [name = std::move(name), once, backward = std::move(backward), ctx = std::move(ctx),
            layout = std::move(layout)](const BackwardContext& c, const Tensor& g) {
        const std::vector<Tensor> grad_outputs = layout.split(g);
        const InBackward scope(*ctx, c);
        std::vector<Tensor> grads;
        if (once) {
            const bool differentiable = is_grad_enabled();  // a create_graph pass
            {
                const NoGradGuard no_grad;
                grads = backward(*ctx, grad_outputs);
            }
            if (differentiable) {
                std::vector<Tensor> depends_on = ctx->saved();
                depends_on.push_back(g);
                for (auto& gi : grads) {
                    if (gi.defined()) gi = refuse_second_derivative(name, gi, depends_on);
                }
            }
        } else {
            grads = backward(*ctx, grad_outputs);
        }
        if (grads.size() != c.input_count()) {
            throw AutogradError(fmt::format("{}: backward returned {} gradients for {} inputs",
                                            name, grads.size(), c.input_count()));
        }
        for (std::size_t i = 0; i < grads.size(); ++i) {
            if (grads[i].defined() &&
                (grads[i].shape() != c.input_shape(i) || grads[i].dtype() != c.input_dtype(i))) {
                throw AutogradError(fmt::format(
                    "{}: backward returned a {} {} gradient for input {}, which is {} {}", name,
                    dtype_name(grads[i].dtype()), shape_str(grads[i].shape()), i,
                    dtype_name(c.input_dtype(i)), shape_str(c.input_shape(i))));
            }
        }
        return Grads(std::make_move_iterator(grads.begin()), std::make_move_iterator(grads.end()));
    };
}

bool contains(const std::vector<Tensor>& list, const Tensor& t) {
    for (const auto& x : list) {
        if (x.is_same(t)) return true;
    }
    return false;
}

}  // namespace

InFunctionForward::InFunctionForward(const std::string& name)
    : scope_(std::make_unique<AnomalyScope>(name, "forward")) {}
InFunctionForward::~InFunctionForward() = default;

std::shared_ptr<FunctionContext> make_context(const std::vector<Tensor>& inputs) {
    auto ctx = std::make_shared<FunctionContext>();
    for (const auto& t : inputs) {
        if (!t.defined()) throw AutogradError("Function::apply: an input tensor is undefined");
        FunctionAccess::needs_grad(*ctx).push_back(is_grad_enabled() && t.requires_grad());
    }
    return ctx;
}

std::string type_name(const std::type_info& type) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
    std::string name = status == 0 && demangled ? demangled : type.name();
    std::free(demangled);
    return name;
}

std::vector<Tensor> record_function(std::string name, bool once, FunctionBackward backward,
                                    std::shared_ptr<FunctionContext> ctx,
                                    const std::vector<Tensor>& inputs,
                                    std::vector<Tensor> outputs) {
    // The context keeps no tensor past this point: saved ones move into the node, and a
    // context holding an output would make a cycle through the output's node.
    std::vector<Tensor> to_save = std::move(FunctionAccess::to_save(*ctx));
    const std::vector<Tensor> marked = std::move(FunctionAccess::non_differentiable(*ctx));
    FunctionAccess::to_save(*ctx).clear();
    FunctionAccess::non_differentiable(*ctx).clear();
    if (outputs.empty()) throw AutogradError(fmt::format("{}: forward returned no outputs", name));

    Layout layout{{}, false};
    std::vector<std::size_t> differentiable;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        if (!outputs[i].defined()) {
            throw AutogradError(
                fmt::format("{}: forward returned an undefined output {}", name, i));
        }
        const bool d = is_floating(outputs[i].dtype()) && !contains(marked, outputs[i]);
        layout.outputs.push_back(
            {d, 0, outputs[i].numel(), outputs[i].shape(), outputs[i].dtype()});
        if (d) differentiable.push_back(i);
    }
    // New handles: recording must never touch a tensor forward was given or made elsewhere.
    std::vector<Tensor> handed_out;
    for (const auto& o : outputs) handed_out.push_back(o.detach());
    bool any_input = false;
    for (const auto& t : inputs) any_input = any_input || t.requires_grad();
    if (!is_grad_enabled() || !any_input || differentiable.empty()) return handed_out;

    if (differentiable.size() == 1) {
        const std::size_t k = differentiable.front();
        for (auto& s : to_save) {
            if (s.is_same(outputs[k])) s = handed_out[k];  // saved as the output, re-attached
        }
        handed_out[k] = record_custom(
            name, inputs, handed_out[k], to_save,
            function_backward(name, once, std::move(backward), ctx, std::move(layout)));
        return handed_out;
    }

    const Dtype dtype = outputs[differentiable.front()].dtype();
    std::vector<Tensor> flat;
    std::int64_t offset = 0;
    for (const std::size_t k : differentiable) {
        if (outputs[k].dtype() != dtype) {
            throw AutogradError(
                fmt::format("{}: its differentiable outputs must share one dtype, "
                            "got {} and {}",
                            name, dtype_name(dtype), dtype_name(outputs[k].dtype())));
        }
        if (!once && contains(to_save, outputs[k])) {
            throw AutogradError(fmt::format(
                "{}: with several differentiable outputs, backward cannot save output {} (its "
                "graph would be lost); save the inputs, or declare once_differentiable",
                name, k));
        }
        layout.outputs[k].offset = offset;
        offset += outputs[k].numel();
        flat.push_back(reshape(outputs[k], {-1}));
    }
    layout.packed = true;
    Tensor packed;
    {
        const NoGradGuard no_grad;
        packed = concat(flat, 0);
    }
    packed = record_custom(name, inputs, packed, to_save,
                           function_backward(name, once, std::move(backward), ctx, layout));
    for (const std::size_t k : differentiable) {
        const auto& place = layout.outputs[k];
        handed_out[k] =
            reshape(slice(packed, 0, place.offset, place.offset + place.numel), place.shape);
    }
    return handed_out;
}

}  // namespace detail
}  // namespace descent
