#include "batch_norm_training.hpp"

#include <any>
#include <cmath>
#include <utility>
#include <vector>

#include "composed_backward.hpp"
#include "descent/function.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/threads.hpp"
#include "narrow.hpp"

namespace descent::nn::detail {
namespace {

/// x as N blocks of C channels of S positions.
struct Layout {
    std::int64_t N, C, S;
    std::int64_t values() const { return N * S; }  ///< M, per channel
};

Layout layout_of(const Tensor& x) {
    const std::int64_t n = x.size(0), c = x.size(1);
    return {n, c, n * c == 0 ? 0 : x.numel() / (n * c)};
}

/// (Σ f(x[i], i), Σ g(x[i], i)) over channel c (in double) for the flat indices i of
/// x[n][c][s], in one pass: position s of each sample in lane s mod 8 (the rest of a sample's
/// positions in a ninth), then the lanes in order — a fixed order, and one the compiler
/// vectorises.
template <class T, class F, class G>
std::pair<double, double> channel_sums(const T* x, const Layout& l, std::int64_t c, F&& f, G&& g) {
    constexpr std::int64_t lanes = 8;
    double first[lanes] = {}, second[lanes] = {}, first_rest = 0, second_rest = 0;
    for (std::int64_t n = 0; n < l.N; ++n) {
        const std::int64_t at = (n * l.C + c) * l.S;
        std::int64_t s = 0;
        for (; s + lanes <= l.S; s += lanes) {
            for (std::int64_t j = 0; j < lanes; ++j) {
                first[j] += f(x[at + s + j], at + s + j);
                second[j] += g(x[at + s + j], at + s + j);
            }
        }
        for (; s < l.S; ++s) {
            first_rest += f(x[at + s], at + s);
            second_rest += g(x[at + s], at + s);
        }
    }
    double a = 0, b = 0;
    for (std::int64_t j = 0; j < lanes; ++j) {
        a += first[j];
        b += second[j];
    }
    return {a + first_rest, b + second_rest};
}

/// y = x·scale_c + shift_c, or any per-channel affine map of two inputs: out = a·u + b·v + k.
template <class T>
void per_channel_affine(T* out, const T* u, const T* v, const Layout& l, std::int64_t c, T a, T b,
                        T k) {
    for (std::int64_t n = 0; n < l.N; ++n) {
        const std::int64_t at = (n * l.C + c) * l.S;
        for (std::int64_t s = 0; s < l.S; ++s) out[at + s] = a * u[at + s] + b * v[at + s] + k;
    }
}

template <class T>
Tensor forward_typed(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                     Tensor& mean, Tensor& var) {
    const Layout l = layout_of(x);
    const auto opts = TensorOptions{.dtype = x.dtype()};
    mean = zeros({l.C}, opts);
    var = zeros({l.C}, opts);
    Tensor y = zeros(x.shape(), opts);
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    T* pm = mean.mutable_data<T>();
    T* pv = var.mutable_data<T>();
    const T* w = weight.numel() > 0 ? weight.data<T>() : nullptr;
    const T* b = bias.numel() > 0 ? bias.data<T>() : nullptr;
    const double m = static_cast<double>(l.values());
    parallel_for_elements(l.C, l.N * l.C * l.S, [&](std::int64_t c) {
        // one pass, shifted by one of the channel's values k, so that the sums cancel only as
        // far as k lies from the mean: μ = k + Σ(x − k)/M, σ² = Σ(x − k)²/M − (μ − k)²
        const double k = l.values() > 0 ? double(px[c * l.S]) : 0.0;
        const auto [sum, squares] = channel_sums(
            px, l, c, [k](T v, auto) { return double(v) - k; },
            [k](T v, auto) { return (double(v) - k) * (double(v) - k); });
        const double mu = k + sum / m;
        const double difference = squares / m - (sum / m) * (sum / m);
        const double sigma2 = difference < 0.0 ? 0.0 : difference;  // rounding below 0; NaN stays
        pm[c] = narrow<T>(mu);
        pv[c] = narrow<T>(sigma2);
        const double scale = (w ? double(w[c]) : 1.0) / std::sqrt(sigma2 + eps);
        const double shift = (b ? double(b[c]) : 0.0) - mu * scale;
        per_channel_affine(py, px, px, l, c, narrow<T>(scale), T(0), narrow<T>(shift));
    });
    return y;
}

/// Gradients of (x, weight, bias) from dy, given the saved x, weight, mean, var.
template <class T>
std::vector<Tensor> backward_typed(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                   const Tensor& mean, const Tensor& var, double eps) {
    const Layout l = layout_of(x);
    const auto opts = TensorOptions{.dtype = x.dtype()};
    Tensor dx = zeros(x.shape(), opts);
    Tensor dw = zeros({l.C}, opts), db = zeros({l.C}, opts);
    const T *px = x.data<T>(), *pg = dy.data<T>(), *pm = mean.data<T>(), *pv = var.data<T>();
    const T* w = weight.numel() > 0 ? weight.data<T>() : nullptr;
    T *pdx = dx.mutable_data<T>(), *pdw = dw.mutable_data<T>(), *pdb = db.mutable_data<T>();
    const double m = static_cast<double>(l.values());
    parallel_for_elements(l.C, l.N * l.C * l.S, [&](std::int64_t c) {
        const double mu = pm[c], invstd = 1.0 / std::sqrt(double(pv[c]) + eps);
        const auto [sum_dy, sum_dy_xc] = channel_sums(
            pg, l, c, [](T v, auto) { return double(v); },
            [px, mu](T v, std::int64_t i) { return v * (px[i] - mu); });
        pdw[c] = narrow<T>(sum_dy_xc * invstd);  // Σ dy·x̂
        pdb[c] = narrow<T>(sum_dy);              // Σ dy
        // dx = w·invstd·(dy − Σdy/M − (x − μ)·invstd²·Σdy(x − μ)/M), an affine map of dy and x
        const double wi = (w ? double(w[c]) : 1.0) * invstd;
        const double bx = -wi * invstd * invstd * sum_dy_xc / m;
        const double k = -wi * sum_dy / m - bx * mu;
        per_channel_affine(pdx, pg, px, l, c, narrow<T>(wi), narrow<T>(bx), narrow<T>(k));
    });
    return {dx, dw, db};
}

struct BatchNormTraining : Function<BatchNormTraining> {
    static constexpr const char* name = "batch_norm";

