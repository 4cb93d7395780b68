#pragma once
// SGDW: SGD with decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization", ICLR 2019): θ ← θ − lr·wd·θ first, then exactly the SGD step on the plain
// gradient. The decay is scaled by lr, as torch's AdamW does; the paper scales it by the
// schedule multiplier η_t alone (lr·wd here equals η_t·λ when λ = lr₀·wd and lr = η_t·lr₀).

#include "descent/optim/sgd.hpp"

namespace descent::optim {

class SGDW : public SGD {
  public:
    explicit SGDW(std::vector<Tensor> params, SGDOptions options = {});
};

}  // namespace descent::optim
