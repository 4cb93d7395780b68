#pragma once
// Sequential: modules applied one after another; children are named "0", "1", ...
//   descent::nn::Sequential model{Linear(64, 128), ReLU(), Dropout(0.2), Linear(128, 10)};

#include <concepts>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "descent/nn/module.hpp"

namespace descent::nn {

class Sequential : public Module {
  public:
    Sequential() = default;
    template <class... M>
    requires(sizeof...(M) > 0 && (std::derived_from<std::decay_t<M>, Module> && ...) &&
             !(sizeof...(M) == 1 && (std::same_as<std::decay_t<M>, Sequential> &&
                                     ...))) explicit Sequential(M&&... modules) {
        (push_back(std::forward<M>(modules)), ...);
    }

    template <class M>
    requires std::derived_from<std::decay_t<M>, Module> std::decay_t<M>
    &push_back(M&& module) {
        auto& ref = register_module(std::to_string(modules_.size()), std::forward<M>(module));
        modules_.push_back(named_children().back().second);
        return ref;
    }

    Tensor forward(const Tensor& x) override;

    std::size_t size() const { return modules_.size(); }
    /// The i-th module; an IndexError when i ≥ size().
    Module& operator[](std::size_t i) { return *checked(i, "Sequential[]"); }
    /// The i-th module as its own type (an Error if it is not one).
    template <class M>
    M& at(std::size_t i) {
        auto* m = dynamic_cast<M*>(checked(i, "Sequential::at").get());
        if (!m) throw Error("Sequential::at: module " + std::to_string(i) + " has another type");
        return *m;
    }
    auto begin() { return modules_.begin(); }
    auto end() { return modules_.end(); }

  private:
    const std::shared_ptr<Module>& checked(std::size_t i, std::string_view op) const;
    std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace descent::nn
