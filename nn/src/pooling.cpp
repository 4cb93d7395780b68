#include "descent/nn/pooling.hpp"

#include <fmt/format.h>

namespace descent::nn {
namespace {

/// torch's spelling of an argument: "2" for one value, "(2, 3)" for several.
std::string repr(const Extents& e) {
    const auto& v = e.values();
    return v.size() == 1 ? fmt::format("{}", v[0]) : fmt::format("({})", joined(v, ", "));
}

const char* py_bool(bool b) {
    return b ? "True" : "False";
}

std::string max_repr(const Extents& kernel, const PoolOptions& o) {
    return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
                       repr(kernel), repr(o.stride.empty() ? kernel : o.stride), repr(o.padding),
                       repr(o.dilation), py_bool(o.ceil_mode));
}

std::string avg_repr(const Extents& kernel, const PoolOptions& o) {
    std::string s = fmt::format("kernel_size={}, stride={}, padding={}", repr(kernel),
                                repr(o.stride.empty() ? kernel : o.stride), repr(o.padding));
    if (o.ceil_mode) s += ", ceil_mode=True";
    if (!o.count_include_pad) s += ", count_include_pad=False";
    if (o.divisor_override) s += fmt::format(", divisor_override={}", *o.divisor_override);
    return s;
}

std::string size_repr(const Extents& size) {
    return "output_size=" + repr(size);
}
}  // namespace

MaxPool1d::MaxPool1d(const Extents& k, PoolOptions o)
    : Lambda([k, o](const Tensor& x) { return max_pool1d(x, k, o); }, max_repr(k, o)),
      kernel_size_(k),
      options_(o) {}
MaxPool2d::MaxPool2d(const Extents& k, PoolOptions o)
    : Lambda([k, o](const Tensor& x) { return max_pool2d(x, k, o); }, max_repr(k, o)),
      kernel_size_(k),
      options_(o) {}
AvgPool1d::AvgPool1d(const Extents& k, PoolOptions o)
    : Lambda([k, o](const Tensor& x) { return avg_pool1d(x, k, o); }, avg_repr(k, o)),
      kernel_size_(k),
      options_(o) {}
AvgPool2d::AvgPool2d(const Extents& k, PoolOptions o)
    : Lambda([k, o](const Tensor& x) { return avg_pool2d(x, k, o); }, avg_repr(k, o)),
      kernel_size_(k),
      options_(o) {}
AdaptiveAvgPool1d::AdaptiveAvgPool1d(const Extents& size)
    : Lambda([size](const Tensor& x) { return adaptive_avg_pool1d(x, size); }, size_repr(size)),
      output_size_(size) {}
AdaptiveAvgPool2d::AdaptiveAvgPool2d(const Extents& size)
    : Lambda([size](const Tensor& x) { return adaptive_avg_pool2d(x, size); }, size_repr(size)),
      output_size_(size) {}
AdaptiveMaxPool1d::AdaptiveMaxPool1d(const Extents& size)
    : Lambda([size](const Tensor& x) { return adaptive_max_pool1d(x, size); }, size_repr(size)),
      output_size_(size) {}
AdaptiveMaxPool2d::AdaptiveMaxPool2d(const Extents& size)
    : Lambda([size](const Tensor& x) { return adaptive_max_pool2d(x, size); }, size_repr(size)),
      output_size_(size) {}

}  // namespace descent::nn
