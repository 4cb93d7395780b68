#include "descent/optim/noise.hpp"

#include <cmath>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::optim {

GradientNoise::GradientNoise(GradientNoiseOptions options)
    : options_(options), generator_(options.seed) {}

double GradientNoise::sigma(std::int64_t t) const {
    return std::sqrt(options_.eta / std::pow(1.0 + static_cast<double>(t), options_.gamma));
}

void GradientNoise::add_to(const std::vector<Tensor>& params) {
    const double s = sigma(t_++);
    const NoGradGuard no_grad;
    for (const auto& p : params) {
        Tensor g = p.grad();
        if (!g.defined()) continue;
        Tensor noise = zeros_like(g);
        if (g.dtype() == Dtype::float64) {
            for (auto& v : noise.mutable_map<double>()) v = s * generator_.normal();
        } else {
            for (auto& v : noise.mutable_map<float>())
                v = static_cast<float>(s * generator_.normal());
        }
        g.add_(noise);
    }
}

}  // namespace descent::optim
