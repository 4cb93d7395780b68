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

/// Σ term(j) for j < n in double, in eight lanes (term j into lane j mod 8, then the lanes in
/// order and the rest): a fixed order, and one the compiler vectorises.
template <class F>
double lane_sum(std::int64_t n, F&& term) {
    constexpr std::int64_t lanes = 8;
    double partial[lanes] = {};
    std::int64_t j = 0;
    for (; j + lanes <= n; j += lanes) {
        for (std::int64_t l = 0; l < lanes; ++l) partial[l] += term(j + l);
    }
    double sum = 0;
    for (const double v : partial) sum += v;
    for (; j < n; ++j) sum += term(j);
    return sum;
}

/// Each row's mean and 1/√(σ² + ε), in double, kept from forward for backward.
struct RowStatistics {
    std::vector<double> mean, invstd;
};

template <class T>
Tensor forward_typed(const Tensor& x, std::int64_t d, const Tensor& weight, const Tensor& bias,
                     double eps, RowStatistics& stats) {
    const std::int64_t rows = x.numel() / d;
    Tensor y = zeros(x.shape(), {.dtype = x.dtype()});
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    const T* w = weight.numel() > 0 ? weight.data<T>() : nullptr;
    const T* b = bias.numel() > 0 ? bias.data<T>() : nullptr;
    stats.mean.assign(static_cast<std::size_t>(rows), 0.0);
    stats.invstd.assign(static_cast<std::size_t>(rows), 0.0);
    parallel_for_elements(rows, x.numel(), [&](std::int64_t r) {
        const T* xr = px + r * d;
        const double mean =
            lane_sum(d, [xr](std::int64_t j) { return double(xr[j]); }) / static_cast<double>(d);
        const double squares = lane_sum(d, [xr, mean](std::int64_t j) {
            const double c = double(xr[j]) - mean;
            return c * c;
        });
        const double invstd = 1.0 / std::sqrt(squares / static_cast<double>(d) + eps);
        stats.mean[static_cast<std::size_t>(r)] = mean;
        stats.invstd[static_cast<std::size_t>(r)] = invstd;
        const T m = narrow<T>(mean), s = narrow<T>(invstd);
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
                                   const Tensor& weight, const RowStatistics& stats) {
    const std::int64_t rows = x.numel() / d;
    Tensor dx = zeros(x.shape(), {.dtype = x.dtype()});
    const T *px = x.data<T>(), *pg = dy.data<T>();
    const T* w = weight.numel() > 0 ? weight.data<T>() : nullptr;
    T* pdx = dx.mutable_data<T>();
    parallel_for_elements(rows, x.numel(), [&](std::int64_t r) {
        const double mean = stats.mean[static_cast<std::size_t>(r)];
        const double invstd = stats.invstd[static_cast<std::size_t>(r)];
        const T* xr = px + r * d;
        const T* gr = pg + r * d;
        const auto g = [gr, w](std::int64_t j) {  // g = dy·w
            return w ? double(gr[j]) * double(w[j]) : double(gr[j]);
        };
        const double n = static_cast<double>(d);
        const double mean_g = lane_sum(d, g) / n;
        const double mean_gx =
            lane_sum(d, [&](std::int64_t j) { return g(j) * (double(xr[j]) - mean); }) * invstd / n;
        for (std::int64_t j = 0; j < d; ++j) {
            const double xhat = (double(xr[j]) - mean) * invstd;
            pdx[r * d + j] = narrow<T>(invstd * (g(j) - mean_g - xhat * mean_gx));
        }
    });
    // Σ over the rows, in row order
    std::vector<double> dw(static_cast<std::size_t>(d)), db(dw.size());
    for (std::int64_t r = 0; r < rows; ++r) {
        const double mean = stats.mean[static_cast<std::size_t>(r)];
        const double invstd = stats.invstd[static_cast<std::size_t>(r)];
        const T* xr = px + r * d;
        const T* gr = pg + r * d;
        for (std::int64_t j = 0; j < d; ++j) {
            const auto k = static_cast<std::size_t>(j);
            dw[k] += double(gr[j]) * ((double(xr[j]) - mean) * invstd);
            db[k] += double(gr[j]);
        }
    }
    Tensor dweight = zeros({d}, {.dtype = x.dtype()}), dbias = zeros({d}, {.dtype = x.dtype()});
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
        ctx.saved_data["composed"] = std::move(composed);
        RowStatistics stats;
        Tensor y = x.dtype() == Dtype::float64
                       ? forward_typed<double>(x, d, weight, bias, eps, stats)
                       : forward_typed<float>(x, d, weight, bias, eps, stats);
        ctx.saved_data["statistics"] = std::move(stats);
        return y;
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
        const auto& stats = *std::any_cast<RowStatistics>(&ctx.saved_data.at("statistics"));
        std::vector<Tensor> out = in[0].dtype() == Dtype::float64
                                      ? backward_typed<double>(grads[0], in[0], d, in[1], stats)
                                      : backward_typed<float>(grads[0], in[0], d, in[1], stats);
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
