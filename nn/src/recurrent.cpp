#include "descent/nn/recurrent.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/check.hpp"
#include "descent/nn/functional.hpp"
#include "descent/nn/init.hpp"
#include "descent/ops.hpp"
#include "recurrent_checks.hpp"
#include "recurrent_scan.hpp"

namespace descent::nn {

RecurrentLayer::RecurrentLayer(std::string_view name, std::int64_t input_size,
                               std::int64_t hidden_size, Config config)
    : name_(name),
      input_size_(check_count(input_size, 1, name, "input_size")),
      hidden_size_(check_count(hidden_size, 1, name, "hidden_size")),
      num_layers_(check_count(config.num_layers, 1, name, "num_layers")),
      directions_(config.bidirectional ? 2 : 1),
      output_size_(config.proj_size > 0 ? config.proj_size : hidden_size),
      config_(config) {
    check_option(config.dropout, closed(0.0, 1.0), name, "dropout");
    check_count(config.proj_size, 0, name, "proj_size");
    if (config.proj_size >= hidden_size) {
        throw Error(fmt::format("{}: proj_size ({}) must be smaller than hidden_size ({})", name,
                                config.proj_size, hidden_size));
    }
    const std::int64_t gates = config.kind == Kind::lstm ? 4 : config.kind == Kind::gru ? 3 : 1;
    const std::int64_t rows = detail::checked_gate_rows(gates, hidden_size, name);
    const std::int64_t upper_input = detail::checked_gate_rows(directions_, output_size_, name);
    for (std::int64_t layer = 0; layer < num_layers_; ++layer) {
        for (std::int64_t direction = 0; direction < directions_; ++direction) {
            const std::string suffix =
                fmt::format("_l{}{}", layer, direction == 1 ? "_reverse" : "");
            const std::int64_t in = layer == 0 ? input_size : upper_input;
            Direction d{&register_parameter("weight_ih" + suffix, zeros({rows, in})),
                        &register_parameter("weight_hh" + suffix, zeros({rows, output_size_}))};
            if (config.bias) {
                d.bias_ih = &register_parameter("bias_ih" + suffix, zeros({rows}));
                d.bias_hh = &register_parameter("bias_hh" + suffix, zeros({rows}));
            }
            if (config.proj_size > 0) {
                d.weight_hr = &register_parameter("weight_hr" + suffix,
                                                  zeros({config.proj_size, hidden_size}));
            }
            directions_by_layer_.push_back(d);
        }
    }
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
    for (Tensor& p : parameters()) init::uniform_(p, -bound, bound);
}

std::string RecurrentLayer::extra_repr() const {
    std::string s = fmt::format("{}, {}", input_size_, hidden_size_);
    if (config_.proj_size != 0) s += fmt::format(", proj_size={}", config_.proj_size);
    if (num_layers_ != 1) s += fmt::format(", num_layers={}", num_layers_);
    if (!config_.bias) s += ", bias=False";
    if (config_.batch_first) s += ", batch_first=True";
    if (config_.dropout != 0.0) s += fmt::format(", dropout={}", config_.dropout);
    if (directions_ == 2) s += ", bidirectional=True";
    return s;
}

Tensor RecurrentLayer::time_major(const Tensor& input) const {
    detail::check_input_dtype(input, *directions_by_layer_[0].weight_ih, name_);
    if ((input.dim() != 2 && input.dim() != 3) || input.size(-1) != input_size_) {
        throw ShapeError(fmt::format("{}: input must be [{}, {}] or, unbatched, [L, {}]; got {}",
                                     name_, config_.batch_first ? "N, L" : "L, N", input_size_,
                                     input_size_, shape_str(input.shape())));
    }
    const bool unbatched = input.dim() == 2;
    const std::int64_t length = input.size(unbatched || !config_.batch_first ? 0 : 1);
    if (length == 0) {
        throw ShapeError(
            fmt::format("{}: the sequence is empty (input {})", name_, shape_str(input.shape())));
    }
    if (unbatched) return input.unsqueeze(1);
    return config_.batch_first ? input.transpose(0, 1) : input;
}

Tensor RecurrentLayer::initial_state(const Tensor& state, const Tensor& input, std::int64_t size,
                                     std::string_view what) const {
    const bool unbatched = input.dim() == 2;
    const std::int64_t batch = unbatched ? 1 : input.size(config_.batch_first ? 0 : 1);
    const std::int64_t count = directions_ * num_layers_;
    if (!state.defined()) return zeros({count, batch, size}, {.dtype = input.dtype()});
    detail::check_input_dtype(state, *directions_by_layer_[0].weight_ih, name_);
    const Shape expected = unbatched ? Shape{count, size} : Shape{count, batch, size};
    if (state.shape() != expected) {
        throw ShapeError(fmt::format("{}: {} must be {} for input {}, got {}", name_, what,
                                     shape_str(expected), shape_str(input.shape()),
                                     shape_str(state.shape())));
    }
    return state.reshape({count, batch, size});
}

std::pair<Tensor, LSTMState> RecurrentLayer::run_direction(const Direction& d, const Tensor& x,
                                                           LSTMState state, bool reverse) const {
    const std::int64_t length = x.size(0);
    const std::int64_t batch = x.size(1);
    // W_ih·x_t + b_ih for every t in one product
    const Tensor all_gates = linear(x.reshape({length * batch, x.size(2)}), *d.weight_ih,
                                    d.bias_ih ? *d.bias_ih : Tensor{})
                                 .reshape({length, batch, d.weight_ih->size(0)});
    const detail::ScanWeights weights{*d.weight_hh, d.bias_hh ? *d.bias_hh : Tensor{},
                                      d.weight_hr ? *d.weight_hr : Tensor{}};
    const detail::CellKind kind = config_.kind == Kind::lstm       ? detail::CellKind::lstm
                                  : config_.kind == Kind::gru      ? detail::CellKind::gru
                                  : config_.kind == Kind::rnn_tanh ? detail::CellKind::rnn_tanh
                                                                   : detail::CellKind::rnn_relu;
    const detail::ScanResult r = detail::recurrent_scan(kind, all_gates, state, weights, reverse);
    const std::int64_t last = reverse ? 0 : length - 1;
    auto at_last = [&](const Tensor& all) {
        return all.slice(0, last, last + 1).reshape({batch, all.size(2)});
    };
    return {r.hs, {at_last(r.hs), r.cs.defined() ? at_last(r.cs) : Tensor{}}};
}

LSTMOutput RecurrentLayer::run(const Tensor& input, const Tensor& h0, const Tensor& c0) {
    Tensor x = time_major(input);
    const bool lstm = config_.kind == Kind::lstm;
    const Tensor h_all = initial_state(h0, input, output_size_, "h0");
    const Tensor c_all = lstm ? initial_state(c0, input, hidden_size_, "c0") : Tensor{};
    const std::int64_t batch = x.size(1);
    auto state_at = [batch](const Tensor& all, std::int64_t i) {
        return all.slice(0, i, i + 1).reshape({batch, all.size(2)});
    };
    std::vector<Tensor> h_n;
    std::vector<Tensor> c_n;
    for (std::int64_t layer = 0; layer < num_layers_; ++layer) {
        std::vector<Tensor> outputs;
        for (std::int64_t direction = 0; direction < directions_; ++direction) {
            const std::int64_t i = layer * directions_ + direction;
            LSTMState start{state_at(h_all, i), lstm ? state_at(c_all, i) : Tensor{}};
            auto [output, last] = run_direction(directions_by_layer_[static_cast<std::size_t>(i)],
                                                x, std::move(start), direction == 1);
            outputs.push_back(std::move(output));
            h_n.push_back(last.h);
            if (lstm) c_n.push_back(last.c);
        }
        x = directions_ == 2 ? concat(outputs, 2) : outputs[0];
        if (config_.dropout > 0 && is_training() && layer + 1 < num_layers_) {
            x = functional::dropout(x, config_.dropout, true);
        }
    }
    LSTMOutput out{x, {stack(h_n, 0), lstm ? stack(c_n, 0) : Tensor{}}};
    if (input.dim() == 2) {
        out.output = out.output.squeeze(1);
        out.state.h = out.state.h.squeeze(1);
        if (lstm) out.state.c = out.state.c.squeeze(1);
    } else if (config_.batch_first) {
        out.output = out.output.transpose(0, 1);
    }
    return out;
}

RNN::RNN(std::int64_t input_size, std::int64_t hidden_size, RNNOptions o)
    : RecurrentLayer("RNN", input_size, hidden_size,
                     {o.nonlinearity == Nonlinearity::tanh ? Kind::rnn_tanh : Kind::rnn_relu,
                      o.num_layers, o.bias, o.batch_first, o.dropout, o.bidirectional, 0}) {}

RecurrentOutput RNN::forward(const Tensor& input, const Tensor& h0) {
    LSTMOutput out = run(input, h0, {});
    return {std::move(out.output), std::move(out.state.h)};
}

LSTM::LSTM(std::int64_t input_size, std::int64_t hidden_size, LSTMOptions o)
    : RecurrentLayer("LSTM", input_size, hidden_size,
                     {Kind::lstm, o.num_layers, o.bias, o.batch_first, o.dropout, o.bidirectional,
                      o.proj_size}) {}

LSTMOutput LSTM::forward(const Tensor& input, const LSTMState& state) {
    if (state.h.defined() != state.c.defined()) {
        throw Error("LSTM: give both h and c of the initial state, or neither");
    }
    return run(input, state.h, state.c);
}

GRU::GRU(std::int64_t input_size, std::int64_t hidden_size, GRUOptions o)
    : RecurrentLayer(
          "GRU", input_size, hidden_size,
          {Kind::gru, o.num_layers, o.bias, o.batch_first, o.dropout, o.bidirectional, 0}) {}

RecurrentOutput GRU::forward(const Tensor& input, const Tensor& h0) {
    LSTMOutput out = run(input, h0, {});
    return {std::move(out.output), std::move(out.state.h)};
}

}  // namespace descent::nn
