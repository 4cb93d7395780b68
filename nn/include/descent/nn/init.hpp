#pragma once
// Initialisers, in place and unrecorded, drawing from the global generator (manual_seed), with
// torch.nn.init's formulas: fan_in/fan_out of a weight [out, in, ...] and the gains below.

#include <cstdint>
#include <string_view>

#include "descent/tensor.hpp"

namespace descent::nn::init {

enum class FanMode { fan_in, fan_out };

/// The recommended gain for a nonlinearity ("linear", "sigmoid", "tanh" 5/3, "relu" √2,
/// "leaky_relu" √(2/(1 + a²)), "selu" 3/4, "conv*"), as torch.nn.init.calculate_gain.
double calculate_gain(std::string_view nonlinearity, double param = 0.01);
/// fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (≥ 2-d tensors).
std::pair<std::int64_t, std::int64_t> fans(const Tensor& t);

Tensor& uniform_(Tensor& t, double low = 0.0, double high = 1.0);
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0);
Tensor& constant_(Tensor& t, double value);
Tensor& zeros_(Tensor& t);
Tensor& ones_(Tensor& t);
/// U(−a, a), a = gain·√(6/(fan_in + fan_out)).
Tensor& xavier_uniform_(Tensor& t, double gain = 1.0);
/// N(0, σ²), σ = gain·√(2/(fan_in + fan_out)).
Tensor& xavier_normal_(Tensor& t, double gain = 1.0);
/// U(−b, b), b = gain·√(3/fan), gain = calculate_gain(nonlinearity, a).
Tensor& kaiming_uniform_(Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                         std::string_view nonlinearity = "leaky_relu");
/// N(0, σ²), σ = gain/√fan.
Tensor& kaiming_normal_(Tensor& t, double a = 0.0, FanMode mode = FanMode::fan_in,
                        std::string_view nonlinearity = "leaky_relu");
/// A (semi-)orthogonal matrix from the QR decomposition of a normal draw, times gain
/// (rows flattened from dims 1.. for ≥ 2-d tensors), as torch.nn.init.orthogonal_.
Tensor& orthogonal_(Tensor& t, double gain = 1.0);

}  // namespace descent::nn::init
