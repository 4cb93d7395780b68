#pragma once
// AdamW (Loshchilov & Hutter 2019) = Adam + decoupled weight decay, as torch.optim.AdamW:
// θ ← θ·(1 − lr·wd) first, then the Adam step on the plain gradient. Default wd = 1e-2.

#include "descent/optim/adam.hpp"

namespace descent::optim {

struct AdamWOptions {
    double lr = 1e-3;
    std::array<double, 2> betas{0.9, 0.999};
    double eps = 1e-8;
    double weight_decay = 1e-2;
    bool amsgrad = false;
};

class AdamW : public Adam {
  public:
    explicit AdamW(std::vector<Tensor> params, AdamWOptions options = {});
    void add_param_group(std::vector<Tensor> params, AdamWOptions options);
};

}  // namespace descent::optim
