// conv_onednn.hpp: oneDNN primitives for the three products of a convolution, cached by shape,
// run over fixed ranges of samples.

#include "conv_onednn.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <compare>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>
#include <vector>

#include "descent/threads.hpp"
#include "kernels.hpp"
#include "threads_internal.hpp"

namespace descent::kernel::onednn {
namespace {
namespace dn = dnnl;
using detail::OneOpenMpThread;
using detail::Windows;
using Dims = dn::memory::dims;
using Format = dn::memory::format_tag;

/// The samples are split into at most this many fixed ranges (the most threads that can share a
/// convolution); each range's ∂W is a partial sum.
constexpr std::int64_t kRanges = 8;

enum class Direction { forward, input_grad, weight_grad };

/// A convolution of `samples` images: everything a primitive depends on.
struct Geometry {
    std::int64_t samples, channels, height, width, outputs, groups;
    Windows w;
    bool bias;
};

struct Key {
    Direction direction;
    std::array<std::int64_t, 17> values;
    auto operator<=>(const Key&) const = default;
};

Key key_of(Direction d, const Geometry& g) {
    const Windows& w = g.w;
    return {d,
            {g.samples, g.channels, g.height, g.width, g.outputs, g.groups, w.kernel_h, w.kernel_w,
             w.stride_h, w.stride_w, w.dilation_h, w.dilation_w, w.pad_h, w.pad_w, w.out_h, w.out_w,
             g.bias ? 1 : 0}};
}

const dn::engine& cpu() {
    static const dn::engine engine(dn::engine::kind::cpu, 0);
    return engine;
}

/// The plain layouts descent stores: images [N, C, H, W], weights [O, C/G, kh, kw] (grouped:
/// [G, O/G, C/G, kh, kw], the same bytes).
dn::memory::desc image_desc(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                            Format format = Format::nchw) {
    return {Dims{n, c, h, w}, dn::memory::data_type::f32, format};
}
dn::memory::desc weights_desc(const Geometry& g, bool any_layout = false) {
    const Windows& w = g.w;
    const std::int64_t per_group = g.channels / g.groups;
    if (g.groups == 1) {
        return {Dims{g.outputs, per_group, w.kernel_h, w.kernel_w}, dn::memory::data_type::f32,
                any_layout ? Format::any : Format::oihw};
    }
    return {Dims{g.groups, g.outputs / g.groups, per_group, w.kernel_h, w.kernel_w},
            dn::memory::data_type::f32, any_layout ? Format::any : Format::goihw};
}

/// A primitive for one direction and its layouts, with the reorders between descent's plain
/// layouts and the primitive's (a null reorder: the layouts agree).
struct Prepared {
    dn::primitive primitive;
    dn::memory::desc image, weights, output, scratchpad;
    dn::reorder image_in, weights_in, output_in, image_out, weights_out, output_out;
};

dn::reorder reorder_between(const dn::memory::desc& from, const dn::memory::desc& to) {
    if (from == to) return {};
    return dn::reorder(dn::reorder::primitive_desc(cpu(), from, cpu(), to));
}

Prepared prepare(Direction d, const Geometry& g, dn::algorithm algorithm) {
    const Windows& w = g.w;
    const auto any_image = [](std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t wd) {
        return image_desc(n, c, h, wd, Format::any);
    };
    const dn::memory::desc x = any_image(g.samples, g.channels, g.height, g.width);
    const dn::memory::desc y = any_image(g.samples, g.outputs, w.out_h, w.out_w);
    const dn::memory::desc weights = weights_desc(g, true);
    const Dims strides{w.stride_h, w.stride_w};
    const Dims dilation{w.dilation_h - 1, w.dilation_w - 1};  // oneDNN counts the gaps
    const Dims pad_before{w.pad_h, w.pad_w};
    // the padding after the last row (negative when the windows stop short of the edge)
    const Dims pad_after{
        (w.out_h - 1) * w.stride_h + (w.kernel_h - 1) * w.dilation_h + 1 - g.height - w.pad_h,
        (w.out_w - 1) * w.stride_w + (w.kernel_w - 1) * w.dilation_w + 1 - g.width - w.pad_w};
    dn::primitive_attr attr;
    attr.set_scratchpad_mode(dn::scratchpad_mode::user);  // each call brings its own
    const dn::memory::desc bias =
        g.bias ? dn::memory::desc(Dims{g.outputs}, dn::memory::data_type::f32, Format::x)
               : dn::memory::desc();
    const dn::convolution_forward::primitive_desc forward(
        dn::convolution_forward::desc(dn::prop_kind::forward_training, algorithm, x, weights, bias,
                                      y, strides, dilation, pad_before, pad_after),
        attr, cpu());

    Prepared p;
    if (d == Direction::forward) {
        p.primitive = dn::convolution_forward(forward);
        p.image = forward.src_desc();
        p.weights = forward.weights_desc();
        p.output = forward.dst_desc();
        p.scratchpad = forward.scratchpad_desc();
    } else if (d == Direction::input_grad) {
        const dn::convolution_backward_data::primitive_desc pd(
            dn::convolution_backward_data::desc(algorithm, x, weights, y, strides, dilation,
                                                pad_before, pad_after),
            attr, cpu(), forward);
        p.primitive = dn::convolution_backward_data(pd);
        p.image = pd.diff_src_desc();
        p.weights = pd.weights_desc();
        p.output = pd.diff_dst_desc();
        p.scratchpad = pd.scratchpad_desc();
    } else {
        const dn::convolution_backward_weights::primitive_desc pd(
            dn::convolution_backward_weights::desc(algorithm, x, weights, y, strides, dilation,
                                                   pad_before, pad_after),
            attr, cpu(), forward);
        p.primitive = dn::convolution_backward_weights(pd);
        p.image = pd.src_desc();
        p.weights = pd.diff_weights_desc();
        p.output = pd.diff_dst_desc();
        p.scratchpad = pd.scratchpad_desc();
    }
    const dn::memory::desc plain_x = image_desc(g.samples, g.channels, g.height, g.width);
    const dn::memory::desc plain_y = image_desc(g.samples, g.outputs, w.out_h, w.out_w);
    const dn::memory::desc plain_w = weights_desc(g);
    p.image_in = reorder_between(plain_x, p.image);
    p.image_out = reorder_between(p.image, plain_x);
    p.weights_in = reorder_between(plain_w, p.weights);
    p.weights_out = reorder_between(p.weights, plain_w);
    p.output_in = reorder_between(plain_y, p.output);
    p.output_out = reorder_between(p.output, plain_y);
    return p;
}

/// Whether a 3×3 convolution goes through Winograd's F(4×4, 3×3): a 6×6 input tile becomes a
/// 4×4 output tile with 36 multiplies per channel pair instead of 144, for extra additions and
/// transforms that pay off from 32 channels on and 16×16 outputs (one thread, batch 32, fwd +
/// bwd, oneDNN 2.6 on AVX-512: 64→64 at 32×32 71.6 → 32.9 ms, 256→256 at 16×16 311 → 169 ms;
/// 32→32 at 8×8 1.39 → 1.85 ms, 512→512 at 8×8 363 → 1009 ms). Its float32 rounding error is
/// a few times direct's and still of float32's order (64→64 at 32×32 against float64: output
/// 7.8e-7 RMS relative, direct 2.2e-7; ∂W 5.9e-7, direct 1.1e-6).
bool winograd_pays(const Geometry& g) {
    const Windows& w = g.w;
    return g.groups == 1 && w.kernel_h == 3 && w.kernel_w == 3 && w.stride_h == 1 &&
           w.stride_w == 1 && w.dilation_h == 1 && w.dilation_w == 1 && g.channels >= 32 &&
           g.outputs >= 32 && w.out_h >= 16 && w.out_w >= 16;
}

/// The primitive for (d, g): Winograd's where it pays and oneDNN implements it (AVX-512 cores),
/// else direct; nothing when oneDNN implements neither.
std::optional<Prepared> prepare(Direction d, const Geometry& g) {
    for (const dn::algorithm algorithm :
         {dn::algorithm::convolution_winograd, dn::algorithm::convolution_direct}) {
        if (algorithm == dn::algorithm::convolution_winograd && !winograd_pays(g)) continue;
        try {
            return prepare(d, g, algorithm);
        } catch (const dn::error& e) {
            if (e.status == dnnl_out_of_memory) throw std::bad_alloc();
        }
    }
    return std::nullopt;
}

/// The prepared primitive for (d, g), made once per process on one OpenMP thread; nothing when
/// oneDNN does not implement it.
std::shared_ptr<const Prepared> prepared(Direction d, const Geometry& g) {
    static std::mutex mutex;
    static std::map<Key, std::shared_ptr<const Prepared>> cache;
    const Key key = key_of(d, g);
    const std::lock_guard lock(mutex);
    if (const auto found = cache.find(key); found != cache.end()) return found->second;
    std::shared_ptr<const Prepared> made;
    const OneOpenMpThread one;
    if (std::optional<Prepared> p = prepare(d, g))
        made = std::make_shared<const Prepared>(std::move(*p));
    if (cache.size() >= 256) cache.clear();  // shapes seen once (a sweep) do not pile up
    cache.emplace(key, made);
    return made;
}

/// memory over descent's plain buffer, or a buffer in the primitive's layout filled from it.
dn::memory input(const dn::reorder& into, const dn::memory::desc& plain,
                 const dn::memory::desc& laid_out, const float* data, dn::stream& s) {
    dn::memory user(plain, cpu(), const_cast<float*>(data));  // oneDNN only reads it
    if (!into) return user;
    dn::memory converted(laid_out, cpu());
    into.execute(s, user, converted);
    return converted;
}

/// Runs the prepared primitive on one range of samples: x, y and w are descent's plain buffers
/// for that range (the result's among them is written).
void run(Direction d, const Geometry& g, const Prepared& p, const float* x, const float* w,
         const float* bias, const float* y, float* result) {
    thread_local dn::stream stream(cpu());
    const dn::memory::desc plain_x = image_desc(g.samples, g.channels, g.height, g.width);
    const dn::memory::desc plain_y = image_desc(g.samples, g.outputs, g.w.out_h, g.w.out_w);
    const dn::memory::desc plain_w = weights_desc(g);
    dn::memory scratchpad(p.scratchpad, cpu());
    const auto output = [&](const dn::memory::desc& plain, const dn::memory::desc& laid_out,
                            const dn::reorder& out, auto&& compute) {
        dn::memory user(plain, cpu(), result);
        dn::memory target = out ? dn::memory(laid_out, cpu()) : user;
        compute(target);
        if (out) out.execute(stream, target, user);
    };
    if (d == Direction::forward) {
        const dn::memory src = input(p.image_in, plain_x, p.image, x, stream);
        const dn::memory weights = input(p.weights_in, plain_w, p.weights, w, stream);
        output(plain_y, p.output, p.output_out, [&](dn::memory& dst) {
            std::unordered_map<int, dn::memory> args{{DNNL_ARG_SRC, src},
                                                     {DNNL_ARG_WEIGHTS, weights},
                                                     {DNNL_ARG_DST, dst},
                                                     {DNNL_ARG_SCRATCHPAD, scratchpad}};
            if (g.bias) {
                args.emplace(DNNL_ARG_BIAS,
                             dn::memory({Dims{g.outputs}, dn::memory::data_type::f32, Format::x},
                                        cpu(), const_cast<float*>(bias)));
            }
            p.primitive.execute(stream, args);
        });
    } else if (d == Direction::input_grad) {
        const dn::memory diff_dst = input(p.output_in, plain_y, p.output, y, stream);
        const dn::memory weights = input(p.weights_in, plain_w, p.weights, w, stream);
        output(plain_x, p.image, p.image_out, [&](dn::memory& diff_src) {
            p.primitive.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DIFF_SRC, diff_src},
                                         {DNNL_ARG_SCRATCHPAD, scratchpad}});
        });
    } else {
        const dn::memory diff_dst = input(p.output_in, plain_y, p.output, y, stream);
        const dn::memory src = input(p.image_in, plain_x, p.image, x, stream);
        output(plain_w, p.weights, p.weights_out, [&](dn::memory& diff_weights) {
            p.primitive.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_SRC, src},
                                         {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                         {DNNL_ARG_SCRATCHPAD, scratchpad}});
        });
    }
    stream.wait();
}

