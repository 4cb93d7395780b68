#include "descent/optim/clip.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::optim {

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm, double norm_type,
                      bool error_if_nonfinite) {
    // ‖g‖_p = (Σ_tensors ‖g_i‖_p^p)^(1/p), accumulated in double whatever the dtype
    double total = 0.0;
    for (const auto& p : params) {
        const Tensor g = p.grad();
        if (!g.defined()) continue;
        const std::vector<double> values = g.to_vector();
        for (const double v : values) {
            const double a = std::abs(v);
            if (std::isinf(norm_type)) {
                total = std::max(total, a);
                if (std::isnan(a)) total = a;
            } else {
                total += std::pow(a, norm_type);
            }
        }
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
