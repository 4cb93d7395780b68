#pragma once
// One step of the recurrent cells (torch.nn.RNNCell, LSTMCell, GRUCell), as functions and as
// modules with torch's parameter names and layouts: weight_ih [G·H, in], weight_hh [G·H, H],
// bias_ih and bias_hh [G·H], with G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: r, z, n),
// all initialised U(±1/√H). The layers in recurrent.hpp run the same steps over a sequence.

#include <cstdint>
#include <string>

#include "descent/nn/module.hpp"

namespace descent::nn {

enum class Nonlinearity { tanh, relu };

/// An LSTM's state: hidden h [N, H] (or [N, proj_size]) and cell c [N, H]. Undefined tensors
/// stand for zeros where a state is an argument.
struct LSTMState {
    Tensor h;
    Tensor c;
};

/// h' = act(W_ih·x + b_ih + W_hh·h + b_hh), given gates_x = W_ih·x + b_ih [N, H].
Tensor rnn_step(const Tensor& gates_x, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh, Nonlinearity nonlinearity);
/// Given gates_x = W_ih·x + b_ih [N, 4H] and (i, f, g, o) = split(gates_x + W_hh·h + b_hh):
///   c' = σ(f)⊙c + σ(i)⊙tanh(g),  h' = σ(o)⊙tanh(c'),  then h' ← W_hr·h' when weight_hr is given.
LSTMState lstm_step(const Tensor& gates_x, const LSTMState& state, const Tensor& weight_hh,
                    const Tensor& bias_hh, const Tensor& weight_hr = {});
/// Given gates_x = W_ih·x + b_ih [N, 3H], (x_r, x_z, x_n) its thirds and (h_r, h_z, h_n) those
/// of W_hh·h + b_hh:
///   r = σ(x_r + h_r),  z = σ(x_z + h_z),  n = tanh(x_n + r⊙h_n),  h' = (1 − z)⊙n + z⊙h.
Tensor gru_step(const Tensor& gates_x, const Tensor& h, const Tensor& weight_hh,
                const Tensor& bias_hh);

/// The parameters and checks the three cells share.
class RecurrentCell : public Module {
  public:
    std::string extra_repr() const override;
    std::int64_t input_size() const { return input_size_; }
    std::int64_t hidden_size() const { return hidden_size_; }
    Tensor& weight_ih() { return *weight_ih_; }
    Tensor& weight_hh() { return *weight_hh_; }
    /// Undefined without bias.
    Tensor bias_ih() const { return bias_ih_ ? *bias_ih_ : Tensor{}; }
    Tensor bias_hh() const { return bias_hh_ ? *bias_hh_ : Tensor{}; }

  protected:
    RecurrentCell(std::string_view name, std::int64_t input_size, std::int64_t hidden_size,
                  bool bias, std::int64_t gates);
    /// W_ih·x + b_ih for x [N, in] or [in] (then as [1, in]) after checking x.
    Tensor input_gates(const Tensor& x) const;
    /// A state for x: zeros [N, H] when undefined, else checked to be [N, H] (or [H] for an
    /// unbatched x) and returned as [N, H].
    Tensor state_for(const Tensor& x, const Tensor& state, std::string_view what) const;
    /// h [1, H] back to [H] when x was unbatched.
    static Tensor unbatch_like(const Tensor& x, const Tensor& h) {
        return x.dim() == 1 ? h.reshape({h.size(1)}) : h;
    }

  private:
    std::string name_;
    std::int64_t input_size_;
    std::int64_t hidden_size_;
    Tensor* weight_ih_;
    Tensor* weight_hh_;
    Tensor* bias_ih_ = nullptr;
    Tensor* bias_hh_ = nullptr;
};

/// torch.nn.RNNCell: h' = tanh or relu(W_ih·x + b_ih + W_hh·h + b_hh).
class RNNCell : public RecurrentCell {
  public:
    RNNCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true,
            Nonlinearity nonlinearity = Nonlinearity::tanh);
    /// x [N, in] or [in]; h [N, H] or [H], zeros when undefined.
    Tensor forward(const Tensor& x, const Tensor& h);
    Tensor forward(const Tensor& x) override { return forward(x, Tensor{}); }
    Tensor operator()(const Tensor& x, const Tensor& h = {}) { return forward(x, h); }
    std::string extra_repr() const override;

  private:
    Nonlinearity nonlinearity_;
};

/// torch.nn.LSTMCell (gates i, f, g, o).
class LSTMCell : public RecurrentCell {
  public:
    LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true);
    /// x [N, in] or [in]; the state's h and c [N, H] or [H], zeros when undefined.
    LSTMState forward(const Tensor& x, const LSTMState& state = {});
    LSTMState operator()(const Tensor& x, const LSTMState& state = {}) { return forward(x, state); }
};

/// torch.nn.GRUCell (gates r, z, n).
class GRUCell : public RecurrentCell {
  public:
    GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true);
    Tensor forward(const Tensor& x, const Tensor& h);
    Tensor forward(const Tensor& x) override { return forward(x, Tensor{}); }
    Tensor operator()(const Tensor& x, const Tensor& h = {}) { return forward(x, h); }
};

}  // namespace descent::nn
