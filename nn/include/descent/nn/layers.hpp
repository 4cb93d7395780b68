#pragma once
// The standard layers as modules: Linear, activations, Identity, Flatten, Dropout, Dropout2d,
// BatchNorm1d, LayerNorm, Embedding. Each forward is the nn::functional function of the same
// name; parameters are created with torch's default initialisation from the global generator.

#include <cstdint>
#include <string>
#include <string_view>

#include "descent/nn/functional.hpp"
#include "descent/nn/module.hpp"

namespace descent::nn {

/// y = x·Wᵀ + b with W [out, in] ~ U(±1/√in) (Kaiming-uniform, a = √5) and b ~ U(±1/√in).
class Linear : public Module {
  public:
    Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    Tensor& weight() { return *weight_; }
    /// Undefined for Linear(in, out, false).
    Tensor bias() const { return bias_ ? *bias_ : Tensor{}; }

  private:
    Tensor* weight_;
    Tensor* bias_ = nullptr;
};

/// An activation (or any tensor function without parameters) as a module.
class Lambda : public Module {
  public:
    /// `repr`: its settings as printed ("negative_slope=0.01").
    explicit Lambda(std::function<Tensor(const Tensor&)> f, std::string repr = {})
        : f_(std::move(f)), repr_(std::move(repr)) {
        if (!f_) throw Error("Lambda: the function is empty");
    }
    Tensor forward(const Tensor& x) override { return f_(x); }
    std::string extra_repr() const override { return repr_; }

  private:
    std::function<Tensor(const Tensor&)> f_;
    std::string repr_;
};

struct ReLU : Lambda {
    ReLU() : Lambda([](const Tensor& x) { return relu(x); }) {}
};
struct LeakyReLU : Lambda {
    explicit LeakyReLU(double negative_slope = 0.01);
    double negative_slope() const { return negative_slope_; }

  private:
    double negative_slope_;
};
struct Tanh : Lambda {
    Tanh() : Lambda([](const Tensor& x) { return tanh(x); }) {}
};
struct Sigmoid : Lambda {
    Sigmoid() : Lambda([](const Tensor& x) { return sigmoid(x); }) {}
};
struct GELU : Lambda {
    explicit GELU(GeluApproximation approximate = GeluApproximation::none)
        : Lambda([approximate](const Tensor& x) { return gelu(x, approximate); },
                 approximate == GeluApproximation::tanh ? "approximate='tanh'" : ""),
          approximate_(approximate) {}
    GeluApproximation approximate() const { return approximate_; }

  private:
    GeluApproximation approximate_;
};
struct Softplus : Lambda {
    explicit Softplus(double beta = 1.0, double threshold = 20.0);
    double beta() const { return beta_; }
    double threshold() const { return threshold_; }

  private:
    double beta_, threshold_;
};
struct Identity : Lambda {
    Identity() : Lambda([](const Tensor& x) { return x; }) {}
};
struct Flatten : Lambda {
    explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1);
    std::int64_t start_dim() const { return start_dim_; }
    std::int64_t end_dim() const { return end_dim_; }

  private:
    std::int64_t start_dim_, end_dim_;
};

/// Inverted dropout in training mode, the identity in eval mode; under a SampleKeys guard the
/// masks are keyed by sample (sample_keys.hpp).
class Dropout : public Module {
  public:
    explicit Dropout(double p = 0.5);
    Tensor forward(const Tensor& x) override { return functional::dropout(x, p_, is_training()); }
    std::string extra_repr() const override;

  private:
    double p_;
};

/// Channel dropout in training mode (whole channels of (N, C, H, W) zeroed, torch's
/// Dropout2d), the identity in eval mode.
class Dropout2d : public Module {
  public:
    explicit Dropout2d(double p = 0.5);
    Tensor forward(const Tensor& x) override { return functional::dropout2d(x, p_, is_training()); }
    std::string extra_repr() const override;

  private:
    double p_;
};

/// Batch normalisation over (N, C) or (N, C, L): batch statistics in training (and running
/// estimates updated with momentum, unbiased variance, num_batches_tracked counted), running
/// statistics in eval. A training batch with one value per channel is an error.
class BatchNorm1d : public Module {
  public:
    explicit BatchNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                         bool affine = true, bool track_running_stats = true)
        : BatchNorm1d("BatchNorm1d", num_features, eps, momentum, affine, track_running_stats) {}
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    double eps() const { return eps_; }

  protected:
    /// For variants with the same state (BatchNorm2d, distributed::SyncBatchNorm): options
    /// checked under `op`, inputs of min_rank to max_rank dims.
    BatchNorm1d(std::string_view op, std::int64_t num_features, double eps, double momentum,
                bool affine, bool track_running_stats, std::int64_t min_rank = 2,
                std::int64_t max_rank = 3);
    std::string_view op_;
    std::int64_t min_rank_, max_rank_;
    std::int64_t num_features_;
    double eps_, momentum_;
    Tensor* weight_ = nullptr;
    Tensor* bias_ = nullptr;
    Tensor* running_mean_ = nullptr;
    Tensor* running_var_ = nullptr;
    Tensor* num_batches_tracked_ = nullptr;
};

/// Layer normalisation over the trailing dims normalized_shape (weight 1, bias 0 initially;
/// bias = false keeps the weight only, as torch ≥ 2.1).
class LayerNorm : public Module {
  public:
    explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                       bool bias = true);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    const Shape& normalized_shape() const { return shape_; }
    double eps() const { return eps_; }

  private:
    Shape shape_;
    double eps_;
    Tensor* weight_ = nullptr;
    Tensor* bias_ = nullptr;
};

/// A lookup table of num_embeddings rows of size embedding_dim (N(0, 1) initially); the
/// gradient scatters into the rows used.
class Embedding : public Module {
  public:
    Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim);
    Tensor forward(const Tensor& indices) override {
        return functional::embedding(indices, *weight_);
    }
    std::string extra_repr() const override;
    Tensor& weight() { return *weight_; }

  private:
    Tensor* weight_;
};

}  // namespace descent::nn