/// The sample ranges [first, last) of a batch of n: kRanges at most, fixed by n alone.
struct Ranges {
    std::int64_t n, count;
    std::int64_t first(std::int64_t r) const { return n * r / count; }
    std::int64_t size(std::int64_t r) const { return first(r + 1) - first(r); }
};

/// Prepares direction d for every range size of `ranges` (at most two); nothing if oneDNN does
/// not implement one of them.
std::optional<std::vector<std::shared_ptr<const Prepared>>> prepare_ranges(Direction d, Geometry g,
                                                                           const Ranges& ranges) {
    std::vector<std::shared_ptr<const Prepared>> per_range;
    for (std::int64_t r = 0; r < ranges.count; ++r) {
        g.samples = ranges.size(r);
        if (r > 0 && g.samples == ranges.size(r - 1)) {
            per_range.push_back(per_range.back());
            continue;
        }
        auto p = prepared(d, g);
        if (!p) return std::nullopt;
        per_range.push_back(std::move(p));
    }
    return per_range;
}

/// Runs body(range) over the ranges, on several threads when the convolution's multiply-adds
/// reach the parallel threshold, each range on one OpenMP thread.
template <class Body>
void over_ranges(const Ranges& ranges, double work, Body&& body) {
    const int threads =
        ranges.count > 1 && work >= static_cast<double>(parallel_threshold())
            ? static_cast<int>(std::min<std::int64_t>(get_num_threads(), ranges.count))
            : 1;
    parallel_for(ranges.count, threads, [&](std::int64_t r, int) {
        const OneOpenMpThread one;
        try {
            body(r);
        } catch (const dn::error& e) {  // a buffer oneDNN could not allocate, say
            if (e.status == dnnl_out_of_memory) throw std::bad_alloc();
            throw Error(fmt::format("conv2d: oneDNN failed: {}", e.what()));
        }
    });
}

