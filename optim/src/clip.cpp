#include "descent/optim/clip.hpp"
#include "descent/eigen.hpp"

#include <fmt/format.h>

#include <cmath>
#include <unordered_set>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::optim {
namespace {
/// ‖g‖_p^p of one gradient (max|g| for p = ∞), in double.
template <class Map>
double norm_part(const Map& g, double p) {
    if (g.size() == 0) return 0.0;
    const auto a = g.template cast<double>().abs();
    if (std::isinf(p)) return a.template maxCoeff<Eigen::PropagateNaN>();
    if (p == 2.0) return a.square().sum();
    return a.pow(p).sum();
}
/// The defined gradients of params, each storage once: a parameter listed twice, or two
/// gradients sharing storage, are counted and scaled once.
std::vector<Tensor> distinct_grads(const std::vector<Tensor>& params) {
    std::vector<Tensor> grads;
    std::unordered_set<const void*> seen;
    for (const auto& p : params) {
        Tensor g = p.grad();
        if (g.defined() && seen.insert(g.raw_data()).second) grads.push_back(std::move(g));
    }
    return grads;
}
}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
    // ‖g‖_p = (Σ_tensors ‖g_i‖_p^p)^(1/p), accumulated in double whatever the dtype; inf: max|g|
    check_option(max_norm, closed(0, descent::inf), "clip_grad_norm", "max_norm");
    check_option(norm_type, {0, descent::inf, true, false}, "clip_grad_norm", "norm_type");
    const bool inf = std::isinf(norm_type);
    const std::vector<Tensor> grads = distinct_grads(params);
    double total = 0.0;
    for (const auto& g : grads) {
        const double part = g.dtype() == Dtype::float64 ? norm_part(g.map<double>(), norm_type)
                                                        : norm_part(g.map<float>(), norm_type);
        total = inf ? (std::isnan(part) ? part : std::max(total, part)) : total + part;
    }
    if (!std::isinf(norm_type)) total = std::pow(total, 1.0 / norm_type);
    if (!std::isfinite(total)) {
        if (error_if_nonfinite) {
            throw Error(fmt::format("clip_grad_norm: the total {}-norm of the gradients is {}",
                                    norm_type, total));
        }
        return total;
    }
    const double coef = max_norm / (total + 1e-6);
    if (coef < 1.0) {
        const NoGradGuard no_grad;
        for (Tensor g : grads) g.mul_(coef);
    }
    return total;
}

void clip_grad_value(const std::vector<Tensor>& params, double clip_value) {
    check_option(clip_value, closed(0, descent::inf), "clip_grad_value", "clip_value");
    const NoGradGuard no_grad;
    for (const auto& p : params) {
        Tensor g = p.grad();
        if (g.defined()) g.clamp_(-clip_value, clip_value);
    }
}

}  // namespace descent::optim
