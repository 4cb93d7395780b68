#include "descent/nn/conv.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

#include "descent/check.hpp"
#include "descent/nn/init.hpp"

namespace descent::nn {
namespace {

/// torch's spelling of a tuple of extents: "(5, 5)", "(3,)".
std::string tuple_repr(const std::vector<std::int64_t>& v) {
    return v.size() == 1 ? fmt::format("({},)", v[0]) : fmt::format("({})", joined(v, ", "));
}

bool all_equal(const std::vector<std::int64_t>& v, std::int64_t value) {
    return std::all_of(v.begin(), v.end(), [value](std::int64_t e) { return e == value; });
}

/// weight [a, b, k...] and bias as torch's _ConvNd initialises them: Kaiming-uniform (a = √5),
/// and U(±1/√fan_in) with fan_in = b·∏k.
void init_conv(Tensor& weight, Tensor* bias) {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias) {
        const std::int64_t fan_in = weight.numel() / weight.size(0);
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        init::uniform_(*bias, -bound, bound);
    }
}

/// [out, in/groups, k...] or, transposed, [in, out/groups, k...], after checking the counts.
Shape weight_shape(std::string_view name, std::size_t rank, std::int64_t in, std::int64_t out,
                   std::int64_t groups, const Extents& kernel_size, bool transposed) {
    check_count(in, 1, name, "in_channels");
    check_count(out, 1, name, "out_channels");
    if (groups < 1 || in % groups != 0 || out % groups != 0) {
        throw Error(
            fmt::format("{}: groups ({}) must be ≥ 1 and divide in_channels ({}) and "
                        "out_channels ({})",
                        name, groups, in, out));
    }
    Shape shape = transposed ? Shape{in, out / groups} : Shape{out, in / groups};
    for (const auto k : kernel_size.expand(rank, name, "kernel_size")) {
        check_count(k, 1, name, "kernel_size");
        shape.push_back(k);
    }
    return shape;
}

/// Every spatial option at least `minimum`, checked when the layer is made (as torch does).
std::vector<std::int64_t> checked(const Extents& e, std::size_t rank, std::int64_t minimum,
                                  std::string_view name, std::string_view what) {
    std::vector<std::int64_t> v = e.expand(rank, name, what);
    for (const auto x : v) check_count(x, minimum, name, what);
    return v;
}
}  // namespace

ConvNd::ConvNd(std::string_view name, std::size_t rank, std::int64_t in_channels,
               std::int64_t out_channels, const Extents& kernel_size, ConvLayerOptions options)
    : rank_(rank), options_(std::move(options)) {
    const Shape shape =
        weight_shape(name, rank, in_channels, out_channels, options_.groups, kernel_size, false);
    const auto stride = checked(options_.stride, rank, 1, name, "stride");
    checked(options_.dilation, rank, 1, name, "dilation");
    checked(options_.padding.extents(), rank, 0, name, "padding");
    if (options_.padding.same() && !all_equal(stride, 1)) {
        throw Error(fmt::format("{}: padding \"same\" needs stride 1", name));
    }
    checked_numel(shape, name);
    weight_ = &register_parameter("weight", zeros(shape));
    if (options_.bias) bias_ = &register_parameter("bias", zeros({out_channels}));
    init_conv(*weight_, bias_);
}

Tensor ConvNd::forward(const Tensor& x) {
    ConvOptions o{.stride = options_.stride,
                  .padding = options_.padding,
                  .dilation = options_.dilation,
                  .groups = options_.groups};
    Tensor input = x;
    if (options_.padding_mode != PadMode::constant) {  // pad first, then a valid convolution
        const auto dilation = options_.dilation.expand(rank_, "conv", "dilation");
        const auto padding = options_.padding.extents().expand(rank_, "conv", "padding");
        std::vector<std::int64_t> pads;  // the last dim first, as pad() takes them
        for (std::size_t i = rank_; i-- > 0;) {
            const std::int64_t total =
                dilation[i] * (weight_->size(static_cast<std::int64_t>(i) + 2) - 1);
            const std::int64_t before = options_.padding.same() ? total / 2 : padding[i];
            pads.push_back(before);
            pads.push_back(options_.padding.same() ? total - before : padding[i]);
        }
        input = pad(x, pads, options_.padding_mode);
        o.padding = 0;
    }
    return rank_ == 1 ? conv1d(input, *weight_, bias(), o) : conv2d(input, *weight_, bias(), o);
}

