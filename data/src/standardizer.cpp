#include "descent/data/standardizer.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/state_reader.hpp"

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

StateDict Standardizer::state_dict() const {
    StateDict out;
    out.texts["config"] = "Standardizer";
    if (fitted()) {
        out.emplace_back("mean", mean_.clone());
        out.emplace_back("std", std_.clone());
    }
    return out;
}

StagedLoad Standardizer::stage_load(const StateDict& state) {
    StateReader in(state, "Standardizer.load_state_dict");
    in.expect_config("Standardizer");
    if (state.empty()) {
        return [this] { mean_ = std_ = Tensor{}; };
    }
    const auto given = state.find("mean");
    if (given == state.end() || !given->second.defined() || given->second.dim() != 1 ||
        !is_floating(given->second.dtype())) {
        throw Error(
            fmt::format("{}: needs 'mean' and 'std', 1-D floating tensors of one shape; "
                        "'mean' is {}",
                        in.op(), given == state.end() ? "missing" : describe(given->second)));
    }
    const Tensor& like = given->second;
    Tensor mean = in.floats("mean", like.shape(), like.dtype());
    Tensor sd = in.floats("std", like.shape(), like.dtype(), above(0));
    in.reject_unread();
    return [this, mean = std::move(mean), sd = std::move(sd)] {
        mean_ = mean;
        std_ = sd;
    };
}

}  // namespace descent::data
