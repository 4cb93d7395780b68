#pragma once
// Pooling layers with torch's names and arguments (torch.nn.MaxPool1d, MaxPool2d, AvgPool1d,
// AvgPool2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d); each forward is the function of the
// same name in <descent/spatial.hpp>, and none has parameters.

#include "descent/nn/layers.hpp"
#include "descent/spatial.hpp"

namespace descent::nn {

struct MaxPool1d : Lambda {
    explicit MaxPool1d(const Extents& kernel_size, PoolOptions options = {});
    const Extents& kernel_size() const { return kernel_size_; }
    const PoolOptions& options() const { return options_; }

  private:
    Extents kernel_size_;
    PoolOptions options_;
};
struct MaxPool2d : Lambda {
    explicit MaxPool2d(const Extents& kernel_size, PoolOptions options = {});
    const Extents& kernel_size() const { return kernel_size_; }
    const PoolOptions& options() const { return options_; }

  private:
    Extents kernel_size_;
    PoolOptions options_;
};
struct AvgPool1d : Lambda {
    explicit AvgPool1d(const Extents& kernel_size, PoolOptions options = {});
    const Extents& kernel_size() const { return kernel_size_; }
    const PoolOptions& options() const { return options_; }

  private:
    Extents kernel_size_;
    PoolOptions options_;
};
struct AvgPool2d : Lambda {
    explicit AvgPool2d(const Extents& kernel_size, PoolOptions options = {});
    const Extents& kernel_size() const { return kernel_size_; }
    const PoolOptions& options() const { return options_; }

  private:
    Extents kernel_size_;
    PoolOptions options_;
};
struct AdaptiveAvgPool1d : Lambda {
    explicit AdaptiveAvgPool1d(const Extents& output_size);
    const Extents& output_size() const { return output_size_; }

  private:
    Extents output_size_;
};
struct AdaptiveAvgPool2d : Lambda {
    explicit AdaptiveAvgPool2d(const Extents& output_size);
    const Extents& output_size() const { return output_size_; }

  private:
    Extents output_size_;
};
struct AdaptiveMaxPool1d : Lambda {
    explicit AdaptiveMaxPool1d(const Extents& output_size);
    const Extents& output_size() const { return output_size_; }

  private:
    Extents output_size_;
};
struct AdaptiveMaxPool2d : Lambda {
    explicit AdaptiveMaxPool2d(const Extents& output_size);
    const Extents& output_size() const { return output_size_; }

  private:
    Extents output_size_;
};

}  // namespace descent::nn
