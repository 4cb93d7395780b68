#include "descent/optim/clip.hpp"

#include <fmt/format.h>

#include <cmath>

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
}  // namespace

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
    // ‖g‖_p = (Σ_tensors ‖g_i‖_p^p)^(1/p), accumulated in double whatever the dtype; inf: max|g|
    const bool inf = std::isinf(norm_type);
    double total = 0.0;
    for (const auto& p : params) {
        const Tensor g = p.grad();
        if (!g.defined()) continue;
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
        for (const auto& p : params) {
            Tensor g = p.grad();
            if (g.defined()) g.mul_(coef);
        }
    }
    return total;
}

void clip_grad_value(const std::vector<Tensor>& params, double clip_value) {
    const NoGradGuard no_grad;
    for (const auto& p : params) {
        Tensor g = p.grad();
        if (g.defined()) g.clamp_(-clip_value, clip_value);
    }
}

}  // namespace descent::optim
