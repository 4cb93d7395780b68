#pragma once
// One layer and direction of a recurrent layer over a whole sequence as one recorded op (a
// custom Function): the forward runs every step with one product and one fused loop over the
// gates, the backward runs backpropagation through time the same way and sums the weight
// gradients of all steps in one product each. A backward asked for a differentiable result
// (create_graph) re-runs the composed steps of recurrent_cell.hpp and differentiates those, so
// double backward stays exact.

#include "descent/nn/recurrent_cell.hpp"

namespace descent::nn::detail {

enum class CellKind { rnn_tanh, rnn_relu, lstm, gru };

/// The step's weights; bias_hh and weight_hr undefined when the layer has none.
struct ScanWeights {
    Tensor weight_hh;
    Tensor bias_hh;
    Tensor weight_hr;
};

/// The state after every step, in time order: hs [L, N, H_out] and, for an LSTM, cs [L, N, H].
struct ScanResult {
    Tensor hs;
    Tensor cs;
};

/// Runs the cell over gates_x [L, N, G·H] (W_ih·x_t + b_ih for every t) from `start` (h [N,
/// H_out], and c [N, H] for an LSTM), from t = L − 1 down to 0 when `reverse`.
ScanResult recurrent_scan(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                          const ScanWeights& weights, bool reverse);

/// The same with the composed, differentiable steps (the reference the scan is checked against).
ScanResult composed_scan(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                         const ScanWeights& weights, bool reverse);

}  // namespace descent::nn::detail
