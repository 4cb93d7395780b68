// descent against PyTorch on composed expressions.
//
// tests/fixtures/autograd_expressions.json (written by tools/make_autograd_fixtures.py with
// torch, float64) holds, per expression: the inputs, the output, a weight w, the gradient of
// Σ(output·w) for every float64 input and, for some expressions, a direction v with the
// Hessian-vector product d/dx[(dΣ(output·w)/dx)·v]. The table below writes every expression
// again with descent ops; this test evaluates it on the same inputs and compares all three.
//
// The two lists must match: an expression in the JSON without a lambda here, or a lambda here
// without an expression in the JSON, fails the test. To add one, add it to the script, rerun
//   /usr/bin/python3 tools/make_autograd_fixtures.py
// and add the same expression to expression_table() below.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace descent;
using json = nlohmann::json;

// Tolerance: |descent − torch| ≤ 1e-10 · max(1, |torch|), elementwise. Both sides compute in
// float64, so they differ only by rounding: summation order in reductions and GEMM, division by
// a constant done as multiplication by its reciprocal, where softmax applies its max shift,
// erf/exp/tanh from different libms, and derivative formulas that are equal mathematically but
// arranged differently. Each costs a few ulps (~1e-16 relative); through the deepest chains here
// (second derivatives through softmax and matmul) the observed worst case is ~1e-14. 1e-10
// leaves ample slack for other compilers and BLAS orderings, while a wrong formula, broadcast or
// reduction dim is off by far more. The max(1, ·) makes the bound absolute for values near
// zero, where cancellation leaves only absolute accuracy.
constexpr double kTolerance = 1e-10;

/// The named inputs of one expression.
class Inputs {
  public:
    void add(const std::string& name, Tensor t) { by_name_[name] = std::move(t); }
    const Tensor& operator[](const std::string& name) const {
        const auto it = by_name_.find(name);
        if (it == by_name_.end()) throw std::out_of_range("no input named '" + name + "'");
        return it->second;
    }

  private:
    std::map<std::string, Tensor> by_name_;
};

using Expression = std::function<Tensor(const Inputs&)>;

