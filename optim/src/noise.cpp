#include "descent/optim/noise.hpp"

#include <cmath>

#include <fmt/format.h>

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

NamedTensors GradientNoise::state_dict() const {
    NamedTensors out = {{"t", int_tensor({t_}, {})}};
    for (auto& [name, t] : generator_.state_dict()) out.emplace_back("generator." + name, t);
    return out;
}

void GradientNoise::load_state_dict(const NamedTensors& state) {
    std::int64_t t = -1;
    NamedTensors generator;
    for (const auto& [name, value] : state) {
        if (name == "t" && value.defined() && value.dtype() == Dtype::int64 && value.numel() == 1) {
            t = check_count(value.item<std::int64_t>(), 0, "GradientNoise.load_state_dict", "t");
        } else if (name.starts_with("generator.")) {
            generator.emplace_back(name.substr(10), value);
        } else {
            throw Error(fmt::format("GradientNoise.load_state_dict: unexpected entry '{}'", name));
        }
    }
    if (t < 0) throw Error("GradientNoise.load_state_dict: needs the int64 count 't'");
    Generator restored = generator_;
    restored.load_state_dict(generator);
    generator_ = restored;
    t_ = t;
}

}  // namespace descent::optim
