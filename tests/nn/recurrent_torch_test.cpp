// Recurrent layers and cells against PyTorch (tools/make_recurrent_fixtures.py writes
// tests/fixtures/nn/recurrent.safetensors): each torch module's state_dict loads into the
// descent module of the same constructor key for key, and the outputs, the gradients of a
// weighted sum of them through time (parameters, input, initial state) and a second-order
// quantity (the gradient of ‖dL/dX‖²) match torch's. Tolerance 1e-12 relative to each tensor's
// largest magnitude for values and gradients, 1e-11 for the second order: float64 on both sides,
// differing in summation order only, compounded over up to 24 steps.

#include <algorithm>
#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <functional>
#include <map>
#include <memory>

#include "torch_fixture.hpp"

namespace dc = descent;
namespace nn = descent::nn;

namespace {
using descent::testing::check_close;
using Outputs = std::map<std::string, dc::Tensor>;

const descent::testing::TorchFixture& fixture() {
    static const descent::testing::TorchFixture f("nn/recurrent.safetensors");
    return f;
}

Outputs outputs(const nn::RecurrentOutput& o) {
    return {{"output", o.output}, {"h_n", o.h_n}};
}
Outputs outputs(const nn::LSTMOutput& o) {
    return {{"output", o.output}, {"h_n", o.state.h}, {"c_n", o.state.c}};
}
Outputs outputs(const nn::LSTMState& s) {
    return {{"h", s.h}, {"c", s.c}};
}
Outputs outputs(const dc::Tensor& h) {
    return {{"h", h}};
}

/// A module of the case and what runs it on (input, h0, c0).
struct Case {
    std::shared_ptr<nn::Module> module;
    std::function<Outputs(const dc::Tensor&, const dc::Tensor&, const dc::Tensor&)> run;
};

template <class M, class... Args>
Case layer(Args&&... args) {
    auto m = std::make_shared<M>(std::forward<Args>(args)...);
    return {m, [m](const dc::Tensor& x, const dc::Tensor& h0, const dc::Tensor& c0) {
                if constexpr (std::is_same_v<M, nn::LSTM> || std::is_same_v<M, nn::LSTMCell>) {
                    return outputs(m->forward(x, {h0, c0}));
                } else {
                    return outputs(m->forward(x, h0));
                }
            }};
}

/// The descent module of each fixture case, built from the same constructor arguments.
const std::map<std::string, std::function<Case()>>& cases() {
    using nn::Nonlinearity;
    static const std::map<std::string, std::function<Case()>> table = {
        {"rnn_tanh", [] { return layer<nn::RNN>(3, 5); }},
        {"rnn_relu_deep",
         [] {
             return layer<nn::RNN>(3, 4,
                                   nn::RNNOptions{.num_layers = 2,
                                                  .nonlinearity = Nonlinearity::relu,
                                                  .batch_first = true,
                                                  .bidirectional = true});
         }},
        {"rnn_unbatched", [] { return layer<nn::RNN>(2, 3, nn::RNNOptions{.bias = false}); }},
        {"lstm", [] { return layer<nn::LSTM>(3, 5); }},
        {"lstm_long", [] { return layer<nn::LSTM>(2, 4); }},
        {"lstm_deep_bidirectional",
         [] {
             return layer<nn::LSTM>(4, 3, nn::LSTMOptions{.num_layers = 2, .bidirectional = true});
         }},
        {"lstm_proj",
         [] {
             return layer<nn::LSTM>(
                 3, 6, nn::LSTMOptions{.num_layers = 2, .batch_first = true, .proj_size = 2});
         }},
        {"lstm_proj_bidirectional",
         [] {
             return layer<nn::LSTM>(3, 4, nn::LSTMOptions{.bidirectional = true, .proj_size = 3});
         }},
        {"lstm_unbatched", [] { return layer<nn::LSTM>(3, 4, nn::LSTMOptions{.bias = false}); }},
        {"gru", [] { return layer<nn::GRU>(3, 5); }},
        {"gru_deep_bidirectional",
         [] {
             return layer<nn::GRU>(
                 2, 3, nn::GRUOptions{.num_layers = 3, .batch_first = true, .bidirectional = true});
         }},
        {"gru_unbatched", [] { return layer<nn::GRU>(3, 4); }},
        {"rnn_cell", [] { return layer<nn::RNNCell>(3, 4); }},
        {"rnn_cell_relu", [] { return layer<nn::RNNCell>(3, 4, true, Nonlinearity::relu); }},
        {"lstm_cell", [] { return layer<nn::LSTMCell>(3, 4); }},
        {"lstm_cell_unbatched", [] { return layer<nn::LSTMCell>(3, 2, false); }},
        {"gru_cell", [] { return layer<nn::GRUCell>(3, 4); }},
        {"gru_cell_no_state", [] { return layer<nn::GRUCell>(2, 5, false); }},
    };
    return table;
}

dc::Tensor input_of(const std::string& key) {
    return fixture().has(key) ? fixture().at(key).detach().clone().requires_grad_() : dc::Tensor{};
}
}  // namespace