/// Every expression of the fixture file, written with descent ops (the torch original is in
/// the JSON's "description" and in tools/make_autograd_fixtures.py).
const std::map<std::string, Expression>& expression_table() {
    static const std::map<std::string, Expression> table = {
        {"matmul_2d_tanh", [](const Inputs& t) { return tanh(matmul(t["A"], t["B"]) + t["b"]); }},
        {"matmul_batched_broadcast_tanh",
         [](const Inputs& t) { return tanh(matmul(t["A"], t["B"])); }},
        {"matmul_batched_with_2d",
         [](const Inputs& t) { return tanh(matmul(t["X"], t["W"])) * matmul(t["M"], t["N"]); }},
        {"matmul_vector_cases",
         [](const Inputs& t) {
             return tanh(matmul(t["N"], t["u"]) + matmul(t["v"], t["M"])) * matmul(t["u"], t["v"]) +
                    matmul(t["v"], transpose(t["N"], 1, 2));
         }},
        {"softmax_log_softmax",
         [](const Inputs& t) {
             return softmax(t["x"], 1) * log_softmax(t["x"], 0) + 0.5 * log_softmax(t["x"], -1);
         }},
        {"softmax_middle_dim",
         [](const Inputs& t) { return log_softmax(3.0 * softmax(t["x"], 1), -1); }},
        {"logsumexp_dims",
         [](const Inputs& t) {
             return logsumexp(t["x"], {1}, true) + logsumexp(t["x"], {0, 2}, true) +
                    unsqueeze(logsumexp(3.0 * t["x"], {-1}), -1);
         }},
        {"mean_var_std_keepdim",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return mean(x, {1}, true) +
                    var(x, {0, 2}, /*unbiased=*/true, true) * x.std({1}, /*unbiased=*/false, true) +
                    x.std({-1}, /*unbiased=*/true, true);
         }},
        {"var_std_full_and_dims",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             // torch's var(x, unbiased=False) over all elements: list both dims.
             const Tensor full = stack({var(x), var(x, {0, 1}, /*unbiased=*/false), x.std(),
                                        x.std({0, 1}, /*unbiased=*/false), mean(x), sum(x)});
             return concat({full, var(x, {1}, false), x.std({0}, true)});
         }},
        {"amax_amin_dims",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return max(x, {1}, true) * min(x, {0, 2}, true) + max(x) + unsqueeze(min(x, {-1}), -1);
         }},
        {"amax_shifted_softmax",
         [](const Inputs& t) {
             const Tensor e = exp(t["x"] - max(t["x"], {1}, true));
             return e / sum(e, {1}, true);
         }},
        {"trigonometric",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"], &u = t["u"];
             return sin(x) * cos(y) + tan(u) + asin(u) * acos(u) + atan(x) * sinh(y) + cosh(x);
         }},
        {"atan2_hypot",
         [](const Inputs& t) {
             const Tensor &a = t["a"], &b = t["b"];
             return atan2(a, b) * hypot(a, b) + atan2(b, -a) + pow(hypot(2.0 * a, b), 2.0);
         }},
        {"log_exp_variants",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &p = t["p"];
             return log1p(p) * expm1(x) + log2(p) + log10(p) * rsqrt(p) + reciprocal(x) +
                    square(x) * p;
         }},
        {"rounding_remainders",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"];
             const Tensor x3 = 3.0 * x;
             return floor(x3) * x + ceil(x3) * y + round(x3) + round(x, 1) * x + trunc(x3) * y +
                    fmod(x3, y) * x + remainder(x3, y) + fmod(x, -0.7) + remainder(x, 0.7);
         }},
        {"broadcast_arithmetic",
         [](const Inputs& t) {
             const Tensor &a = t["a"], &b = t["b"], &c = t["c"], &d = t["d"];
             return ((a + b) * c - c / d) / (1.5 + a * a) + (2.0 - b) * 0.5 + 3.0 / d - a / 4.0;
         }},
        {"pow_scalar_and_tensor",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"];
             return pow(x, 2.5) - pow(x, y) + pow(x, -1.5) + 0.1 * pow(x, 3.0);
         }},
        {"pow_tensor_broadcast",
         [](const Inputs& t) { return pow(t["x"], t["e"]) + pow(t["e"], t["x"]); }},
        {"exp_log_sqrt_abs",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return log(x) * exp(-x) + sqrt(x + 1.0) * abs(x - 1.3) + abs(-x);
         }},
        {"sigmoid_relu_leaky_relu",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return sigmoid(x) * relu(x) + leaky_relu(x, 0.2) - 0.3 * relu(-x) + leaky_relu(x) * x;
         }},
        {"gelu_erf_tanh",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return gelu(x) + gelu(x, GeluApproximation::tanh) * erf(x);
         }},
        {"softplus_beta_threshold",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return softplus(x, 2.0, 3.0) + softplus(x) + softplus(x, 0.5);
         }},
        {"erf_clamp",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return clamp(x, -0.5, 0.8) * erf(x) + clamp(x, 0.1, std::nullopt) +
                    clamp(x, std::nullopt, -0.2) * x;
         }},
        {"where_mask",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"];
             return where(t["m"], x * x, exp(y)) + where(t["n"], tanh(x), y);
         }},
        {"maximum_minimum",
         [](const Inputs& t) {
             const Tensor &a = t["a"], &b = t["b"];
             return maximum(a, b) * minimum(a, 2.0 * b) + maximum(a * a, b);
         }},
        {"slice_with_step",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor rows_odd = slice(slice(x, 0, 1, 6, 2), 1, 0, 7, 3);  // x[1:6:2, 0:7:3]
             const Tensor rows_even =
                 slice(slice(x, 0, 0, 6, 2), 1, -5, -1, 2);  // x[0:6:2, -5:-1:2]
             return matmul(rows_odd, rows_even) + slice(slice(x, 0, -3, 6), 1, 4, 6);
         }},
        {"index_select_repeated",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor y = index_select(index_select(x, 0, t["i"]), 1, t["j"]);
             return y * y + slice(index_select(x, -1, t["j"]), 0, 0, 3);
         }},
        {"gather_dims",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor g = concat(
                 {reshape(gather(x, 1, t["i1"]), {-1}), reshape(gather(x, 0, t["i0"]), {-1})});
             return g * g + g;
         }},
        {"concat_stack_split",
         [](const Inputs& t) {
             const Tensor &a = t["a"], &b = t["b"], &c = t["c"];
             const std::vector<Tensor> p = split(concat({a, b}, 1), 2, 1);
             const std::vector<Tensor> q = split(c, std::vector<std::int64_t>{1, 2}, 1);
             const Tensor left = stack({p[0] * p[1], q[1] + p[2], exp(q[0]) * p[0]}, -1);
             const Tensor right = stack({slice(a, 1, 0, 2), slice(c, 1, 1, 3)}, 0);
             return left * unsqueeze(right, -1);
         }},
        {"reshape_permute_transpose",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor p = reshape(permute(x, {2, 0, 1}), {4, 6});
             const Tensor q = reshape(x, {4, 6});
             const Tensor s = reshape(transpose(x, 0, -1), {6, 4});
             return matmul(p.t(), q) + matmul(s, q) + matmul(flatten(x, 0, 1), p);
         }},
        {"expand_squeeze_unsqueeze",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"], &z = t["z"];
             const Tensor inner =
                 expand(x, {2, -1, 5, -1}) * unsqueeze(unsqueeze(y, -1), -1) + squeeze(z);
             return inner * unsqueeze(squeeze(x, 1), 1);
         }},
        {"sum_mean_dims",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             return sum(x, {0, -1}, true) * unsqueeze(mean(x, {1}), 1) + sum(x * x);
         }},
        {"cumsum_cumprod",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &z = t["z"];
             return cumsum(x, 1) * cumprod(x, 0) + sum(cumprod(z, 1) * cumsum(z, -1), {0}) +
                    squeeze(slice(cumprod(z, 0), 0, 1, 2), 0);
         }},
        {"sort_topk",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor smallest = topk(x, 3, -1, false, false).values;
             return sort(x, 1).values * x + pow(sum(topk(x, 2, 0).values, {0}), 2.0) +
                    sort(x, 0, true).values * sum(smallest, {1}, true);
         }},
        {"flip_roll_triangles",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"];
             return flip(x, {0, 1}) * roll(x, {1, -2}, {0, 1}) + roll(x, {5}) * flip(x, {-1}) +
                    triu(x, -1) * tril(x, 1) + slice(matmul(triu(y), tril(y, -1)), 0, 0, 3);
         }},
        {"repeat_tile_masked_fill",
         [](const Inputs& t) {
             const Tensor &x = t["x"], &y = t["y"], &m = t["m"];
             return repeat(x, {2, 1, 2}) * tile(y, {2, 2}) +
                    repeat(masked_fill(x, m, 0.5), {1, 2}) * tile(x, {2}) +
                    tile(masked_fill(y, m, -1.0) * y, {1, 2});
         }},
        {"outer_bmm_vector_norms",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor q = baddbmm(t["C"], t["A"], t["B"], 0.5, -1.5) + bmm(t["A"], t["B"]);
             std::vector<Tensor> parts = {reshape(outer(t["u"], t["v"]) * x, {-1}),
                                          reshape(q, {-1})};
             for (const double p : {2.0, 3.0, inf, -inf, 1.0, 0.5}) {
                 parts.push_back(vector_norm(x, p, {1}));
             }
             parts.push_back(reshape(vector_norm(q), {1}));
             return concat(parts);
         }},
        {"mlp_cross_entropy",
         [](const Inputs& t) {
             const Tensor hidden = relu(linear(t["x"], t["W1"], t["b1"]));
             const Tensor logits = linear(hidden, t["W2"], t["b2"]);
             const Tensor logp = log_softmax(logits, 1);
             return -mean(gather(logp, 1, unsqueeze(t["target"], 1)));
         }},
        {"attention_softmax",
         [](const Inputs& t) {
             const Tensor scores = matmul(t["q"], transpose(t["k"], -1, -2)) / 2.0;
             return matmul(softmax(scores, -1), t["v"]);
         }},
        {"layer_norm_by_hand",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor centered = x - mean(x, {-1}, true);
             const Tensor scale = sqrt(var(x, {-1}, /*unbiased=*/false, true) + 1e-5);
             return centered / scale * t["gamma"] + t["beta"];
         }},
        {"scalar_output_chain",
         [](const Inputs& t) { return sum(exp(t["x"]) * log(t["y"])) / sum(t["y"]); }},
        {"conv2d_stride_groups",
         [](const Inputs& t) {
             return tanh(conv2d(t["x"], t["w"], t["b"], {.stride = 2, .padding = 1, .groups = 2}));
         }},
        {"conv2d_same_dilation_depthwise",
         [](const Inputs& t) {
             const Tensor y = conv2d(t["x"], t["w"], {}, {.padding = "same", .dilation = {2, 1}});
             return y * y + sum(conv2d(t["x"], t["d"], {},
                                       {.stride = {1, 2}, .padding = {0, 1}, .groups = 3}));
         }},
        {"conv1d_variants",
         [](const Inputs& t) {
             const Tensor v = conv1d(t["u"], t["v"], {}, {.stride = 2, .dilation = 2, .groups = 2});
             return concat({flatten(tanh(conv1d(t["x"], t["w"], t["b"], {.padding = 1}))),
                            flatten(v * v),
                            flatten(conv1d(t["x"], t["e"], {}, {.padding = "same"}))});
         }},
        {"conv_transpose",
         [](const Inputs& t) {
             const Tensor y =
                 conv_transpose2d(t["x"], t["w"], t["b"],
                                  {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
             const Tensor z =
                 conv_transpose1d(t["u"], t["v"], {}, {.stride = 3, .padding = 2, .dilation = 2});
             return concat({flatten(tanh(y)), flatten(z * z)});
         }},
        {"max_pools",
         [](const Inputs& t) {
             const Tensor a = max_pool2d(
                 t["x"], 3, {.stride = 2, .padding = 1, .dilation = {1, 2}, .ceil_mode = true});
             const Tensor b = max_pool1d(t["y"], 2, {.ceil_mode = true});
             return concat({flatten(a * a), flatten(b * b)});
         }},
        {"avg_pools",
         [](const Inputs& t) {
             const Tensor a = avg_pool2d(
                 t["x"], 3,
                 {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
             const Tensor b =
                 avg_pool2d(t["x"], {2, 3}, {.padding = {1, 0}, .divisor_override = 4});
             const Tensor c = avg_pool1d(t["y"], 3, {.stride = 2, .padding = 1});
             return concat({flatten(a * a), flatten(b * b), flatten(c * c)});
         }},
        {"adaptive_pools",
         [](const Inputs& t) {
             const Tensor a = adaptive_avg_pool2d(t["x"], {3, 4});
             const Tensor b = adaptive_max_pool2d(t["x"], {4, 3});
             const Tensor c = adaptive_avg_pool1d(t["y"], 4);
             const Tensor d = adaptive_max_pool1d(t["y"], 3);
             return concat({flatten(a * a), flatten(b * b), flatten(c * c), flatten(d * d)});
         }},
        {"pads",
         [](const Inputs& t) {
             const Tensor& x = t["x"];
             const Tensor a = pad(x, {-1, 2, 1, 0}, PadMode::constant, 1.5);
             const Tensor b = pad(x, {2, 1, 1, 2}, PadMode::reflect);
             const Tensor c = pad(x, {3, 1, 0, 2}, PadMode::replicate);
             const Tensor d = pad(x, {3, 1, 2, 1}, PadMode::circular);
             return concat({flatten(a * a), flatten(b * b), flatten(c * c), flatten(d * d)});
         }},
        {"unfold_fold",
         [](const Inputs& t) {
             const UnfoldOptions o{.padding = 1, .stride = {1, 2}};
             const Tensor a = unfold(t["x"], {2, 3}, o);
             const Tensor b = fold(t["c"], {4, 5}, {2, 3}, o);
             return concat({flatten(a * a), flatten(b * b)});
         }},
        {"interpolate_nearest",
         [](const Inputs& t) {
             const Tensor a = interpolate(t["x"], {.scale_factor = {2.0, 1.5}});
             const Tensor b = interpolate(t["x"], {.size = {2, 3}});
             const Tensor c = interpolate(t["y"], {.scale_factor = {0.7}});
             const Tensor d = interpolate(t["y"], {.size = 10});
             return concat({flatten(a * a), flatten(b * b), flatten(c * c), flatten(d * d)});
         }},
        {"interpolate_linear",
         [](const Inputs& t) {
             constexpr auto bilinear = InterpolateMode::bilinear;
             constexpr auto linear = InterpolateMode::linear;
             const Tensor a = interpolate(t["x"], {.size = {7, 9}, .mode = bilinear});
             const Tensor b = interpolate(t["x"], {.scale_factor = {0.6, 0.75}, .mode = bilinear});
             const Tensor c = interpolate(
                 t["x"], {.scale_factor = {1.5}, .mode = bilinear, .align_corners = true});
             const Tensor d =
                 interpolate(t["x"], {.size = {3, 2}, .mode = bilinear, .align_corners = true});
             const Tensor e = interpolate(t["y"], {.scale_factor = {2.5}, .mode = linear});
             const Tensor f =
                 interpolate(t["y"], {.size = 4, .mode = linear, .align_corners = true});
             return concat({flatten(a * a), flatten(b * b), flatten(c * c), flatten(d * d),
                            flatten(e * e), flatten(f * f)});
         }},
    };
    return table;
}

json load_fixtures() {
    const std::string path = std::string(DESCENT_FIXTURE_DIR) + "/autograd_expressions.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    return json::parse(in);
}

Shape shape_of(const json& entry) {
    return entry.at("shape").get<Shape>();
}

/// A float64 tensor (not requiring grad) from a {shape, values} entry.
Tensor float_tensor(const json& entry) {
    return tensor(entry.at("values").get<std::vector<double>>(), shape_of(entry),
                  {.dtype = float64});
}

Tensor make_input(const json& spec) {
    const auto dtype = spec.at("dtype").get<std::string>();
    if (dtype == "float64") {
        return tensor(spec.at("values").get<std::vector<double>>(), shape_of(spec),
                      {.dtype = float64, .requires_grad = spec.at("requires_grad").get<bool>()});
    }
    if (dtype == "int64") {
        return int_tensor(spec.at("values").get<std::vector<std::int64_t>>(), shape_of(spec));
    }
    if (dtype == "bool") {
        std::vector<double> values;
        for (const auto& v : spec.at("values")) values.push_back(v.get<bool>() ? 1.0 : 0.0);
        return tensor(values, shape_of(spec), {.dtype = boolean});
    }
    throw std::runtime_error("input '" + spec.at("name").get<std::string>() +
                             "' has unknown dtype " + dtype);
}

/// "[i,j,k]": the multi-index of flat position `flat` in a row-major tensor of `shape`.
std::string index_str(std::int64_t flat, const Shape& shape) {
    std::vector<std::int64_t> index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        index[d] = flat % shape[d];
        flat /= shape[d];
    }
    std::ostringstream out;
    out << '[';
    for (std::size_t d = 0; d < index.size(); ++d) out << (d ? "," : "") << index[d];
    out << ']';
    return out.str();
}

double relative_error(double got, double want) {
    return std::abs(got - want) / std::max(1.0, std::abs(want));
}

/// The larger of two errors, NaN if either is NaN.
double worse(double a, double b) {
    return std::isnan(a) || std::isnan(b) ? std::numeric_limits<double>::quiet_NaN()
                                          : std::max(a, b);
}

/// Compares `got` with a {shape, values} entry of the fixture elementwise: one CHECK per
/// tensor whose message names `what` and the first differing elements. Returns the largest
/// relative error (infinity on a shape mismatch, NaN propagates as a failure).
double check_close(const std::string& what, const Tensor& got, const json& want) {
    const Shape want_shape = shape_of(want);
    if (got.shape() != want_shape) {
        FAIL_CHECK(what << ": descent gives shape " << shape_str(got.shape()) << ", PyTorch shape "
                        << shape_str(want_shape));
        return std::numeric_limits<double>::infinity();
    }
    const auto expected = want.at("values").get<std::vector<double>>();
    const std::vector<double> actual = got.to_vector();
    if (actual.size() != expected.size()) {
        FAIL_CHECK(what << ": " << actual.size() << " values, the fixture has " << expected.size());
        return std::numeric_limits<double>::infinity();
    }
    double worst = 0.0;
    std::int64_t bad = 0;
    std::ostringstream report;
    report << std::setprecision(17);
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const double err = relative_error(actual[i], expected[i]);
        if (!(err <= kTolerance)) {  // also catches NaN
            if (++bad <= 5) {
                report << "\n  element " << i << " "
                       << index_str(static_cast<std::int64_t>(i), want_shape) << ": descent "
                       << actual[i] << ", PyTorch " << expected[i] << ", relative error " << err;
            }
        }
        worst = worse(worst, err);
    }
    if (bad > 5) report << "\n  ... " << bad << " differing elements in all";
    INFO(what << ": " << bad << " of " << actual.size()
              << " elements differ by more than the tolerance" << report.str());
    CHECK(bad == 0);
    return worst;
}

