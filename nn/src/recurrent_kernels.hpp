#pragma once
// The loops of the recurrent scan (recurrent_scan.hpp): every step of a cell forward, keeping
// what backpropagation through time needs, and every step backward. Products go through
// descent's matmul (BLAS); the gates are computed by Eigen array expressions over [N, H]
// blocks of the step's [N, G·H] pre-activations, vectorised.

#include <cstdint>
#include <vector>

#include "descent/tensor.hpp"
#include "recurrent_scan.hpp"

namespace descent::nn::detail {

/// The extents of a scan: L steps, N rows, H hidden units, P = H_out, G gates.
struct Geometry {
    std::int64_t L, N, H, P, G;
    bool reverse;
    /// The time index of the k-th step run.
    std::int64_t time(std::int64_t k) const { return reverse ? L - 1 - k : k; }
};

/// What the forward leaves for backward besides the inputs: every step's state and gates.
struct Trace {
    Tensor hs;    ///< [L, N, P]
    Tensor cs;    ///< LSTM: [L, N, H]
    Tensor acts;  ///< LSTM: σ(i), σ(f), tanh(g), σ(o); GRU: r, z, n; [L, N, G·H]
    Tensor aux;   ///< LSTM with projection: σ(o)⊙tanh(c) before W_hr; GRU: W_hn·h + b_hn
};

/// Every step forward from `start` (h [N, P]; c [N, H] for an LSTM).
Trace forward_steps(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                    const ScanWeights& weights, const Geometry& g);

/// The gradients of (gates_x, h0, c0, weight_hh, bias_hh, weight_hr) from those of hs and cs
/// (d_cs undefined unless an LSTM); `inputs` are those six tensors, an absent weight as an empty
/// one, whose gradient is left undefined.
std::vector<Tensor> backward_steps(CellKind kind, const std::vector<Tensor>& inputs,
                                   const Trace& trace, const Tensor& d_hs, const Tensor& d_cs,
                                   const Geometry& g);

}  // namespace descent::nn::detail
