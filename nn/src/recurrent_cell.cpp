#include "descent/nn/recurrent_cell.hpp"

#include <fmt/format.h>

#include <cmath>

#include "descent/check.hpp"
#include "descent/nn/init.hpp"
#include "descent/ops.hpp"
#include "recurrent_checks.hpp"

namespace descent::nn {

Tensor rnn_step(const Tensor& gates_x, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh, Nonlinearity nonlinearity) {
    const Tensor pre = gates_x + linear(h, weight_hh, bias_hh);
    return nonlinearity == Nonlinearity::tanh ? tanh(pre) : relu(pre);
}

LSTMState lstm_step(const Tensor& gates_x, const LSTMState& state, const Tensor& weight_hh,
                    const Tensor& bias_hh, const Tensor& weight_hr) {
    const std::int64_t hidden = state.c.size(-1);
    const auto gates = split(gates_x + linear(state.h, weight_hh, bias_hh), hidden, -1);
    const Tensor c = sigmoid(gates[1]) * state.c + sigmoid(gates[0]) * tanh(gates[2]);
    const Tensor h = sigmoid(gates[3]) * tanh(c);
    return {weight_hr.defined() ? linear(h, weight_hr) : h, c};
}

Tensor gru_step(const Tensor& gates_x, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh) {
    const std::int64_t hidden = h.size(-1);
    const auto x = split(gates_x, hidden, -1);
    const auto hh = split(linear(h, weight_hh, bias_hh), hidden, -1);
    const Tensor r = sigmoid(x[0] + hh[0]);
    const Tensor z = sigmoid(x[1] + hh[1]);
    const Tensor n = tanh(x[2] + r * hh[2]);
    return n + z * (h - n);  // (1 − z)⊙n + z⊙h
}

RecurrentCell::RecurrentCell(std::string_view name, std::int64_t input_size,
                             std::int64_t hidden_size, bool bias, std::int64_t gates)
    : name_(name),
      input_size_(check_count(input_size, 1, name, "input_size")),
      hidden_size_(check_count(hidden_size, 1, name, "hidden_size")) {
    const std::int64_t rows = detail::checked_gate_rows(gates, hidden_size, name);
    weight_ih_ = &register_parameter("weight_ih", zeros({rows, input_size}));
    weight_hh_ = &register_parameter("weight_hh", zeros({rows, hidden_size}));
    if (bias) {
        bias_ih_ = &register_parameter("bias_ih", zeros({rows}));
        bias_hh_ = &register_parameter("bias_hh", zeros({rows}));
    }
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
    for (Tensor& p : parameters()) init::uniform_(p, -bound, bound);
}

std::string RecurrentCell::extra_repr() const {
    return fmt::format("{}, {}{}", input_size_, hidden_size_, bias_ih_ ? "" : ", bias=False");
}

Tensor RecurrentCell::input_gates(const Tensor& x) const {
    detail::check_input_dtype(x, *weight_ih_, name_);
    if ((x.dim() != 1 && x.dim() != 2) || x.size(-1) != input_size_) {
        throw ShapeError(fmt::format("{}: input must be [N, {}] or [{}], got {}", name_,
                                     input_size_, input_size_, shape_str(x.shape())));
    }
    const Tensor batched = x.dim() == 1 ? x.reshape({1, input_size_}) : x;
    return linear(batched, *weight_ih_, bias_ih_ ? *bias_ih_ : Tensor{});
}

Tensor RecurrentCell::state_for(const Tensor& x, const Tensor& state, std::string_view what) const {
    const std::int64_t batch = x.dim() == 1 ? 1 : x.size(0);
    if (!state.defined()) return zeros({batch, hidden_size_}, {.dtype = x.dtype()});
    detail::check_input_dtype(state, *weight_ih_, name_);
    const Shape expected = x.dim() == 1 ? Shape{hidden_size_} : Shape{batch, hidden_size_};
    if (state.shape() != expected) {
        throw ShapeError(fmt::format("{}: {} must be {} for input {}, got {}", name_, what,
                                     shape_str(expected), shape_str(x.shape()),
                                     shape_str(state.shape())));
    }
    return state.reshape({batch, hidden_size_});
}

RNNCell::RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias,
                 Nonlinearity nonlinearity)
    : RecurrentCell("RNNCell", input_size, hidden_size, bias, 1), nonlinearity_(nonlinearity) {}

Tensor RNNCell::forward(const Tensor& x, const Tensor& h) {
    const Tensor gates = input_gates(x);
    return unbatch_like(
        x, rnn_step(gates, state_for(x, h, "h"), weight_hh(), bias_hh(), nonlinearity_));
}

std::string RNNCell::extra_repr() const {
    return RecurrentCell::extra_repr() +
           (nonlinearity_ == Nonlinearity::relu ? ", nonlinearity=relu" : "");
}

LSTMCell::LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias)
    : RecurrentCell("LSTMCell", input_size, hidden_size, bias, 4) {}

LSTMState LSTMCell::forward(const Tensor& x, const LSTMState& state) {
    if (state.h.defined() != state.c.defined()) {
        throw Error("LSTMCell: give both h and c of the state, or neither");
    }
    const Tensor gates = input_gates(x);
    const LSTMState next = lstm_step(
        gates, {state_for(x, state.h, "h"), state_for(x, state.c, "c")}, weight_hh(), bias_hh());
    return {unbatch_like(x, next.h), unbatch_like(x, next.c)};
}

GRUCell::GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias)
    : RecurrentCell("GRUCell", input_size, hidden_size, bias, 3) {}

Tensor GRUCell::forward(const Tensor& x, const Tensor& h) {
    const Tensor gates = input_gates(x);
    return unbatch_like(x, gru_step(gates, state_for(x, h, "h"), weight_hh(), bias_hh()));
}

}  // namespace descent::nn
