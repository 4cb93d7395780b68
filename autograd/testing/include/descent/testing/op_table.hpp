#pragma once
// The op table (descent::testing, not the shipped autograd library), in the shape of PyTorch's
// OpInfo: a flat list of entries, each an op's name and the function making its sample inputs.
// The test suite sweeps every sample through gradcheck and gradgradcheck in float64; a user's
// own op (a custom Function, a composed op) joins the sweep with register_op:
//
//   descent::register_op({"log1pexp", [] {
//       return std::vector<descent::OpSample>{
//           {"[3,4]", [](const auto& in) { return std::vector{Log1pExp::apply(in[0])}; },
//            {descent::randn({3, 4}, {.dtype = descent::float64}).requires_grad_()}}};
//   }});
//   auto report = descent::check_op(descent::op_table().back());

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "descent/gradcheck.hpp"
#include "descent/tensor.hpp"

namespace descent {

/// One sample: the function to check (the op with fixed non-tensor arguments), float64
/// inputs (those requiring grad are checked) and, where an op needs them, looser options.
struct OpSample {
    std::string label;
    GradcheckFn fn;
    std::vector<Tensor> inputs;
    GradcheckOptions options{};
    bool second_order = true;  ///< false for once_differentiable functions: no gradgradcheck
};

struct OpInfo {
    std::string name;  ///< a primitive's own name, or the public name of a composed op
    std::function<std::vector<OpSample>()> samples;
};

/// Every built-in entry, then every registered one, in order.
std::vector<OpInfo> op_table();

/// Adds an op to op_table() (thread-safe); an Error if its name is taken or it has no samples
/// function.
void register_op(OpInfo op);

/// gradcheck, then gradgradcheck where the sample allows it, on every sample of op: ok, or the
/// first failure (naming the op and the sample).
GradcheckReport check_op(const OpInfo& op);

/// Names of the primitive ops that record a node on the tape (each needs a table entry).
const std::vector<std::string_view>& primitive_op_names();

}  // namespace descent
