#include "descent/optim/noise.hpp"
#include "descent/eigen.hpp"

#include <cmath>

#include <fmt/format.h>

#include "descent/check.hpp"
#include "descent/state_reader.hpp"

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

std::string GradientNoise::config() const {
    return describe("GradientNoise", {{"eta", options_.eta}, {"gamma", options_.gamma}});
}

StateDict GradientNoise::state_dict() const {
    StateDict out{{"t", int_tensor({t_}, {})}};
    out.texts["config"] = config();
    out.add_part("generator", generator_.state_dict());
    return out;
}

StagedLoad GradientNoise::stage_load(const StateDict& state) {
    StateReader in(state, "GradientNoise.load_state_dict");
    in.expect_config(config());
    const std::int64_t t = in.count("t");
    StagedLoad generator = generator_.stage_load(in.part("generator"));
    in.reject_unread();
    return [this, t, generator = std::move(generator)]() mutable {
        generator.apply();
        t_ = t;
    };
}

}  // namespace descent::optim