Geometry geometry_of(const Shape& x, const Shape& weight, const Windows& w, std::int64_t groups,
                     bool bias) {
    return {x[0], x[1], x[2], x[3], weight[0], groups, w, bias};
}

double work_of(const Geometry& g) {  // multiply-adds of one direction
    return static_cast<double>(g.samples) * static_cast<double>(g.outputs) *
           static_cast<double>(g.channels / g.groups) * static_cast<double>(g.w.kernel_h) *
           static_cast<double>(g.w.kernel_w) * static_cast<double>(g.w.out_h) *
           static_cast<double>(g.w.out_w);
}

bool takes(const Tensor& t, const Geometry& g) {
    return t.dtype() == Dtype::float32 && g.samples > 0 && work_of(g) > 0;
}
}  // namespace

std::optional<Tensor> conv_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                   const Windows& win, std::int64_t groups) {
    const Geometry g = geometry_of(x.shape(), weight.shape(), win, groups, bias.defined());
    if (!takes(x, g)) return std::nullopt;
    const Ranges ranges{g.samples, std::min(g.samples, kRanges)};
    const auto prepared = prepare_ranges(Direction::forward, g, ranges);
    if (!prepared) return std::nullopt;
    Tensor y = empty({g.samples, g.outputs, win.out_h, win.out_w}, Dtype::float32, "conv2d");
    const std::int64_t image = g.channels * g.height * g.width,
                       out = g.outputs * win.out_h * win.out_w;
    float* result = elements<float>(y);
    over_ranges(ranges, work_of(g), [&](std::int64_t r) {
        Geometry part = g;
        part.samples = ranges.size(r);
        run(Direction::forward, part, *(*prepared)[static_cast<std::size_t>(r)],
            x.data<float>() + ranges.first(r) * image, weight.data<float>(),
            g.bias ? bias.data<float>() : nullptr, nullptr, result + ranges.first(r) * out);
    });
    return y;
}

