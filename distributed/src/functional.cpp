#include "descent/distributed/functional.hpp"

#include <fmt/format.h>

#include <any>
#include <vector>

#include "descent/function.hpp"

namespace descent::distributed {
namespace {

/// y = Σ_r x_r; backward ∂L/∂x_r = Σ_q ∂L/∂y_q, which is all_sum again (so it differentiates).
struct AllSum : Function<AllSum> {
    static constexpr const char* name = "all_sum";
    static Tensor forward(FunctionContext& ctx, const CommunicatorRef& world, const Tensor& x) {
        ctx.saved_data["world"] = world;
        Tensor y = x.clone();  // the allreduce is in place: on a copy, so x keeps its values
        world.get().allreduce_sum(y);
        return y;
    }
    static std::vector<Tensor> backward(FunctionContext& ctx, const std::vector<Tensor>& grads) {
        const auto& world = std::any_cast<const CommunicatorRef&>(ctx.saved_data.at("world"));
        return {AllSum::apply(world, grads[0])};
    }
};

}  // namespace

Tensor all_sum(Communicator& world, const Tensor& x) {
    if (!x.defined()) throw Error("all_sum: the tensor is undefined");
    if (!is_floating(x.dtype())) {
        throw DtypeError(fmt::format("all_sum: expected a float32 or float64 tensor, got {} {}",
                                     dtype_name(x.dtype()), shape_str(x.shape())));
    }
    // the backward pass needs the world again: a reference that notices if it is gone by then
    return AllSum::apply(CommunicatorRef(world, "all_sum", "the communicator it was given"), x);
}

}  // namespace descent::distributed