std::string ConvNd::extra_repr() const {
    const Shape& w = weight_->shape();
    std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", w[1] * options_.groups, w[0],
                                tuple_repr(Shape(w.begin() + 2, w.end())),
                                tuple_repr(options_.stride.expand(rank_, "", "")));
    const auto padding = options_.padding.extents().expand(rank_, "", "");
    if (options_.padding.same()) {
        s += ", padding=same";
    } else if (!all_equal(padding, 0)) {
        s += fmt::format(", padding={}", tuple_repr(padding));
    }
    const auto dilation = options_.dilation.expand(rank_, "", "");
    if (!all_equal(dilation, 1)) s += fmt::format(", dilation={}", tuple_repr(dilation));
    if (options_.groups != 1) s += fmt::format(", groups={}", options_.groups);
    if (!bias_) s += ", bias=False";
    static constexpr const char* kModes[] = {"zeros", "reflect", "replicate", "circular"};
    if (options_.padding_mode != PadMode::constant) {
        s += fmt::format(", padding_mode={}", kModes[static_cast<int>(options_.padding_mode)]);
    }
    return s;
}

ConvTransposeNd::ConvTransposeNd(std::string_view name, std::size_t rank, std::int64_t in_channels,
                                 std::int64_t out_channels, const Extents& kernel_size,
                                 ConvTransposeLayerOptions options)
    : rank_(rank), options_(std::move(options)) {
    const Shape shape =
        weight_shape(name, rank, in_channels, out_channels, options_.groups, kernel_size, true);
    const auto stride = checked(options_.stride, rank, 1, name, "stride");
    const auto dilation = checked(options_.dilation, rank, 1, name, "dilation");
    checked(options_.padding, rank, 0, name, "padding");
    const auto extra = checked(options_.output_padding, rank, 0, name, "output_padding");
    for (std::size_t i = 0; i < rank; ++i) {
        if (extra[i] >= stride[i] && extra[i] >= dilation[i]) {
            throw Error(
                fmt::format("{}: output_padding must be smaller than the stride or the "
                            "dilation, got {}",
                            name, tuple_repr(extra)));
        }
    }
    checked_numel(shape, name);
    weight_ = &register_parameter("weight", zeros(shape));
    if (options_.bias) bias_ = &register_parameter("bias", zeros({out_channels}));
    init_conv(*weight_, bias_);
}

Tensor ConvTransposeNd::forward(const Tensor& x) {
    const ConvTransposeOptions o{.stride = options_.stride,
                                 .padding = options_.padding,
                                 .output_padding = options_.output_padding,
                                 .groups = options_.groups,
                                 .dilation = options_.dilation};
    return rank_ == 1 ? conv_transpose1d(x, *weight_, bias(), o)
                      : conv_transpose2d(x, *weight_, bias(), o);
}

std::string ConvTransposeNd::extra_repr() const {
    const Shape& w = weight_->shape();
    std::string s = fmt::format("{}, {}, kernel_size={}, stride={}", w[0], w[1] * options_.groups,
                                tuple_repr(Shape(w.begin() + 2, w.end())),
                                tuple_repr(options_.stride.expand(rank_, "", "")));
    const auto padding = options_.padding.expand(rank_, "", "");
    if (!all_equal(padding, 0)) s += fmt::format(", padding={}", tuple_repr(padding));
    const auto extra = options_.output_padding.expand(rank_, "", "");
    if (!all_equal(extra, 0)) s += fmt::format(", output_padding={}", tuple_repr(extra));
    const auto dilation = options_.dilation.expand(rank_, "", "");
    if (!all_equal(dilation, 1)) s += fmt::format(", dilation={}", tuple_repr(dilation));
    if (options_.groups != 1) s += fmt::format(", groups={}", options_.groups);
    if (!bias_) s += ", bias=False";
    return s;
}

}  // namespace descent::nn