    static Tensor forward(FunctionContext& ctx, const Tensor& x, const Tensor& weight,
                          const Tensor& bias, double eps, ComposedBatchNorm composed,
                          BatchNormResult* result) {
        Tensor mean, var;
        Tensor y = x.dtype() == Dtype::float64
                       ? forward_typed<double>(x, weight, bias, eps, mean, var)
                       : forward_typed<float>(x, weight, bias, eps, mean, var);
        ctx.save_for_backward({x, weight, bias});
        ctx.saved_data["mean"] = mean;
        ctx.saved_data["var"] = var;
        ctx.saved_data["eps"] = eps;
        ctx.saved_data["composed"] = std::move(composed);
        result->mean = mean;
        result->var = var;
        return y;
    }

    static std::vector<Tensor> backward(FunctionContext& ctx, const std::vector<Tensor>& grads) {
        const std::vector<Tensor> in = ctx.saved();
        if (is_grad_enabled()) {
            const auto composed = std::any_cast<ComposedBatchNorm>(ctx.saved_data.at("composed"));
            return composed_backward(ctx, in, grads, [&composed](const std::vector<Tensor>& v) {
                return std::vector<Tensor>{composed(v[0], or_undefined(v[1]), or_undefined(v[2]))};
            });
        }
        const auto& mean = std::any_cast<const Tensor&>(ctx.saved_data.at("mean"));
        const auto& var = std::any_cast<const Tensor&>(ctx.saved_data.at("var"));
        const double eps = std::any_cast<double>(ctx.saved_data.at("eps"));
        std::vector<Tensor> out =
            in[0].dtype() == Dtype::float64
                ? backward_typed<double>(grads[0], in[0], in[1], mean, var, eps)
                : backward_typed<float>(grads[0], in[0], in[1], mean, var, eps);
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!ctx.needs_input_grad(i) || in[i].numel() == 0) out[i] = Tensor{};
        }
        return out;
    }
};

}  // namespace

BatchNormResult batch_norm_training(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                    double eps, ComposedBatchNorm composed) {
    BatchNormResult result;
    result.y = BatchNormTraining::apply(x, or_empty(weight, x.dtype()), or_empty(bias, x.dtype()),
                                        eps, std::move(composed), &result);
    return result;
}

}  // namespace descent::nn::detail
