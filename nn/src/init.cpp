#include "descent/nn/init.hpp"
#include "descent/eigen.hpp"

#include <fmt/format.h>

#include <Eigen/QR>
#include <cmath>
#include <limits>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/random.hpp"

namespace descent::nn::init {
namespace {
/// Fills t (float32 or float64) from draw(), element by element, without recording.
template <class Draw>
Tensor& fill(Tensor& t, std::string_view op, Draw draw) {
    const NoGradGuard no_grad;
    if (t.dtype() == Dtype::float64) {
        for (auto& v : t.mutable_map<double>()) v = draw();
    } else if (t.dtype() == Dtype::float32) {
        for (auto& v : t.mutable_map<float>()) v = static_cast<float>(draw());
    } else {
        throw DtypeError(fmt::format("{}: expected a float32/float64 tensor, got {}", op,
                                     dtype_name(t.dtype())));
    }
    return t;
}

std::int64_t fan(const Tensor& t, FanMode mode) {
    const auto [in, out] = fans(t);
    return mode == FanMode::fan_in ? in : out;
}
}  // namespace

double calculate_gain(std::string_view nonlinearity, double param) {
    check_option(param, finite(), "calculate_gain", "param");
    if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity.starts_with("conv")) {
        return 1.0;
    }
    if (nonlinearity == "tanh") return 5.0 / 3.0;
    if (nonlinearity == "relu") return std::sqrt(2.0);
    if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
    if (nonlinearity == "selu") return 3.0 / 4.0;
    throw Error(fmt::format("calculate_gain: unknown nonlinearity '{}'", nonlinearity));
}

std::pair<std::int64_t, std::int64_t> fans(const Tensor& t) {
    if (t.dim() < 2) {
        throw ShapeError(fmt::format("init: fan in and fan out need ≥ 2 dims, got shape {}",
                                     shape_str(t.shape())));
    }
    std::int64_t receptive = 1;
    for (std::int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
    return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double low, double high) {
    check_option(low, finite(), "uniform_", "low");
    check_option(high, closed(low, std::numeric_limits<double>::max()), "uniform_", "high");
    check_option(high - low, finite(), "uniform_", "high - low");
    return fill(t, "uniform_", [&] { return low + (high - low) * global_generator().uniform(); });
}

Tensor& normal_(Tensor& t, double mean, double std) {
    check_option(mean, finite(), "normal_", "mean");
    check_option(std, at_least(0), "normal_", "std");
    return fill(t, "normal_", [&] { return mean + std * global_generator().normal(); });
}

Tensor& constant_(Tensor& t, double value) {
    return fill(t, "constant_", [&] { return value; });
}
Tensor& zeros_(Tensor& t) {
    return constant_(t, 0.0);
}
Tensor& ones_(Tensor& t) {
    return constant_(t, 1.0);
}

Tensor& xavier_uniform_(Tensor& t, double gain) {
    check_option(gain, finite(), "xavier", "gain");
    if (t.defined() && t.numel() == 0) return t;  // a no-op, as in torch (and no fan to divide by)
    const auto [in, out] = fans(t);
    const double a = gain * std::sqrt(6.0 / static_cast<double>(in + out));
    return uniform_(t, -a, a);
}

Tensor& xavier_normal_(Tensor& t, double gain) {
    check_option(gain, finite(), "xavier", "gain");
    if (t.defined() && t.numel() == 0) return t;  // a no-op, as in torch (and no fan to divide by)
    const auto [in, out] = fans(t);
    return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)));
}

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, std::string_view nonlinearity) {
    check_option(a, finite(), "kaiming", "a");
    if (t.defined() && t.numel() == 0) return t;
    const double gain = calculate_gain(nonlinearity, a);
    const double bound = gain * std::sqrt(3.0 / static_cast<double>(fan(t, mode)));
    return uniform_(t, -bound, bound);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, std::string_view nonlinearity) {
    check_option(a, finite(), "kaiming", "a");
    if (t.defined() && t.numel() == 0) return t;
    const double gain = calculate_gain(nonlinearity, a);
    return normal_(t, 0.0, gain / std::sqrt(static_cast<double>(fan(t, mode))));
}

Tensor& orthogonal_(Tensor& t, double gain) {
    if (t.dim() < 2) {
        throw ShapeError(
            fmt::format("orthogonal_: needs ≥ 2 dims, got shape {}", shape_str(t.shape())));
    }
    check_option(gain, finite(), "orthogonal_", "gain");
    if (t.numel() == 0) return t;  // a no-op, as in torch (and no rows to divide by)
    const std::int64_t rows = t.size(0), cols = t.numel() / rows;
    Eigen::MatrixXd flat(rows, cols);
    for (Eigen::Index i = 0; i < flat.size(); ++i) flat.data()[i] = global_generator().normal();
    const bool tall = rows < cols;  // decompose the tall orientation, transpose back
    Eigen::MatrixXd m = tall ? Eigen::MatrixXd(flat.transpose()) : flat;
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
    Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(m.rows(), m.cols());
    const Eigen::VectorXd diag = qr.matrixQR().diagonal();
    for (Eigen::Index j = 0; j < q.cols(); ++j) {  // sign fix: make the decomposition unique
        if (diag(j) < 0) q.col(j) *= -1.0;
    }
    if (tall) q.transposeInPlace();
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> result = q * gain;
    Eigen::Index k = 0;
    return fill(t, "orthogonal_", [&] { return result.data()[k++]; });
}

}  // namespace descent::nn::init