std::optional<Tensor> conv_input_grad(const Tensor& g_out, const Tensor& weight,
                                      const Shape& x_shape, const Windows& win,
                                      std::int64_t groups) {
    const Geometry g = geometry_of(x_shape, weight.shape(), win, groups, false);
    if (!takes(g_out, g)) return std::nullopt;
    const Ranges ranges{g.samples, std::min(g.samples, kRanges)};
    const auto prepared = prepare_ranges(Direction::input_grad, g, ranges);
    if (!prepared) return std::nullopt;
    Tensor dx = empty(x_shape, Dtype::float32, "conv2d");
    const std::int64_t image = g.channels * g.height * g.width,
                       out = g.outputs * win.out_h * win.out_w;
    float* result = elements<float>(dx);
    over_ranges(ranges, work_of(g), [&](std::int64_t r) {
        Geometry part = g;
        part.samples = ranges.size(r);
        run(Direction::input_grad, part, *(*prepared)[static_cast<std::size_t>(r)], nullptr,
            weight.data<float>(), nullptr, g_out.data<float>() + ranges.first(r) * out,
            result + ranges.first(r) * image);
    });
    return dx;
}

std::optional<Tensor> conv_weight_grad(const Tensor& g_out, const Tensor& x,
                                       const Shape& weight_shape, const Windows& win,
                                       std::int64_t groups) {
    const Geometry g = geometry_of(x.shape(), weight_shape, win, groups, false);
    if (!takes(x, g)) return std::nullopt;
    const Ranges ranges{g.samples, std::min(g.samples, kRanges)};
    const auto prepared = prepare_ranges(Direction::weight_grad, g, ranges);
    if (!prepared) return std::nullopt;
    Tensor dw = empty(weight_shape, Dtype::float32, "conv2d");
    const std::int64_t image = g.channels * g.height * g.width,
                       out = g.outputs * win.out_h * win.out_w;
    const auto weights = static_cast<std::size_t>(dw.numel());
    std::vector<float> partial(static_cast<std::size_t>(ranges.count) * weights);
    over_ranges(ranges, work_of(g), [&](std::int64_t r) {
        Geometry part = g;
        part.samples = ranges.size(r);
        run(Direction::weight_grad, part, *(*prepared)[static_cast<std::size_t>(r)],
            x.data<float>() + ranges.first(r) * image, nullptr, nullptr,
            g_out.data<float>() + ranges.first(r) * out,
            partial.data() + static_cast<std::size_t>(r) * weights);
    });
    float* sum = elements<float>(dw);  // ∂W = Σ over the ranges, in range order
    std::copy_n(partial.data(), weights, sum);
    for (std::int64_t r = 1; r < ranges.count; ++r) {
        const float* part = partial.data() + static_cast<std::size_t>(r) * weights;
        for (std::size_t i = 0; i < weights; ++i) sum[i] += part[i];
    }
    return dw;
}

}  // namespace descent::kernel::onednn
