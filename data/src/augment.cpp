// RandomTransform and Compose (augment.hpp).

#include <fmt/format.h>

#include "descent/data/augment.hpp"
#include "descent/state_reader.hpp"

namespace descent::data {

RandomTransform::RandomTransform(std::optional<std::uint64_t> seed)
    : generator_(seed ? *seed : global_generator().next_u64()) {}

StateDict RandomTransform::state_dict() const {
    StateDict out;
    out.add_part("generator", generator_.state_dict());
    out.texts["config"] = config();
    return out;
}

StagedLoad RandomTransform::stage_load(const StateDict& state) {
    const std::string config_text = config();  // "RandomCrop(...)": the op is RandomCrop's load
    StateReader in(state, config_text.substr(0, config_text.find('(')) + ".load_state_dict");
    in.expect_config(config_text);
    StagedLoad generator = generator_.stage_load(in.part("generator"));
    in.reject_unread();
    return generator;
}

Compose::Compose(std::vector<std::shared_ptr<Transform>> transforms)
    : transforms_(std::move(transforms)) {
    for (std::size_t i = 0; i < transforms_.size(); ++i) {
        if (!transforms_[i]) throw Error(fmt::format("Compose: transform {} is null", i));
    }
}

Tensor Compose::operator()(const Tensor& batch) {
    Tensor x = batch;
    for (const auto& t : transforms_) x = (*t)(x);
    return x;
}

std::string Compose::config() const {
    std::string inner;
    for (const auto& t : transforms_) inner += (inner.empty() ? "" : ", ") + t->config();
    return "Compose(" + inner + ")";
}

Transform& Compose::operator[](std::int64_t i) const {
    if (i < 0 || i >= size()) {
        throw IndexError(fmt::format("Compose: transform {} is not in [0, {})", i, size()));
    }
    return *transforms_[static_cast<std::size_t>(i)];
}

StateDict Compose::state_dict() const {
    StateDict out;
    for (std::size_t i = 0; i < transforms_.size(); ++i) {
        out.add_part(std::to_string(i), transforms_[i]->state_dict());
    }
    out.texts["config"] = config();
    return out;
}

StagedLoad Compose::stage_load(const StateDict& state) {
    StateReader in(state, "Compose.load_state_dict");
    in.expect_config(config());
    std::vector<StagedLoad> staged;
    for (std::size_t i = 0; i < transforms_.size(); ++i) {
        staged.push_back(transforms_[i]->stage_load(in.part(std::to_string(i))));
    }
    in.reject_unread();
    return [staged = std::move(staged)]() mutable {
        for (StagedLoad& s : staged) s.apply();
    };
}

}  // namespace descent::data
