#include "descent/data/standardizer.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::data {
namespace {
/// "float32 [3,4]", or "an undefined tensor".
std::string describe(const Tensor& x) {
    if (!x.defined()) return "an undefined tensor";
    return fmt::format("{} {}", dtype_name(x.dtype()), shape_str(x.shape()));
}
}  // namespace

Standardizer& Standardizer::fit(const Tensor& x) {
    if (!x.defined() || x.dim() != 2 || x.size(0) < 1 || !is_floating(x.dtype())) {
        throw ShapeError(fmt::format(
            "Standardizer.fit: expected floating [N, F] with N ≥ 1, got {}", describe(x)));
    }
    const NoGradGuard no_grad;
    mean_ = x.mean({0});
    const Tensor sd = sqrt(x.var({0}, false));
    std_ = where(sd > 0.0, sd, ones_like(sd));  // constant features: scale 1
    return *this;
}

Tensor Standardizer::transform(const Tensor& x) const {
    if (!mean_.defined()) throw Error("Standardizer.transform: call fit first");
    if (!x.defined() || x.dim() != 2 || x.size(1) != mean_.size(0) || x.dtype() != mean_.dtype()) {
        throw ShapeError(fmt::format("Standardizer.transform: fitted on {} features of {}, got {}",
                                     mean_.size(0), dtype_name(mean_.dtype()), describe(x)));
    }
    return (x - mean_) / std_;
}

NamedTensors Standardizer::state_dict() const {
    if (!fitted()) return {};
    return {{"mean", mean_.clone()}, {"std", std_.clone()}};
}

void Standardizer::load_state_dict(const NamedTensors& state) {
    if (state.empty()) {
        mean_ = std_ = Tensor{};
        return;
    }
    Tensor mean, sd;
    for (const auto& [name, t] : state) {
        if (name == "mean") {
            mean = t;
        } else if (name == "std") {
            sd = t;
        } else {
            throw Error(fmt::format("Standardizer.load_state_dict: unexpected entry '{}'", name));
        }
    }
    const bool fits = mean.defined() && sd.defined() && mean.dim() == 1 &&
                      mean.shape() == sd.shape() && mean.dtype() == sd.dtype() &&
                      is_floating(mean.dtype());
    if (!fits) {
        throw Error(
            "Standardizer.load_state_dict: needs 'mean' and 'std', 1-D floating tensors of "
            "one shape");
    }
    for (const double v : sd.to_vector()) {
        if (!(v > 0 && std::isfinite(v))) {
            throw Error(
                fmt::format("Standardizer.load_state_dict: std {} is not positive and finite", v));
        }
    }
    mean_ = mean.detach().clone();
    std_ = sd.detach().clone();
}

}  // namespace descent::data