TEST_CASE("recurrent layers: every fixture case has a descent module", "[nn][recurrent][interop]") {
    for (const auto& [key, t] : fixture().all()) {
        INFO(key);
        CHECK(cases().count(key.substr(0, key.find('.'))) == 1);
    }
}

TEST_CASE(
    "recurrent layers: torch state_dicts load; outputs, BPTT gradients and second "
    "derivatives match torch",
    "[nn][recurrent][interop]") {
    for (const auto& [name, make] : cases()) {
        INFO(name);
        Case c = make();
        c.module->to(dc::float64);
        c.module->load_state_dict(fixture().group(name, "state"));  // strict: torch's keys
        const dc::Tensor x = input_of(name + ".input");
        const dc::Tensor h0 = input_of(name + ".h0");
        const dc::Tensor c0 = input_of(name + ".c0");
        const Outputs outs = c.run(x, h0, c0);

        dc::Tensor loss = dc::zeros({}, {.dtype = dc::float64});
        for (const auto& [k, w] : fixture().group(name, "w")) {
            check_close(outs.at(k), fixture().at(name + ".out." + k), "out." + k);
            loss = loss + (outs.at(k) * w).sum();
        }
        std::vector<std::string> names;
        std::vector<dc::Tensor> wrt;
        for (const auto& [n, p] : c.module->named_parameters()) {
            names.push_back(n);
            wrt.push_back(p);
        }
        for (const auto& [n, t] : {std::pair{"input", x}, {"h0", h0}, {"c0", c0}}) {
            if (!t.defined()) continue;
            names.emplace_back(n);
            wrt.push_back(t);
        }
        // first through the layers' own backward, then through the composed steps that a
        // differentiable backward (create_graph) runs
        const auto direct = dc::grad({loss}, wrt, {}, {.retain_graph = true});
        const auto grads = dc::grad({loss}, wrt, {}, {.create_graph = true});
        for (std::size_t i = 0; i < wrt.size(); ++i) {
            const dc::Tensor& expected = fixture().at(name + ".grad." + names[i]);
            check_close(direct[i], expected, "grad." + names[i]);
            check_close(grads[i], expected, "grad." + names[i] + " (create_graph)");
        }
        const auto input_at = std::find(names.begin(), names.end(), "input") - names.begin();
        const dc::Tensor second = dc::square(grads[static_cast<std::size_t>(input_at)]).sum();
        const auto ggs = dc::grad({second}, wrt, {}, {.allow_unused = true});
        for (std::size_t i = 0; i < wrt.size(); ++i) {
            const dc::Tensor g = ggs[i].defined() ? ggs[i] : dc::zeros_like(wrt[i]);
            check_close(g, fixture().at(name + ".gg." + names[i]), "gg." + names[i], 1e-11);
        }
    }
}
