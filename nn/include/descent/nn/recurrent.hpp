#pragma once
// Recurrent layers with torch's names, arguments, defaults, parameter names and layouts
// (torch.nn.RNN, LSTM, GRU), so a torch state_dict maps onto them key for key: per layer k and
// direction ("" or "_reverse") weight_ih_l{k} [G·H, in_k], weight_hh_l{k} [G·H, H_out],
// bias_ih_l{k}, bias_hh_l{k} [G·H] and, for an LSTM with proj_size, weight_hr_l{k} [proj, H].
// in_0 = input_size, in_k = D·H_out above (D = 2 when bidirectional); H_out = proj_size or H.
// Each layer runs the cell steps of recurrent_cell.hpp over the sequence, composed from
// differentiable ops, so backpropagation through time and double backward are exact.
//
//   nn::LSTM lstm(10, 20, {.num_layers = 2});
//   auto [output, state] = lstm(x);           // x [L, N, 10] → output [L, N, 20]
//   auto [h, c] = state;                      // h, c [2, N, 20]
//   auto [out2, state2] = lstm(x2, state);    // continue from the last state

#include <cstdint>
#include <string>
#include <vector>

#include "descent/nn/recurrent_cell.hpp"

namespace descent::nn {

/// torch.nn.RNN's keyword arguments.
struct RNNOptions {
    std::int64_t num_layers = 1;
    Nonlinearity nonlinearity = Nonlinearity::tanh;
    bool bias = true;
    bool batch_first = false;  ///< input and output [N, L, features] instead of [L, N, ...]
    double dropout = 0.0;      ///< on each layer's output but the last's, in training
    bool bidirectional = false;
};
/// torch.nn.GRU's keyword arguments.
struct GRUOptions {
    std::int64_t num_layers = 1;
    bool bias = true;
    bool batch_first = false;
    double dropout = 0.0;
    bool bidirectional = false;
};
/// torch.nn.LSTM's keyword arguments.
struct LSTMOptions {
    std::int64_t num_layers = 1;
    bool bias = true;
    bool batch_first = false;
    double dropout = 0.0;
    bool bidirectional = false;
    std::int64_t proj_size = 0;  ///< > 0: h = W_hr·h of this size (LSTM with projections)
};

/// A layer's output [L, N, D·H_out] (or batch first, or [L, D·H_out] unbatched) and its final
/// hidden state [D·num_layers, N, H_out] (or [D·num_layers, H_out]).
struct RecurrentOutput {
    Tensor output;
    Tensor h_n;
};
/// An LSTM's output and final state (h_n [D·num_layers, N, H_out], c_n [D·num_layers, N, H]).
struct LSTMOutput {
    Tensor output;
    LSTMState state;
};

/// The parameters, checks and sequence loop of RNN, LSTM and GRU.
class RecurrentLayer : public Module {
  public:
    std::string extra_repr() const override;
    std::int64_t input_size() const { return input_size_; }
    std::int64_t hidden_size() const { return hidden_size_; }
    std::int64_t num_layers() const { return num_layers_; }
    bool bidirectional() const { return directions_ == 2; }
    bool batch_first() const { return config_.batch_first; }
    bool has_bias() const { return config_.bias; }
    std::int64_t proj_size() const { return config_.proj_size; }
    /// RNN's nonlinearity is relu (else tanh, or an LSTM or GRU).
    bool relu() const { return config_.kind == Kind::rnn_relu; }

  protected:
    enum class Kind { rnn_tanh, rnn_relu, lstm, gru };
    struct Config {
        Kind kind;
        std::int64_t num_layers;
        bool bias;
        bool batch_first;
        double dropout;
        bool bidirectional;
        std::int64_t proj_size;
    };
    RecurrentLayer(std::string_view name, std::int64_t input_size, std::int64_t hidden_size,
                   Config config);
    /// Runs every layer and direction over input; h0 and c0 (c0 for an LSTM only) may be
    /// undefined (zeros).
    LSTMOutput run(const Tensor& input, const Tensor& h0, const Tensor& c0);

  private:
    struct Direction {
        Tensor* weight_ih;
        Tensor* weight_hh;
        Tensor* bias_ih = nullptr;
        Tensor* bias_hh = nullptr;
        Tensor* weight_hr = nullptr;
    };
    /// The input as [L, N, in] with its checks; unbatched inputs get N = 1.
    Tensor time_major(const Tensor& input) const;
    /// An initial state [D·layers, N, size] (zeros when undefined), checked.
    Tensor initial_state(const Tensor& state, const Tensor& input, std::int64_t size,
                         std::string_view what) const;
    /// One direction of one layer over x [L, N, in]: the outputs [L, N, H_out] and the final
    /// state.
    std::pair<Tensor, LSTMState> run_direction(const Direction& d, const Tensor& x, LSTMState state,
                                               bool reverse) const;

    std::string name_;
    std::int64_t input_size_;
    std::int64_t hidden_size_;
    std::int64_t num_layers_;
    std::int64_t directions_;
    std::int64_t output_size_;  ///< H_out: proj_size or hidden_size
    Config config_;
    std::vector<Direction> directions_by_layer_;  ///< layer-major: l0, l0_reverse, l1, ...
};

/// torch.nn.RNN: h_t = tanh or relu(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh), stacked.
class RNN : public RecurrentLayer {
  public:
    RNN(std::int64_t input_size, std::int64_t hidden_size, RNNOptions options = {});
    /// input [L, N, in] ([N, L, in] batch first, or [L, in]); h0 [D·layers, N, H] or undefined.
    RecurrentOutput forward(const Tensor& input, const Tensor& h0 = {});
    RecurrentOutput operator()(const Tensor& input, const Tensor& h0 = {}) {
        return forward(input, h0);
    }
};

/// torch.nn.LSTM (gates i, f, g, o; optional projections).
class LSTM : public RecurrentLayer {
  public:
    LSTM(std::int64_t input_size, std::int64_t hidden_size, LSTMOptions options = {});
    /// The state's h [D·layers, N, H_out] and c [D·layers, N, H], or both undefined.
    LSTMOutput forward(const Tensor& input, const LSTMState& state = {});
    LSTMOutput operator()(const Tensor& input, const LSTMState& state = {}) {
        return forward(input, state);
    }
};

/// torch.nn.GRU (gates r, z, n).
class GRU : public RecurrentLayer {
  public:
    GRU(std::int64_t input_size, std::int64_t hidden_size, GRUOptions options = {});
    RecurrentOutput forward(const Tensor& input, const Tensor& h0 = {});
    RecurrentOutput operator()(const Tensor& input, const Tensor& h0 = {}) {
        return forward(input, h0);
    }
};

}  // namespace descent::nn
