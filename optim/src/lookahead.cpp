#include "descent/optim/lookahead.hpp"

#include <fmt/format.h>

#include <unordered_map>

#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

namespace descent::optim {
namespace {
constexpr std::string_view kInner = "inner";

std::string slow_key(std::size_t g, std::size_t i) {
    return fmt::format("lookahead.slow.{}.{}", g, i);
}
}  // namespace

Lookahead::Lookahead(Optimizer& inner, LookaheadOptions options)
    : Optimizer("Lookahead"),
      inner_(inner, "Lookahead", "the optimizer it wraps"),
      options_(options) {
    check_count(options.k, 1, "Lookahead", "k");
    check_option(options.alpha, closed(0, 1), "Lookahead", "alpha");
    sync_slow();
}

std::string Lookahead::config() const {
    return describe("Lookahead", {{"k", options_.k}, {"alpha", options_.alpha}});
}

void Lookahead::sync_slow() const {
    const auto& groups = inner_.get().param_groups();
    std::size_t n = 0;
    bool same = true;
    for (const auto& group : groups) {
        for (const auto& p : group.params)
            same = same && n < slow_.size() && slow_[n++].first.is_same(p);
    }
    if (same && n == slow_.size()) return;
    std::unordered_map<const TensorImpl*, Tensor> previous;
    for (auto& [fast, slow] : slow_) previous.emplace(fast.impl().get(), std::move(slow));
    const NoGradGuard no_grad;
    std::vector<std::pair<Tensor, Tensor>> slow;
    for (const auto& group : groups) {
        for (const auto& p : group.params) {
            if (!p.defined())
                throw Error("Lookahead: the inner optimizer holds an undefined tensor");
            const auto it = previous.find(p.impl().get());
            slow.emplace_back(p, it != previous.end() ? std::move(it->second) : p.detach().clone());
        }
    }
    slow_ = std::move(slow);
}

Tensor Lookahead::step(const Closure& closure) {
    Optimizer& inner = inner_.get();
    sync_slow();
    Tensor loss = inner.step(closure);
    if (++steps_ % options_.k != 0) return loss;
    const NoGradGuard no_grad;
    for (auto& [fast, slow] : slow_) {
        if (slow.dtype() != fast.dtype()) slow = slow.to(fast.dtype());  // after Module::to
        slow.add_(fast - slow, options_.alpha);  // φ ← φ + α(θ − φ)
        fast.copy_(slow);                        // θ ← φ
    }
    return loss;
}

StateDict Lookahead::state_dict() const {
    sync_slow();  // slow weights for parameters added since the last step
    StateDict out;
    out.texts["config"] = config();
    out.add_part(kInner, inner_.get().state_dict());
    out.emplace_back("lookahead.steps", int_tensor({steps_}, {}));
    std::size_t n = 0;
    const auto& groups = inner_.get().param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        for (std::size_t i = 0; i < groups[g].params.size(); ++i) {
            out.emplace_back(slow_key(g, i), slow_[n++].second.clone());
        }
    }
    return out;
}

StagedLoad Lookahead::stage_load(const StateDict& state) {
    sync_slow();
    StateReader in(state, "Lookahead.load_state_dict");
    in.expect_config(config());
    const std::int64_t steps = in.count("lookahead.steps");
    std::vector<Tensor> slow;
    const auto& groups = inner_.get().param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        for (std::size_t i = 0; i < groups[g].params.size(); ++i) {
            const Tensor& p = groups[g].params[i];
            slow.push_back(in.floats(slow_key(g, i), p.shape(), p.dtype()));
        }
    }
    StagedLoad inner = inner_.get().stage_load(in.part(kInner));
    in.reject_unread();
    return [this, steps, slow = std::move(slow), inner = std::move(inner)]() mutable {
        inner.apply();
        steps_ = steps;
        for (std::size_t n = 0; n < slow.size(); ++n) slow_[n].second = std::move(slow[n]);
    };
}

}  // namespace descent::optim
