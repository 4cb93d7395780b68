#pragma once
// The torch reference of the attention tests (tools/make_attention_fixtures.py writes
// tests/fixtures/nn/attention.safetensors) and the one routine that checks a case against it:
// load the case's state_dict into the descent module by name, run the call on the case's inputs
// and masks, and compare the outputs, the gradients of L = Σ out·W with respect to every
// parameter and input, and (for "*_second" cases) the gradients of ‖∂L/∂query‖².
//
// Tolerance: |descent − torch| ≤ 1e-10·max(1, largest |torch| of the tensor), float64 on both
// sides. The two differ only in summation order (matmul, softmax and LayerNorm sums).

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace attention_fixture {

namespace dc = descent;
namespace nn = descent::nn;
using Tensors = std::map<std::string, dc::Tensor>;
/// The call a case records: inputs and masks by name → outputs by name ("output", "weights").
using Call = std::function<Tensors(const Tensors& inputs, const Tensors& masks)>;

inline const Tensors& fixture() {
    static const Tensors f = [] {
        Tensors out;
        for (auto& [key, t] :
             nn::load(std::string(DESCENT_FIXTURE_DIR) + "/nn/attention.safetensors")) {
            out[key] = t;
        }
        return out;
    }();
    return f;
}

/// Every entry "<case>.<group>.<name>" as name → tensor.
inline Tensors group(const std::string& case_name, const std::string& group_name) {
    const std::string prefix = case_name + "." + group_name + ".";
    Tensors out;
    for (const auto& [key, t] : fixture()) {
        if (key.rfind(prefix, 0) == 0) out[key.substr(prefix.size())] = t;
    }
    return out;
}

/// The names of the cases whose name starts with `prefix`.
inline std::vector<std::string> cases_starting(const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& [key, t] : fixture()) {
        const std::string name = key.substr(0, key.find('.'));
        if (name.rfind(prefix, 0) == 0 && (out.empty() || out.back() != name)) {
            out.push_back(name);
        }
    }
    return out;
}

inline void check_close(const dc::Tensor& actual, const dc::Tensor& expected,
                        const std::string& what, double tolerance = 1e-10) {
    INFO(what);
    REQUIRE(actual.defined());
    REQUIRE(actual.shape() == expected.shape());
    REQUIRE(actual.dtype() == dc::float64);
    const auto a = actual.to_vector(), b = expected.to_vector();
    double scale = 1.0, diff = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        scale = std::max(scale, std::abs(b[i]));
        diff = std::max(diff, std::abs(a[i] - b[i]));
    }
    INFO("largest difference " << diff << " at scale " << scale);
    CHECK(diff <= tolerance * scale);
}

/// Checks one fixture case: `module` (may be null for a function) gets the case's state.
inline void check_case(const std::string& case_name, nn::Module* module, const Call& call) {
    INFO("case " << case_name);
    REQUIRE_FALSE(group(case_name, "out").empty());
    std::vector<dc::Tensor> wrt;
    std::vector<std::string> names;
    if (module) {
        module->to(dc::float64);
        dc::StateDict state;
        for (auto& [key, t] : group(case_name, "state")) state.emplace_back(key, t);
        module->load_state_dict(state);  // strict: torch's names, one for one
        for (auto& [key, p] : module->named_parameters()) {
            wrt.push_back(p);
            names.push_back(key);
        }
    }
    Tensors inputs, masks;
    for (auto& [name, t] : group(case_name, "in")) {
        inputs[name] = t.detach().clone();
        inputs[name].requires_grad_();
        wrt.push_back(inputs[name]);
        names.push_back("in." + name);
    }
    for (auto& [name, t] : group(case_name, "mask")) masks[name] = t != 0;
    for (auto& [name, t] : group(case_name, "fmask")) masks[name] = t;

    const Tensors outputs = call(inputs, masks);
    const Tensors expected = group(case_name, "out"), weights = group(case_name, "w");
    REQUIRE(outputs.size() == expected.size());
    dc::Tensor loss = dc::zeros({}, {.dtype = dc::float64});
    for (const auto& [name, out] : outputs) {
        REQUIRE(expected.count(name) == 1);
        check_close(out, expected.at(name), "output " + name);
        loss = loss + (out * weights.at(name)).sum();
    }
    const bool second = case_name.ends_with("_second");
    const std::vector<dc::Tensor> grads =
        dc::grad({loss}, wrt, {.create_graph = second, .allow_unused = true});
    const Tensors expected_grads = group(case_name, "grad");
    REQUIRE(expected_grads.size() == wrt.size());
    for (std::size_t i = 0; i < wrt.size(); ++i) {
        REQUIRE(expected_grads.count(names[i]) == 1);
        check_close(grads[i], expected_grads.at(names[i]), "gradient " + names[i]);
    }
    if (!second) return;
    // ∂‖g‖²/∂(inputs, parameters) for g = ∂L/∂query, through the recorded backward
    const auto q = std::find(names.begin(), names.end(), "in.query") - names.begin();
    const dc::Tensor g = grads[static_cast<std::size_t>(q)];
    const std::vector<dc::Tensor> second_grads =
        dc::grad({(g * g).sum()}, wrt, {.allow_unused = true});
    const Tensors expected_second = group(case_name, "gg");
    for (std::size_t i = 0; i < wrt.size(); ++i) {
        REQUIRE(expected_second.count(names[i]) == 1);
        const dc::Tensor got =
            second_grads[i].defined() ? second_grads[i] : dc::zeros_like(wrt[i]).detach();
        // 1e-9: the second order goes through twice as many sums as the first
        check_close(got, expected_second.at(names[i]), "second order " + names[i], 1e-9);
    }
}

}  // namespace attention_fixture
