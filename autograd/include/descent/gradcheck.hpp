#pragma once
// Finite-difference checking of gradients, part of the public library.
// gradcheck compares, for every (output, input) pair, the full Jacobian from backward (one
// one-hot output gradient per row) with central differences (one perturbed input element per
// column): |analytic − numeric| ≤ atol + rtol·|numeric|. It also checks that backward is
// reentrant (the same result twice) and that a zero output gradient gives zero input gradients.
// gradgradcheck is gradcheck of x ↦ grad(f(x), x, v, create_graph) for a fixed random v.

#include <functional>
#include <string>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

using GradcheckFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using GradcheckScalarFn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
    double eps = 1e-6;
    double atol = 1e-5;
    double rtol = 1e-3;
};

struct GradcheckReport {
    bool ok = true;
    std::string message;  ///< on failure: the input, output and input element, both values
    explicit operator bool() const { return ok; }
};

/// Checks f at `inputs` (float64 tensors; those requiring grad are checked).
GradcheckReport check_gradients(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                GradcheckOptions options = {});
GradcheckReport check_second_gradients(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                       GradcheckOptions options = {});
/// The same for a function of one output.
GradcheckReport check_gradients(const GradcheckScalarFn& f, const std::vector<Tensor>& inputs,
                                GradcheckOptions options = {});
GradcheckReport check_second_gradients(const GradcheckScalarFn& f,
                                       const std::vector<Tensor>& inputs,
                                       GradcheckOptions options = {});

/// Throwing forms: an AutogradError carrying the report's message.
void gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
               GradcheckOptions options = {});
void gradcheck(const GradcheckScalarFn& f, const std::vector<Tensor>& inputs,
               GradcheckOptions options = {});
void gradgradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                   GradcheckOptions options = {});
void gradgradcheck(const GradcheckScalarFn& f, const std::vector<Tensor>& inputs,
                   GradcheckOptions options = {});

}  // namespace descent
