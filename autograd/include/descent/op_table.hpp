#pragma once
// The op table: every recorded op (a primitive with its own backward formula) and every public
// composed op, with sample inputs. The test suite sweeps it through gradcheck and gradgradcheck.

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
};

struct OpInfo {
    std::string name;  ///< a primitive's own name, or the public name of a composed op
    std::function<std::vector<OpSample>()> samples;
};

const std::vector<OpInfo>& op_table();

/// Names of the primitive ops that record a node on the tape.
const std::vector<std::string_view>& primitive_op_names();

}  // namespace descent
