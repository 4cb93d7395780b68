#include "descent/optim/lookahead.hpp"

#include <fmt/format.h>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::optim {
namespace {
constexpr std::string_view kInner = "inner.";

std::string slow_key(std::size_t g, std::size_t i) {
    return fmt::format("lookahead.slow.{}.{}", g, i);
}
}  // namespace

Lookahead::Lookahead(Optimizer& inner, LookaheadOptions options)
    : Optimizer("Lookahead"), inner_(inner), options_(options) {
    if (options.k < 1 || options.alpha < 0 || options.alpha > 1) {
        throw Error(fmt::format("Lookahead: k must be ≥ 1 and alpha in [0, 1], got k {} alpha {}",
                                options.k, options.alpha));
    }
    for (const auto& group : inner_.param_groups()) {
        auto& slow = slow_.emplace_back();
        for (const auto& p : group.params) slow.push_back(p.detach().clone());
    }
}

void Lookahead::step() {
    inner_.step();
    if (++steps_ % options_.k != 0) return;
    const NoGradGuard no_grad;
    auto& groups = inner_.param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        for (std::size_t i = 0; i < groups[g].params.size(); ++i) {
            Tensor& fast = groups[g].params[i];
            Tensor& slow = slow_[g][i];
            slow.add_(fast - slow, options_.alpha);  // φ ← φ + α(θ − φ)
            fast.copy_(slow);                        // θ ← φ
        }
    }
}

StateDict Lookahead::state_dict() const {
    StateDict out;
    for (auto& [key, t] : inner_.state_dict()) out[std::string(kInner) + key] = t;
    out["lookahead.steps"] = scalar_tensor(static_cast<double>(steps_), {.dtype = Dtype::int64});
    for (std::size_t g = 0; g < slow_.size(); ++g) {
        for (std::size_t i = 0; i < slow_[g].size(); ++i) out[slow_key(g, i)] = slow_[g][i].clone();
    }
    return out;
}

void Lookahead::load_state_dict(const StateDict& in) {
    StateDict inner;
    for (const auto& [key, t] : in) {
        if (key.starts_with(kInner)) inner[key.substr(kInner.size())] = t;
    }
    std::vector<std::vector<Tensor>> slow = slow_;
    for (std::size_t g = 0; g < slow.size(); ++g) {
        for (std::size_t i = 0; i < slow[g].size(); ++i) {
            const auto it = in.find(slow_key(g, i));
            if (it == in.end())
                throw Error("Lookahead.load_state_dict: no entry " + slow_key(g, i));
            if (it->second.shape() != slow[g][i].shape() ||
                it->second.dtype() != slow[g][i].dtype()) {
                throw Error(fmt::format(
                    "Lookahead.load_state_dict: {} has shape {}, the "
                    "parameter {}",
                    slow_key(g, i), shape_str(it->second.shape()), shape_str(slow[g][i].shape())));
            }
            slow[g][i] = it->second.detach().clone();
        }
    }
    const auto steps = in.find("lookahead.steps");
    if (steps == in.end()) throw Error("Lookahead.load_state_dict: no entry lookahead.steps");
    inner_.load_state_dict(inner);
    slow_ = std::move(slow);
    steps_ = steps->second.item<std::int64_t>();
}

}  // namespace descent::optim
