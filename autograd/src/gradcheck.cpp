// gradcheck / gradgradcheck: analytic Jacobians from backward against central differences.

#include "descent/gradcheck.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/check.hpp"
#include "descent/engine.hpp"
#include "descent/ops.hpp"
#include "descent/random.hpp"
#include "node.hpp"
#include "tensor_impl.hpp"

namespace descent {
namespace {

double* values_of(Tensor& t) {
    return elements<double>(t);
}

std::vector<Tensor> fresh_copies(const std::vector<Tensor>& inputs) {
    std::vector<Tensor> copies;
    for (const auto& x : inputs) {
        Tensor c = x.detach().clone();
        if (x.requires_grad()) c.requires_grad_();
        copies.push_back(c);
    }
    return copies;
}

std::vector<std::size_t> checked_inputs(const std::vector<Tensor>& inputs, std::string_view op) {
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].requires_grad()) continue;
        if (inputs[i].dtype() != Dtype::float64) {
            throw DtypeError(fmt::format("{}: input {} is {}; finite differences need float64", op,
                                         i, dtype_name(inputs[i].dtype())));
        }
        which.push_back(i);
    }
    return which;
}

std::vector<Tensor> float_outputs(const std::vector<Tensor>& outputs, std::string_view op) {
    for (std::size_t o = 0; o < outputs.size(); ++o) {
        if (outputs[o].dtype() != Dtype::float64) {
            throw DtypeError(fmt::format("{}: output {} is {}; finite differences need float64", op,
                                         o, dtype_name(outputs[o].dtype())));
        }
    }
    return outputs;
}

/// ∂(Σ v·out)/∂inputs[which], zeros where an input is unused or the output is constant.
std::vector<Tensor> vjp(const Tensor& out, const Tensor& v, const std::vector<Tensor>& inputs,
                        const std::vector<std::size_t>& which, bool create_graph) {
    std::vector<Tensor> xs;
    for (const auto i : which) xs.push_back(inputs[i]);
    std::vector<Tensor> gs(which.size());
    if (out.requires_grad()) {
        gs = grad({out}, xs, {v},
                  {.retain_graph = true, .create_graph = create_graph, .allow_unused = true});
    }
    for (std::size_t k = 0; k < gs.size(); ++k) {
        if (!gs[k].defined()) gs[k] = zeros_like(xs[k]);
    }
    return gs;
}

/// Output o of f(xs), which must give as many outputs every time.
std::vector<double> output_values(const GradcheckFn& f, const std::vector<Tensor>& xs,
                                  std::size_t o) {
    const std::vector<Tensor> outs = f(xs);
    if (o >= outs.size() || !outs[o].defined()) {
        throw Error(
            fmt::format("gradcheck: output {} is missing when the function runs again "
                        "(it gave {} outputs)",
                        o, outs.size()));
    }
    return outs[o].to_vector();
}

/// Numeric Jacobian column block: d out[o] / d x[i][k] for every k, by central differences.
std::vector<std::vector<double>> numeric_columns(const GradcheckFn& f,
                                                 const std::vector<Tensor>& inputs, std::size_t i,
                                                 std::size_t o, double eps) {
    std::vector<Tensor> xs = fresh_copies(inputs);
    double* x = values_of(xs[i]);
    std::vector<std::vector<double>> columns;
    for (std::int64_t k = 0; k < xs[i].numel(); ++k) {
        const double original = x[k];
        x[k] = original + eps;
        const std::vector<double> plus = output_values(f, xs, o);
        x[k] = original - eps;
        const std::vector<double> minus = output_values(f, xs, o);
        x[k] = original;
        std::vector<double> column(plus.size());
        for (std::size_t j = 0; j < plus.size(); ++j) column[j] = (plus[j] - minus[j]) / (2 * eps);
        columns.push_back(std::move(column));
    }
    return columns;
}

std::string first_mismatch(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
    for (std::size_t k = 0; k < a.size(); ++k) {
        const auto va = a[k].to_vector(), vb = b[k].to_vector();
        for (std::size_t e = 0; e < va.size(); ++e) {
            if (va[e] != vb[e] && !(std::isnan(va[e]) && std::isnan(vb[e]))) {
                return fmt::format("input {} element {}: {} then {}", k, e, va[e], vb[e]);
            }
        }
    }
    return {};
}

void check_options(const GradcheckFn& f, const GradcheckOptions& opt, std::string_view op) {
    if (!f) throw Error(fmt::format("{}: the function is empty", op));
    check_option(opt.eps, above(0), op, "eps");
    check_option(opt.atol, at_least(0), op, "atol");
    check_option(opt.rtol, at_least(0), op, "rtol");
}

/// " (the graph holds the custom functions A, B)" for an output computed by custom functions:
/// a wrong backward is most likely theirs.
std::string functions_in(const Tensor& out) {
    const std::vector<std::string> names = custom_functions_in_graph(out);
    if (names.empty()) return {};
    return fmt::format(" (its graph holds the custom function{} {})", names.size() > 1 ? "s" : "",
                       joined(names, ", "));
}

