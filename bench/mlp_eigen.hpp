#pragma once
// The MLP of mlp_problem.hpp written out in plain Eigen: no tape, no tensors, every buffer
// allocated once. Forward and backward are explicit GEMMs — through descent's product kernel
// (autograd/src/gemm.hpp: OpenBLAS or Eigen by shape, the same thread policy), so that the
// difference to descent is autograd's own cost — the ReLU backward is a mask and the loss
// gradient is the closed form of softmax cross-entropy, (softmax(z) − onehot)/batch. This is the
// limit an autograd library can approach for this network.

#include <Eigen/Core>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gemm.hpp"
#include "mlp_problem.hpp"

namespace descent_bench {

class EigenMlp {
  public:
    using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;

    explicit EigenMlp(const MlpProblem& p) : batch_(p.batch), labels_(p.labels) {
        x_ = Eigen::Map<const Matrix>(p.x.data(), batch_, kMlpWidths[0]);
        for (int l = 0; l < kMlpLayers; ++l) {
            const Eigen::Index in = kMlpWidths[l], out = kMlpWidths[l + 1];
            weight_[l] = Eigen::Map<const Matrix>(p.weight[l].data(), out, in);
            bias_[l] = Eigen::Map<const RowVector>(p.bias[l].data(), out);
            act_[l].resize(batch_, out);
            delta_[l].resize(batch_, out);
            weight_grad_[l].resize(out, in);
            bias_grad_[l].resize(out);
        }
    }

    /// One forward and backward pass; returns the loss, leaves the parameter gradients.
    float forward_backward() {
        // Forward: act[l] = relu(in·Wᵀ + b), the last layer without relu (the logits).
        for (int l = 0; l < kMlpLayers; ++l) {
            const Matrix& in = l == 0 ? x_ : act_[l - 1];
            product(in, false, weight_[l], true, act_[l]);
            act_[l].rowwise() += bias_[l];
            if (l + 1 < kMlpLayers) act_[l] = act_[l].cwiseMax(0.0f);
        }
        // Loss = mean over rows of logsumexp(z) − z[label]; ∂loss/∂z = (softmax(z) − onehot)/batch.
        const Matrix& logits = act_[kMlpLayers - 1];
        Matrix& dz = delta_[kMlpLayers - 1];
        const float inv_batch = 1.0f / static_cast<float>(batch_);
        float loss = 0.0f;
        for (Eigen::Index i = 0; i < batch_; ++i) {
            const auto z = logits.row(i).array();
            const float m = z.maxCoeff();
            const float lse = m + std::log((z - m).exp().sum());
            const auto label = static_cast<Eigen::Index>(labels_[static_cast<std::size_t>(i)]);
            loss += lse - z(label);
            dz.row(i).array() = (z - lse).exp() * inv_batch;
            dz(i, label) -= inv_batch;
        }
        // Backward: ∂W = δᵀ·in, ∂b = Σ_rows δ, δ_prev = (δ·W) ⊙ [act_prev > 0].
        for (int l = kMlpLayers - 1; l >= 0; --l) {
            const Matrix& in = l == 0 ? x_ : act_[l - 1];
            product(delta_[l], true, in, false, weight_grad_[l]);
            bias_grad_[l] = delta_[l].colwise().sum();
            if (l > 0) {
                product(delta_[l], false, weight_[l], false, delta_[l - 1]);
                delta_[l - 1].array() *= (act_[l - 1].array() > 0.0f).cast<float>();
            }
        }
        return loss * inv_batch;
    }

    const Matrix& weight_grad(int l) const { return weight_grad_[l]; }
    const RowVector& bias_grad(int l) const { return bias_grad_[l]; }

  private:
    /// c = op(a)·op(b), op a transpose where asked; c has its shape already.
    static void product(const Matrix& a, bool ta, const Matrix& b, bool tb, Matrix& c) {
        descent::detail::gemm(a.data(), a.rows(), a.cols(), ta, b.data(), b.rows(), b.cols(), tb,
                              c.data());
    }

    Eigen::Index batch_;
    std::vector<std::int64_t> labels_;
    Matrix x_;
    std::array<Matrix, kMlpLayers> weight_;
    std::array<RowVector, kMlpLayers> bias_;
    std::array<Matrix, kMlpLayers> act_;    // relu outputs; the last one holds the logits
    std::array<Matrix, kMlpLayers> delta_;  // ∂loss/∂(pre-activation) of each layer
    std::array<Matrix, kMlpLayers> weight_grad_;
    std::array<RowVector, kMlpLayers> bias_grad_;
};

}  // namespace descent_bench
