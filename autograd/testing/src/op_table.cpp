// The op table: one entry per primitive and per public composed op, each naming the generator
// of its samples (shared generators for the families of ops, samples.cpp for the others), and
// the registry through which users add their own ops to the sweep.

#include "descent/testing/op_table.hpp"

#include <fmt/format.h>

#include <mutex>

#include "op_list.hpp"
#include "samples.hpp"
#include "spatial_samples.hpp"

namespace descent {
namespace {
using namespace samples;

const std::vector<OpInfo>& builtin_ops() {
    static const std::vector<OpInfo> table = {
        // --- arithmetic
        {"add", broadcasting([](auto& a, auto& b) { return a + b; })},
        {"sub", broadcasting([](auto& a, auto& b) { return a - b; })},
        {"mul", broadcasting([](auto& a, auto& b) { return a * b; })},
        {"div",
         broadcasting([](auto& a, auto& b) { return a / b; }, &Make::normal, &Make::nonzero)},
        {"neg", elementwise([](auto& x) { return -x; })},
        {"add_scalar", elementwise([](auto& x) { return x + 1.5; })},
        {"mul_scalar", elementwise([](auto& x) { return x * -2.5; })},
        {"div_scalar", elementwise([](auto& x) { return x / -1.5; })},
        {"rdiv_scalar", elementwise([](auto& x) { return 3.0 / x; }, &Make::nonzero)},
        // --- elementwise functions
        {"exp", elementwise([](auto& x) { return exp(x); })},
        {"log", elementwise([](auto& x) { return log(x); }, &Make::positive)},
        {"sqrt", elementwise([](auto& x) { return sqrt(x); }, &Make::positive)},
        {"abs", elementwise([](auto& x) { return abs(x); }, &Make::nonzero)},
        {"tanh", elementwise([](auto& x) { return tanh(x); })},
        {"sigmoid", elementwise([](auto& x) { return sigmoid(x); })},
        {"erf", elementwise([](auto& x) { return erf(x); })},
        {"relu", elementwise([](auto& x) { return relu(x); }, &Make::nonzero)},
        {"leaky_relu", elementwise([](auto& x) { return leaky_relu(x, 0.2); }, &Make::nonzero)},
        {"gelu", gelu_samples},
        {"softplus", softplus_samples},
        {"pow_scalar", pow_scalar_samples},
        {"pow", broadcasting([](auto& a, auto& b) { return pow(a, b); }, &Make::positive)},
        {"clamp", clamp_samples},
        {"maximum", maximum_samples},
        {"minimum", minimum_samples},
        {"where", where_samples},
        {"sin", elementwise([](auto& x) { return sin(x); })},
        {"cos", elementwise([](auto& x) { return cos(x); })},
        {"tan", elementwise([](auto& x) { return tan(x); }, &Make::unit)},
        {"asin", elementwise([](auto& x) { return asin(x); }, &Make::unit)},
        {"acos", elementwise([](auto& x) { return acos(x); }, &Make::unit)},
        {"atan", elementwise([](auto& x) { return atan(x); })},
        {"atan2",
         broadcasting([](auto& a, auto& b) { return atan2(a, b); }, &Make::normal, &Make::nonzero)},
        {"sinh", elementwise([](auto& x) { return sinh(x); })},
        {"cosh", elementwise([](auto& x) { return cosh(x); })},
        {"hypot", broadcasting([](auto& a, auto& b) { return hypot(a, b); }, &Make::nonzero,
                               &Make::nonzero)},
        {"log1p", elementwise([](auto& x) { return log1p(x); }, &Make::positive)},
        {"expm1", elementwise([](auto& x) { return expm1(x); })},
        {"log2", elementwise([](auto& x) { return log2(x); }, &Make::positive)},
        {"log10", elementwise([](auto& x) { return log10(x); }, &Make::positive)},
        {"rsqrt", elementwise([](auto& x) { return rsqrt(x); }, &Make::positive)},
        {"reciprocal", elementwise([](auto& x) { return reciprocal(x); }, &Make::nonzero)},
        {"square", elementwise([](auto& x) { return square(x); })},
        {"floor", elementwise([](auto& x) { return floor(x); })},
        {"ceil", elementwise([](auto& x) { return ceil(x); })},
        {"trunc", elementwise([](auto& x) { return trunc(x); })},
        {"round",
         elementwise([](auto& x) { return round(x) + round(x, 1) + round(x * 40.0, -1); })},
        {"fmod",
         broadcasting([](auto& a, auto& b) { return fmod(a, b); }, &Make::normal, &Make::nonzero)},
        {"fmod_scalar", elementwise([](auto& x) { return fmod(x, -0.7); })},
        {"remainder", broadcasting([](auto& a, auto& b) { return remainder(a, b); }, &Make::normal,
                                   &Make::nonzero)},
        {"remainder_scalar", elementwise([](auto& x) { return remainder(x, 0.7); })},
        // --- reductions
        {"sum", reduction([](auto& x, auto& d, bool k) { return sum(x, d, k); })},
        {"amax", reduction([](auto& x, auto& d, bool k) { return max(x, d, k); }, &Make::distinct)},
        {"amin", reduction([](auto& x, auto& d, bool k) { return min(x, d, k); }, &Make::distinct)},
        {"mean", reduction([](auto& x, auto& d, bool k) { return mean(x, d, k); })},
        {"var", reduction([](auto& x, auto& d, bool k) {
             return d.empty() ? x * 1.0 : var(x, d, true, k);
         })},
        {"var_biased", reduction([](auto& x, auto& d, bool k) { return var(x, d, false, k); })},
        {"std", reduction([](auto& x, auto& d, bool k) {
             return d.empty() ? x * 1.0 : descent::std(x, d, true, k);
         })},
        {"logsumexp", reduction([](auto& x, auto& d, bool k) { return logsumexp(x, d, k); })},
        {"softmax", softmax_samples},
        {"log_softmax", log_softmax_samples},
        {"sum_to", sum_to_samples},
        {"squared_error", squared_error_samples},
        {"softmax_cross_entropy", softmax_cross_entropy_samples},
        // --- linear algebra
        {"matmul", matmul_samples},
        {"linear", linear_samples},
        // --- shape
        {"reshape", reshape_samples},
        {"permute", permute_samples},
        {"expand", expand_samples},
        // --- selection
        {"slice", slice_samples},
        {"slice_backward", slice_backward_samples},
        {"index_select", index_select_samples},
        {"index_add", index_add_samples},
        {"gather", gather_samples},
        {"scatter_add", scatter_add_samples},
        {"concat", concat_samples},
        {"stack", stack_samples},
        {"split", split_samples},
        // --- spatial
        {"patches", patches_samples},
        {"patches_adjoint", patches_adjoint_samples},
        {"window_mean", window_mean_samples},
        {"window_mean_adjoint", window_mean_adjoint_samples},
        {"conv1d", conv1d_samples},
        {"conv2d", conv2d_samples},
        {"conv_transpose1d", conv_transpose1d_samples},
        {"conv_transpose2d", conv_transpose2d_samples},
        {"max_pool", max_pool_samples},
        {"avg_pool", avg_pool_samples},
        {"adaptive_pool", adaptive_pool_samples},
        {"pad", pad_samples},
        {"unfold_fold", unfold_fold_samples},
        {"interpolate", interpolate_samples},
        // --- structure
        {"cumsum", cumsum_samples},
        {"cumprod", cumprod_samples},
        {"sort", sort_samples},
        {"topk", topk_samples},
        {"flip", flip_samples},
        {"roll", roll_samples},
        {"masked_fill", masked_fill_samples},
        {"triu", triu_samples},
        {"tril", tril_samples},
        {"repeat", repeat_samples},
        {"tile", tile_samples},
        {"outer", outer_samples},
        {"bmm", bmm_samples},
        {"baddbmm", baddbmm_samples},
        {"vector_norm", vector_norm_samples},
        {"einsum", einsum_samples},
        // --- conversion
        {"to_dtype", to_dtype_samples},
        {"clone", elementwise([](auto& x) { return x.clone(); })},
    };
    return table;
}

struct Registry {
    std::mutex mutex;
    std::vector<OpInfo> ops;
};
Registry& registry() {
    static Registry r;
    return r;
}
}  // namespace

std::vector<OpInfo> op_table() {
    std::vector<OpInfo> table = builtin_ops();
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    table.insert(table.end(), r.ops.begin(), r.ops.end());
    return table;
}

void register_op(OpInfo op) {
    if (!op.samples) throw Error(fmt::format("register_op: {} has no samples function", op.name));
    Registry& r = registry();
    const std::lock_guard lock(r.mutex);
    auto taken = [&](const std::vector<OpInfo>& list) {
        for (const auto& e : list) {
            if (e.name == op.name) return true;
        }
        return false;
    };
    if (op.name.empty() || taken(builtin_ops()) || taken(r.ops)) {
        throw Error(fmt::format("register_op: the name '{}' is empty or taken", op.name));
    }
    r.ops.push_back(std::move(op));
}

GradcheckReport check_op(const OpInfo& op) {
    for (const OpSample& sample : op.samples()) {
        GradcheckReport report = check_gradients(sample.fn, sample.inputs, sample.options);
        if (report.ok && sample.second_order) {
            report = check_second_gradients(sample.fn, sample.inputs, sample.options);
        }
        if (!report.ok) {
            report.message =
                fmt::format("op {}, sample {}: {}", op.name, sample.label, report.message);
            return report;
        }
    }
    return {};
}

const std::vector<std::string_view>& primitive_op_names() {
    static const std::vector<std::string_view> names = {
#define DESCENT_OP_STRING(name) #name,
        DESCENT_PRIMITIVE_OPS(DESCENT_OP_STRING)
#undef DESCENT_OP_STRING
    };
    return names;
}

}  // namespace descent
