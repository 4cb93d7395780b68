// Samples of the spatial ops. Max pooling's inputs are distinct values (no ties, which have
// no derivative); every other op is smooth in its input.

#include "spatial_samples.hpp"

#include "descent/spatial.hpp"
#include "patches.hpp"

namespace descent::samples {
namespace {
/// f(x, weight, bias) as a sample function of three inputs.
GradcheckFn ternary(std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> f) {
    return [f](const Inputs& in) { return Inputs{f(in[0], in[1], in[2])}; };
}
}  // namespace

std::vector<OpSample> patches_samples() {
    Make m(101);
    const detail::Windows strided{2, 3, 1, 2, 1, 1, 1, 1, 5, 3};  // [2,2,4,5] → 5 x 3 windows
    const detail::Windows dilated{2, 2, 2, 1, 2, 2, 0, 1, 2, 4};  // [1,3,5,4] → 2 x 4 windows
    return {{"stride (1,2), padding 1",
             unary([strided](auto& x) { return detail::patches(x, strided); }),
             {m.normal({2, 2, 4, 5})}},
            {"dilation 2, pad value -1",
             unary([dilated](auto& x) { return detail::patches(x, dilated, -1.0); }),
             {m.normal({1, 3, 5, 4})}}};
}

std::vector<OpSample> patches_adjoint_samples() {
    Make m(103);
    const detail::Windows w{2, 3, 1, 2, 1, 1, 1, 1, 5, 3};
    return {{"overlapping windows onto [2,2,4,5]",
             unary([w](auto& r) {
                 return detail::patches_adjoint(r, {2, 2, 4, 5}, w);
             }),
             {m.normal({2, 15, 12})}}};
}

/// Divisors 1, 2, ... for the windows of w, as avg_pool's (any positive values will do).
Tensor divisors_for(const detail::Windows& w) {
    std::vector<double> d;
    for (std::int64_t k = 0; k < w.out_h * w.out_w; ++k) d.push_back(1.0 + static_cast<double>(k));
    return tensor(d, {w.out_h * w.out_w}, {.dtype = Dtype::float64});
}

std::vector<OpSample> window_mean_samples() {
    Make m(109);
    const detail::Windows w{2, 3, 1, 2, 1, 1, 1, 1, 5, 3};
    return {{"overlapping, padded windows of [2,2,4,5]",
             unary([w](auto& x) { return detail::window_mean(x, w, divisors_for(w)); }),
             {m.normal({2, 2, 4, 5})}}};
}

std::vector<OpSample> window_mean_adjoint_samples() {
    Make m(113);
    const detail::Windows w{3, 2, 2, 1, 1, 1, 1, 0, 2, 4};
    return {{"windows of [1,3,4,5] back in place",
             unary([w](auto& g) {
                 return detail::window_mean_adjoint(g, {1, 3, 4, 5}, w, divisors_for(w));
             }),
             {m.normal({1, 3, 2, 4})}}};
}

std::vector<OpSample> conv1d_samples() {
    Make m(107);
    return {{"padding 1, bias",
             ternary([](auto& x, auto& w, auto& b) { return conv1d(x, w, b, {.padding = 1}); }),
             {m.normal({2, 3, 7}), m.normal({4, 3, 3}), m.normal({4})}},
            {"stride 2, dilation 2, groups 2, unbatched",
             binary([](auto& x, auto& w) {
                 return conv1d(x, w, {}, {.stride = 2, .dilation = 2, .groups = 2});
             }),
             {m.normal({4, 9}), m.normal({2, 2, 3})}},
            {"padding same, even kernel",
             binary([](auto& x, auto& w) { return conv1d(x, w, {}, {.padding = "same"}); }),
             {m.normal({1, 2, 6}), m.normal({3, 2, 4})}}};
}

std::vector<OpSample> conv2d_samples() {
    Make m(109);
    return {{"stride 2, padding 1, groups 2, bias",
             ternary([](auto& x, auto& w, auto& b) {
                 return conv2d(x, w, b, {.stride = 2, .padding = 1, .groups = 2});
             }),
             {m.normal({2, 4, 5, 5}), m.normal({6, 2, 3, 3}), m.normal({6})}},
            {"padding same, dilation (2,1)",
             binary([](auto& x, auto& w) {
                 return conv2d(x, w, {}, {.padding = "same", .dilation = {2, 1}});
             }),
             {m.normal({1, 3, 5, 4}), m.normal({2, 3, 2, 3})}},
            {"depthwise, stride (1,2), padding (0,1), unbatched",
             binary([](auto& x, auto& w) {
                 return conv2d(x, w, {}, {.stride = {1, 2}, .padding = {0, 1}, .groups = 3});
             }),
             {m.normal({3, 4, 5}), m.normal({3, 1, 2, 2})}}};
}

std::vector<OpSample> conv_transpose1d_samples() {
    Make m(113);
    return {{"stride 2, padding 1, output_padding 1, bias",
             ternary([](auto& x, auto& w, auto& b) {
                 return conv_transpose1d(x, w, b, {.stride = 2, .padding = 1, .output_padding = 1});
             }),
             {m.normal({2, 3, 5}), m.normal({3, 2, 3}), m.normal({2})}}};
}

std::vector<OpSample> conv_transpose2d_samples() {
    Make m(127);
    return {{"stride 2, padding 1, output_padding 1, groups 2, bias",
             ternary([](auto& x, auto& w, auto& b) {
                 return conv_transpose2d(
                     x, w, b, {.stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
             }),
             {m.normal({2, 4, 3, 3}), m.normal({4, 3, 3, 3}), m.normal({6})}},
            {"dilation 2, unbatched",
             binary([](auto& x, auto& w) { return conv_transpose2d(x, w, {}, {.dilation = 2}); }),
             {m.normal({2, 3, 2}), m.normal({2, 1, 2, 2})}}};
}

std::vector<OpSample> max_pool_samples() {
    Make m(131);
    return {{"2d kernel 2, ceil_mode",
             unary([](auto& x) { return max_pool2d(x, 2, {.ceil_mode = true}); }),
             {m.distinct({2, 2, 5, 5})}},
            {"2d kernel 3, stride 2, padding 1, dilation (1,2)",
             unary([](auto& x) {
                 return max_pool2d(x, 3, {.stride = 2, .padding = 1, .dilation = {1, 2}});
             }),
             {m.distinct({1, 2, 5, 7})}},
            {"1d kernel 3, stride 2, padding 1",
             unary([](auto& x) { return max_pool1d(x, 3, {.stride = 2, .padding = 1}); }),
             {m.distinct({2, 3, 7})}}};
}

std::vector<OpSample> avg_pool_samples() {
    Make m(137);
    return {{"2d kernel 3, stride 2, padding 1, without the padding, ceil_mode",
             unary([](auto& x) {
                 return avg_pool2d(
                     x, 3,
                     {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
             }),
             {m.normal({2, 2, 5, 6})}},
            {"2d kernel (2,3), divisor 4",
             unary([](auto& x) {
                 return avg_pool2d(x, {2, 3}, {.divisor_override = 4});
             }),
             {m.normal({1, 2, 4, 6})}},
            {"1d kernel 2, padding 1",
             unary([](auto& x) { return avg_pool1d(x, 2, {.padding = 1}); }),
             {m.normal({2, 3, 5})}},
            {"2d kernel 2, stride 3: rows and columns no window reaches",
             unary([](auto& x) { return avg_pool2d(x, 2, {.stride = 3}); }),
             {m.normal({1, 2, 9, 7})}}};
}

std::vector<OpSample> adaptive_pool_samples() {
    Make m(139);
    return {{"avg 2d [5,7] to (3,4)",
             unary([](auto& x) {
                 return adaptive_avg_pool2d(x, {3, 4});
             }),
             {m.normal({2, 2, 5, 7})}},
            {"avg 1d 7 to 3",
             unary([](auto& x) { return adaptive_avg_pool1d(x, 3); }),
             {m.normal({2, 3, 7})}},
            {"max 2d [5,7] to (3,4)",
             unary([](auto& x) {
                 return adaptive_max_pool2d(x, {3, 4});
             }),
             {m.distinct({2, 2, 5, 7})}},
            {"max 1d 7 to 3, unbatched",
             unary([](auto& x) { return adaptive_max_pool1d(x, 3); }),
             {m.distinct({3, 7})}}};
}

std::vector<OpSample> pad_samples() {
    Make m(149);
    auto padded = [](std::vector<std::int64_t> pads, PadMode mode, double value = 0.0) {
        return unary([=](auto& x) { return pad(x, pads, mode, value); });
    };
    return {{"constant 1.5, crop and grow",
             padded({-1, 2, 1, 0}, PadMode::constant, 1.5),
             {m.normal({2, 3, 4})}},
            {"reflect", padded({2, 1, 1, 2}, PadMode::reflect), {m.normal({2, 3, 4})}},
            {"replicate", padded({3, 1, 0, 2}, PadMode::replicate), {m.normal({2, 3, 4})}},
            {"circular", padded({4, 1, 3, 1}, PadMode::circular), {m.normal({2, 3, 4})}}};
}

std::vector<OpSample> unfold_fold_samples() {
    Make m(151);
    return {{"unfold kernel (2,3), padding 1, stride (1,2)",
             unary([](auto& x) {
                 return unfold(x, {2, 3}, {.padding = 1, .stride = {1, 2}});
             }),
             {m.normal({2, 2, 4, 5})}},
            {"fold onto (4,5)",
             unary([](auto& c) {
                 return fold(c, {4, 5}, {2, 3}, {.padding = 1, .stride = {1, 2}});
             }),
             {m.normal({2, 12, 15})}},
            {"unfold dilation 2, unbatched",
             unary([](auto& x) { return unfold(x, 2, {.dilation = 2}); }),
             {m.normal({2, 4, 4})}}};
}

std::vector<OpSample> interpolate_samples() {
    Make m(151);
    auto resized = [](InterpolateOptions options) {
        return unary([=](auto& x) { return interpolate(x, options); });
    };
    return {
        {"nearest 2d, scale_factor (2, 1.5)",
         resized({.scale_factor = {2.0, 1.5}}),
         {m.normal({2, 2, 3, 4})}},
        {"nearest 1d, size 3 from 7", resized({.size = 3}), {m.normal({2, 3, 7})}},
        {"bilinear, size (7, 3) from (4, 5)",
         resized({.size = {7, 3}, .mode = InterpolateMode::bilinear}),
         {m.normal({2, 2, 4, 5})}},
        {"bilinear align_corners, scale_factor 1.7",
         resized({.scale_factor = {1.7}, .mode = InterpolateMode::bilinear, .align_corners = true}),
         {m.normal({1, 2, 3, 4})}},
        {"linear, scale_factor 0.6",
         resized({.scale_factor = {0.6}, .mode = InterpolateMode::linear}),
         {m.normal({2, 2, 8})}},
        {"linear align_corners, size 9",
         resized({.size = 9, .mode = InterpolateMode::linear, .align_corners = true}),
         {m.normal({1, 3, 4})}}};
}

}  // namespace descent::samples
