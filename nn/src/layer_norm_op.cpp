#include "layer_norm_op.hpp"

#include <any>
#include <cmath>
#include <vector>

#include "composed_backward.hpp"
#include "descent/function.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/threads.hpp"
#include "narrow.hpp"

namespace descent::nn::detail {
namespace {

/// Each row's mean and 1/√(σ² + ε), in double.
template <class T>
void row_statistics(const T* x, std::int64_t d, double eps, double& mean, double& invstd) {
    double sum = 0;
    for (std::int64_t j = 0; j < d; ++j) sum += x[j];
    mean = sum / static_cast<double>(d);
    double squares = 0;
    for (std::int64_t j = 0; j < d; ++j) squares += (x[j] - mean) * (x[j] - mean);
    invstd = 1.0 / std::sqrt(squares / static_cast<double>(d) + eps);
}

template <class T>
Tensor forward_typed(const Tensor& x, std::int64_t d, const Tensor& weight, const Tensor& bias,
                     double eps) {
    Tensor y = zeros(x.shape(), {.dtype = x.dtype()});
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    const T* w = weight.numel() > 0 ? weight.data<T>() : nullptr;
    const T* b = bias.numel() > 0 ? bias.data<T>() : nullptr;
    parallel_for_elements(x.numel() / d, x.numel(), [&](std::int64_t r) {
        double mean = 0, invstd = 0;
        row_statistics(px + r * d, d, eps, mean, invstd);
        const T m = narrow<T>(mean), s = narrow<T>(invstd);
        const T* xr = px + r * d;
        T* yr = py + r * d;
        for (std::int64_t j = 0; j < d; ++j) {
            const T xhat = (xr[j] - m) * s;
            yr[j] = (w ? xhat * w[j] : xhat) + (b ? b[j] : T(0));
        }
    });
    return y;
}

template <class T>
std::vector<Tensor> backward_typed(const Tensor& dy, const Tensor& x, std::int64_t d,
                                   const Tensor& weight, double eps) {
    const std::int64_t rows = x.numel() / d;
    const auto opts = TensorOptions{.dtype = x.dtype()};
    Tensor dx = zeros(x.shape(), opts);
    const T *px = x.data<T>(), *pg = dy.data<T>();
    const T* w = weight.numel() > 0 ? weight.data<T>() : nullptr;
    T* pdx = dx.mutable_data<T>();
    std::vector<double> means(static_cast<std::size_t>(rows)), invstds(means.size());
    parallel_for_elements(rows, x.numel(), [&](std::int64_t r) {
        const auto i = static_cast<std::size_t>(r);
        row_statistics(px + r * d, d, eps, means[i], invstds[i]);
        const T* xr = px + r * d;
        const T* gr = pg + r * d;
        double sum_g = 0, sum_gx = 0;  // Σ g and Σ g·x̂ over the row, g = dy·w
        for (std::int64_t j = 0; j < d; ++j) {
            const double g = w ? double(gr[j]) * w[j] : double(gr[j]);
            sum_g += g;
            sum_gx += g * (xr[j] - means[i]) * invstds[i];
        }
        const double n = static_cast<double>(d);
        for (std::int64_t j = 0; j < d; ++j) {
            const double g = w ? double(gr[j]) * w[j] : double(gr[j]);
            const double xhat = (xr[j] - means[i]) * invstds[i];
            pdx[r * d + j] = narrow<T>(invstds[i] * (g - sum_g / n - xhat * sum_gx / n));
        }
    });
    // Σ over the rows, in row order
    std::vector<double> dw(static_cast<std::size_t>(d)), db(dw.size());
    for (std::int64_t r = 0; r < rows; ++r) {
        const auto i = static_cast<std::size_t>(r);
        for (std::int64_t j = 0; j < d; ++j) {
            const auto k = static_cast<std::size_t>(j);
            const double g = pg[r * d + j];
            dw[k] += g * (px[r * d + j] - means[i]) * invstds[i];
            db[k] += g;
        }
    }
    Tensor dweight = zeros({d}, opts), dbias = zeros({d}, opts);
    for (std::int64_t j = 0; j < d; ++j) {
        dweight.mutable_data<T>()[j] = narrow<T>(dw[static_cast<std::size_t>(j)]);
        dbias.mutable_data<T>()[j] = narrow<T>(db[static_cast<std::size_t>(j)]);
    }
    return {dx, dweight, dbias};
}

struct LayerNormRows : Function<LayerNormRows> {
    static constexpr const char* name = "layer_norm";

    static Tensor forward(FunctionContext& ctx, const Tensor& x, const Tensor& weight,
                          const Tensor& bias, std::int64_t d, double eps,
                          ComposedLayerNorm composed) {
        ctx.save_for_backward({x, weight, bias});
        ctx.saved_data["row"] = d;
        ctx.saved_data["eps"] = eps;
        ctx.saved_data["composed"] = std::move(composed);
        return x.dtype() == Dtype::float64 ? forward_typed<double>(x, d, weight, bias, eps)
                                           : forward_typed<float>(x, d, weight, bias, eps);
    }

    static std::vector<Tensor> backward(FunctionContext& ctx, const std::vector<Tensor>& grads) {
        const std::vector<Tensor> in = ctx.saved();
        if (is_grad_enabled()) {
            const auto composed = std::any_cast<ComposedLayerNorm>(ctx.saved_data.at("composed"));
            return composed_backward(ctx, in, grads, [&composed](const std::vector<Tensor>& v) {
                return std::vector<Tensor>{composed(v[0], or_undefined(v[1]), or_undefined(v[2]))};
            });
        }
        const auto d = std::any_cast<std::int64_t>(ctx.saved_data.at("row"));
        const double eps = std::any_cast<double>(ctx.saved_data.at("eps"));
        std::vector<Tensor> out = in[0].dtype() == Dtype::float64
                                      ? backward_typed<double>(grads[0], in[0], d, in[1], eps)
                                      : backward_typed<float>(grads[0], in[0], d, in[1], eps);
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (!ctx.needs_input_grad(i) || in[i].numel() == 0) {
                out[i] = Tensor{};
            } else if (i > 0) {
                out[i] = out[i].reshape(in[i].shape());
            }
        }
        return out;
    }
};

}  // namespace

Tensor layer_norm_rows(const Tensor& x, std::int64_t row, const Tensor& weight, const Tensor& bias,
                       double eps, ComposedLayerNorm composed) {
    return LayerNormRows::apply(x, or_empty(weight, x.dtype()), or_empty(bias, x.dtype()), row, eps,
                                std::move(composed));
}

}  // namespace descent::nn::detail