struct WorstErrors {
    double value = 0.0, grad = 0.0, hvp = 0.0;
};

/// Evaluates one expression and compares value, gradients and (if recorded) the HVP.
void check_expression(const json& entry, const Expression& fn, WorstErrors& worst) {
    const auto name = entry.at("name").get<std::string>();

    // Fresh leaves for each forward pass (first derivatives, then the HVP): they share nothing.
    std::vector<std::string> diff_names;
    const auto build = [&](Inputs& inputs, std::vector<Tensor>& diff) {
        diff_names.clear();
        for (const auto& spec : entry.at("inputs")) {
            const auto input_name = spec.at("name").get<std::string>();
            Tensor t = make_input(spec);
            if (t.requires_grad()) {
                diff_names.push_back(input_name);
                diff.push_back(t);
            }
            inputs.add(input_name, t);
        }
    };

    // Value and first derivatives: grad(output, inputs, grad_outputs = {w}).
    {
        Inputs inputs;
        std::vector<Tensor> diff;
        build(inputs, diff);
        const Tensor out = fn(inputs);
        if (out.dtype() != float64) {
            FAIL_CHECK(name << ": the output is " << dtype_name(out.dtype()) << ", not float64");
            return;
        }
        worst.value = worse(worst.value, check_close(name + ": value", out, entry.at("output")));

        const Tensor w = float_tensor(entry.at("weight"));
        const std::vector<Tensor> grads = grad({out}, diff, {w});
        const json& want = entry.at("grads");
        if (grads.size() != diff.size() || want.size() != diff.size()) {
            FAIL_CHECK(name << ": " << diff.size() << " float64 inputs, " << grads.size()
                            << " gradients from descent, " << want.size() << " in the fixture");
            return;
        }
        for (std::size_t i = 0; i < diff.size(); ++i) {
            worst.grad = worse(worst.grad, check_close(name + ": gradient of " + diff_names[i],
                                                       grads[i], want.at(diff_names[i])));
        }
    }

    // Hessian-vector product: d/dx[(dΣ(out·w)/dx)·v] with the first gradient recorded.
    if (!entry.contains("hvp")) return;
    Inputs inputs;
    std::vector<Tensor> diff;
    build(inputs, diff);
    const Tensor out = fn(inputs);
    const Tensor w = float_tensor(entry.at("weight"));
    const std::vector<Tensor> grads = grad({out}, diff, {w}, {.create_graph = true});
    const json& hvp = entry.at("hvp");
    Tensor dot;
    for (std::size_t i = 0; i < diff.size(); ++i) {
        const Tensor term = sum(grads[i] * float_tensor(hvp.at("v").at(diff_names[i])));
        dot = dot.defined() ? dot + term : term;
    }
    if (!dot.requires_grad()) {
        FAIL_CHECK(name << ": the gradient does not depend on the inputs (no graph for the HVP)");
        return;
    }
    const std::vector<Tensor> hvps = grad({dot}, diff, {}, {.allow_unused = true});
    for (std::size_t i = 0; i < diff.size(); ++i) {
        // An input the gradient does not depend on has a zero HVP (torch: None → zeros).
        const Tensor h = hvps[i].defined() ? hvps[i] : zeros_like(diff[i]);
        worst.hvp =
            worse(worst.hvp, check_close(name + ": Hessian-vector product for " + diff_names[i], h,
                                         hvp.at("result").at(diff_names[i])));
    }
}

}  // namespace