GradcheckReport compare(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                        GradcheckOptions opt, std::string_view op) {
    const auto which = checked_inputs(inputs, op);
    const std::vector<Tensor> outputs = float_outputs(f(inputs), op);
    for (std::size_t o = 0; o < outputs.size(); ++o) {
        const Tensor& out = outputs[o];
        for (std::size_t w = 0; w < which.size(); ++w) {
            const std::size_t i = which[w];
            const auto numeric = numeric_columns(f, inputs, i, o, opt.eps);
            for (std::int64_t j = 0; j < out.numel(); ++j) {
                Tensor onehot = zeros_like(out);
                values_of(onehot)[j] = 1.0;
                const std::vector<double> row =
                    vjp(out, onehot, inputs, which, false)[w].to_vector();
                for (std::size_t k = 0; k < row.size(); ++k) {
                    const double a = row[k], n = numeric[k][j];
                    if (!(std::abs(a - n) <= opt.atol + opt.rtol * std::abs(n))) {
                        return {false,
                                fmt::format("{}: Jacobian mismatch for output {} {} with respect "
                                            "to input {} {}: output element {}, input element {}: "
                                            "analytic {:.10g}, numeric {:.10g}{}",
                                            op, o, shape_str(out.shape()), i,
                                            shape_str(inputs[i].shape()), j, k, a, n,
                                            functions_in(out))};
                    }
                }
            }
        }
        const Tensor ones = ones_like(out);
        const std::string reentrant = first_mismatch(vjp(out, ones, inputs, which, false),
                                                     vjp(out, ones, inputs, which, false));
        if (!reentrant.empty()) {
            return {false, fmt::format("{}: backward of output {} is not reentrant: {}{}", op, o,
                                       reentrant, functions_in(out))};
        }
        const auto zero_grads = vjp(out, zeros_like(out), inputs, which, false);
        for (std::size_t w = 0; w < which.size(); ++w) {
            for (const double v : zero_grads[w].to_vector()) {
                if (v != 0.0) {
                    return {false, fmt::format("{}: a zero gradient of output {} gives {} in the "
                                               "gradient of input {}{}",
                                               op, o, v, which[w], functions_in(out))};
                }
            }
        }
    }
    return {};
}

/// compare() after checking the options; a backward that refuses to run (an AutogradError,
/// e.g. from a once_differentiable function) fails the check instead of escaping it.
GradcheckReport check(const GradcheckFn& f, const std::vector<Tensor>& inputs, GradcheckOptions opt,
                      std::string_view op) {
    check_options(f, opt, op);
    checked_inputs(inputs, op);
    try {
        return compare(f, inputs, opt, op);
    } catch (const AutogradError& e) {
        return {false, fmt::format("{}: {}", op, e.what())};
    }
}

GradcheckFn as_multi(const GradcheckScalarFn& f) {
    if (!f) return {};
    return [f](const std::vector<Tensor>& in) { return std::vector<Tensor>{f(in)}; };
}
}  // namespace

GradcheckReport check_gradients(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                GradcheckOptions options) {
    return check(f, inputs, options, "gradcheck");
}

GradcheckReport check_second_gradients(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                                       GradcheckOptions options) {
    check_options(f, options, "gradgradcheck");
    const auto which = checked_inputs(inputs, "gradgradcheck");
    // Fixed random output gradients v, from a private generator (the global stream is untouched).
    Generator gen(0x5EED);
    std::vector<Tensor> vs;
    for (const auto& out : float_outputs(f(inputs), "gradgradcheck")) {
        Tensor v = zeros_like(out);
        for (std::int64_t j = 0; j < v.numel(); ++j) values_of(v)[j] = gen.normal();
        vs.push_back(v);
    }
    const GradcheckFn first_derivative = [f, vs, which](const std::vector<Tensor>& xs) {
        const std::vector<Tensor> outs = f(xs);
        std::vector<Tensor> result(which.size());
        for (std::size_t o = 0; o < outs.size(); ++o) {
            const auto gs = vjp(outs[o], vs[o], xs, which, true);
            for (std::size_t w = 0; w < which.size(); ++w) {
                result[w] = result[w].defined() ? result[w] + gs[w] : gs[w];
            }
        }
        return result;
    };
    GradcheckReport report = check(first_derivative, inputs, options, "gradgradcheck");
    if (!report.ok) {  // the first derivatives were written by f's functions' backward
        for (const auto& out : f(inputs)) report.message += functions_in(out);
    }
    return report;
}

GradcheckReport check_gradients(const GradcheckScalarFn& f, const std::vector<Tensor>& inputs,
                                GradcheckOptions options) {
    return check_gradients(as_multi(f), inputs, options);
}

GradcheckReport check_second_gradients(const GradcheckScalarFn& f,
                                       const std::vector<Tensor>& inputs,
                                       GradcheckOptions options) {
    return check_second_gradients(as_multi(f), inputs, options);
}

void gradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs, GradcheckOptions options) {
    const auto report = check_gradients(f, inputs, options);
    if (!report) throw AutogradError(report.message);
}

void gradcheck(const GradcheckScalarFn& f, const std::vector<Tensor>& inputs,
               GradcheckOptions options) {
    gradcheck(as_multi(f), inputs, options);
}

void gradgradcheck(const GradcheckFn& f, const std::vector<Tensor>& inputs,
                   GradcheckOptions options) {
    const auto report = check_second_gradients(f, inputs, options);
    if (!report) throw AutogradError(report.message);
}

void gradgradcheck(const GradcheckScalarFn& f, const std::vector<Tensor>& inputs,
                   GradcheckOptions options) {
    gradgradcheck(as_multi(f), inputs, options);
}

}  // namespace descent
