#pragma once
// Normalisation layers for images and sequences with torch's names, arguments, defaults,
// parameters and buffers: BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d (BatchNorm1d
// and LayerNorm are in layers.hpp).

#include <cstdint>
#include <string>

#include "descent/nn/layers.hpp"

namespace descent::nn {

/// Batch normalisation of (N, C, H, W): BatchNorm1d's state and rules over every position.
class BatchNorm2d : public BatchNorm1d {
  public:
    explicit BatchNorm2d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                         bool affine = true, bool track_running_stats = true)
        : BatchNorm1d("BatchNorm2d", num_features, eps, momentum, affine, track_running_stats, 4,
                      4) {}
};

/// Group normalisation: each sample's num_groups groups of channels normalised over their
/// channels and positions; weight 1 and bias 0 [C] initially.
class GroupNorm : public Module {
  public:
    GroupNorm(std::int64_t num_groups, std::int64_t num_channels, double eps = 1e-5,
              bool affine = true);
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    std::int64_t num_groups() const { return num_groups_; }
    double eps() const { return eps_; }

  private:
    std::int64_t num_groups_, num_channels_;
    double eps_;
    Tensor* weight_ = nullptr;
    Tensor* bias_ = nullptr;
};

/// Instance normalisation: each sample's channel over its positions. As torch, without affine
/// parameters or running statistics by default; with track_running_stats, eval mode normalises
/// by the running ones (num_batches_tracked is kept but not counted, as torch's).
class InstanceNormNd : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    double eps() const { return eps_; }

  protected:
    InstanceNormNd(std::string_view op, std::int64_t rank, std::int64_t num_features, double eps,
                   double momentum, bool affine, bool track_running_stats);

  private:
    std::string_view op_;
    std::int64_t rank_;
    std::int64_t num_features_;
    double eps_, momentum_;
    Tensor* weight_ = nullptr;
    Tensor* bias_ = nullptr;
    Tensor* running_mean_ = nullptr;
    Tensor* running_var_ = nullptr;
};

struct InstanceNorm1d : InstanceNormNd {
    explicit InstanceNorm1d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                            bool affine = false, bool track_running_stats = false)
        : InstanceNormNd("InstanceNorm1d", 1, num_features, eps, momentum, affine,
                         track_running_stats) {}
};
struct InstanceNorm2d : InstanceNormNd {
    explicit InstanceNorm2d(std::int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                            bool affine = false, bool track_running_stats = false)
        : InstanceNormNd("InstanceNorm2d", 2, num_features, eps, momentum, affine,
                         track_running_stats) {}
};

}  // namespace descent::nn