TEST_CASE("descent agrees with PyTorch on composed expressions", "[fixtures]") {
    const json doc = load_fixtures();
    REQUIRE(doc.at("dtype") == "float64");
    const json& entries = doc.at("expressions");
    REQUIRE(!entries.empty());
    const auto& table = expression_table();

    // Both lists must name the same expressions.
    std::set<std::string> in_json;
    for (const auto& entry : entries) {
        const auto name = entry.at("name").get<std::string>();
        if (!in_json.insert(name).second) {
            FAIL_CHECK("expression '" << name << "' appears twice in the fixture file");
        }
        if (!table.contains(name)) {
            FAIL_CHECK("expression '" << name
                                      << "' is in autograd_expressions.json but has no C++ "
                                         "lambda in expression_table()");
        }
    }
    for (const auto& [name, fn] : table) {
        if (!in_json.contains(name)) {
            FAIL_CHECK("expression '" << name
                                      << "' is in expression_table() but not in "
                                         "autograd_expressions.json (rerun "
                                         "tools/make_autograd_fixtures.py?)");
        }
    }

    WorstErrors worst;
    int hvp_count = 0;
    for (const auto& entry : entries) {
        const auto name = entry.at("name").get<std::string>();
        const auto found = table.find(name);
        if (found == table.end()) continue;  // reported above
        INFO("expression '" << name << "': " << entry.value("description", ""));
        hvp_count += entry.contains("hvp") ? 1 : 0;
        try {
            check_expression(entry, found->second, worst);
        } catch (const std::exception& e) {
            FAIL_CHECK("expression '" << name << "' threw: " << e.what());
        }
    }
    std::cout << std::setprecision(3) << "[fixtures] " << entries.size() << " expressions, "
              << hvp_count << " Hessian-vector products; worst relative error: values "
              << worst.value << ", gradients " << worst.grad << ", HVPs " << worst.hvp
              << " (tolerance " << kTolerance << ")\n";
}
