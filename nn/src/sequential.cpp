#include "descent/nn/sequential.hpp"

namespace descent::nn {

Tensor Sequential::forward(const Tensor& x) {
    Tensor h = x;
    for (auto& m : modules_) h = (*m)(h);
    return h;
}

}  // namespace descent::nn
