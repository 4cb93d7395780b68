#pragma once
// Convolution layers with torch's names, arguments, defaults, parameter names and layouts
// (torch.nn.Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d), so a torch state_dict maps onto
// them key for key: "weight" [out, in/groups, k...] ([in, out/groups, k...] transposed) and
// "bias" [out]. Initialised as torch: weight ~ U(±√(1/fan_in)) (Kaiming-uniform, a = √5),
// bias ~ U(±1/√fan_in), fan_in = weight.size(1)·∏k.

#include <cstdint>
#include <string>

#include "descent/nn/module.hpp"
#include "descent/spatial.hpp"

namespace descent::nn {

/// torch.nn.Conv1d/Conv2d's keyword arguments.
struct ConvLayerOptions {
    Extents stride = 1;
    ConvPadding padding = 0;
    Extents dilation = 1;
    std::int64_t groups = 1;
    bool bias = true;
    /// What the padding holds: zeros (PadMode::constant, torch's 'zeros'), or the input
    /// reflected, replicated or wrapped around.
    PadMode padding_mode = PadMode::constant;
};

/// Conv1d and Conv2d: cross-correlation over `rank` spatial dims.
class ConvNd : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    Tensor& weight() { return *weight_; }
    /// Undefined without bias.
    Tensor bias() const { return bias_ ? *bias_ : Tensor{}; }
    /// The number of spatial dims (1 or 2) and the options as given.
    std::size_t rank() const { return rank_; }
    const ConvLayerOptions& options() const { return options_; }

  protected:
    ConvNd(std::string_view name, std::size_t rank, std::int64_t in_channels,
           std::int64_t out_channels, const Extents& kernel_size, ConvLayerOptions options);

  private:
    std::size_t rank_;
    ConvLayerOptions options_;
    Tensor* weight_;
    Tensor* bias_ = nullptr;
};

struct Conv1d : ConvNd {
    Conv1d(std::int64_t in_channels, std::int64_t out_channels, const Extents& kernel_size,
           ConvLayerOptions options = {})
        : ConvNd("Conv1d", 1, in_channels, out_channels, kernel_size, std::move(options)) {}
};
struct Conv2d : ConvNd {
    Conv2d(std::int64_t in_channels, std::int64_t out_channels, const Extents& kernel_size,
           ConvLayerOptions options = {})
        : ConvNd("Conv2d", 2, in_channels, out_channels, kernel_size, std::move(options)) {}
};

/// torch.nn.ConvTranspose1d/2d's keyword arguments.
struct ConvTransposeLayerOptions {
    Extents stride = 1;
    Extents padding = 0;
    Extents output_padding = 0;
    std::int64_t groups = 1;
    bool bias = true;
    Extents dilation = 1;
};

/// ConvTranspose1d and ConvTranspose2d: the adjoint of the convolution with the same options.
class ConvTransposeNd : public Module {
  public:
    Tensor forward(const Tensor& x) override;
    std::string extra_repr() const override;
    Tensor& weight() { return *weight_; }
    Tensor bias() const { return bias_ ? *bias_ : Tensor{}; }
    std::size_t rank() const { return rank_; }
    const ConvTransposeLayerOptions& options() const { return options_; }

  protected:
    ConvTransposeNd(std::string_view name, std::size_t rank, std::int64_t in_channels,
                    std::int64_t out_channels, const Extents& kernel_size,
                    ConvTransposeLayerOptions options);

  private:
    std::size_t rank_;
    ConvTransposeLayerOptions options_;
    Tensor* weight_;
    Tensor* bias_ = nullptr;
};

struct ConvTranspose1d : ConvTransposeNd {
    ConvTranspose1d(std::int64_t in_channels, std::int64_t out_channels, const Extents& kernel_size,
                    ConvTransposeLayerOptions options = {})
        : ConvTransposeNd("ConvTranspose1d", 1, in_channels, out_channels, kernel_size,
                          std::move(options)) {}
};
struct ConvTranspose2d : ConvTransposeNd {
    ConvTranspose2d(std::int64_t in_channels, std::int64_t out_channels, const Extents& kernel_size,
                    ConvTransposeLayerOptions options = {})
        : ConvTransposeNd("ConvTranspose2d", 2, in_channels, out_channels, kernel_size,
                          std::move(options)) {}
};

}  // namespace descent::nn
