#include "descent/optim/noise.hpp"

#include <cmath>

#include "descent/check.hpp"

namespace descent::optim {

GradientNoise::GradientNoise(GradientNoiseOptions options)
    : options_(options), generator_(options.seed) {
    check_option(options.eta, at_least(0), "GradientNoise", "eta");
    check_option(options.gamma, at_least(0), "GradientNoise", "gamma");
}

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
