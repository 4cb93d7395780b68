#include "descent/optim/noise.hpp"

#include <cmath>

namespace descent::optim {

GradientNoise::GradientNoise(GradientNoiseOptions options)
    : options_(options), generator_(options.seed) {}

double GradientNoise::sigma(std::int64_t t) const {
    return std::sqrt(options_.eta / std::pow(1.0 + static_cast<double>(t), options_.gamma));
}

void GradientNoise::add_to(const std::vector<Tensor>& params) {
    const double s = sigma(t_++);
    for (const auto& p : params) {
        Tensor g = p.grad();
        if (!g.defined()) continue;
        if (g.dtype() == Dtype::float64) {
            for (auto& v : g.mutable_map<double>()) v += s * generator_.normal();
        } else {
            for (auto& v : g.mutable_map<float>()) v += static_cast<float>(s * generator_.normal());
        }
    }
}

}  // namespace descent::optim
