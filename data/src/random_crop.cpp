// RandomCrop (augment.hpp). The crop reads each output pixel straight from the unpadded image
// through the padding's index map rather than padding the batch first: a large padding then
// costs nothing beyond the crops themselves.

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "descent/check.hpp"
#include "descent/data/augment.hpp"
#include "image_batch.hpp"

namespace descent::data {
namespace {

std::string_view mode_name(PaddingMode mode) {
    switch (mode) {
        case PaddingMode::zeros:
            return "zeros";
        case PaddingMode::reflect:
            return "reflect";
        case PaddingMode::replicate:
            return "replicate";
    }
    return "?";
}

/// The source index along an extent n of padded position q (padded by `pad` on each side), or
/// −1 for a zero: s = q − pad; reflect: −s below 0, 2(n − 1) − s from n on; replicate: s
/// clamped to [0, n − 1].
std::int64_t source_index(std::int64_t q, std::int64_t pad, std::int64_t n, PaddingMode mode) {
    const std::int64_t s = q - pad;
    if (s >= 0 && s < n) return s;
    switch (mode) {
        case PaddingMode::zeros:
            return -1;
        case PaddingMode::reflect:
            return s < 0 ? -s : 2 * (n - 1) - s;
        case PaddingMode::replicate:
            return s < 0 ? 0 : n - 1;
    }
    return -1;
}

/// out[n, c, i, j] = x[n, c, rows[n·h + i], cols[n·w + j]], or 0 where either index is −1.
template <class T>
void gather_crops(const T* x, T* out, std::int64_t samples, std::int64_t channels,
                  std::int64_t height, std::int64_t width, std::int64_t h, std::int64_t w,
                  const std::vector<std::int64_t>& rows, const std::vector<std::int64_t>& cols) {
    for (std::int64_t n = 0; n < samples; ++n) {
        for (std::int64_t c = 0; c < channels; ++c) {
            const T* plane = x + (n * channels + c) * height * width;
            T* o = out + (n * channels + c) * h * w;
            for (std::int64_t i = 0; i < h; ++i) {
                const std::int64_t r = rows[static_cast<std::size_t>(n * h + i)];
                for (std::int64_t j = 0; j < w; ++j) {
                    const std::int64_t k = cols[static_cast<std::size_t>(n * w + j)];
                    o[i * w + j] = r < 0 || k < 0 ? T{} : plane[r * width + k];
                }
            }
        }
    }
}

}  // namespace

RandomCrop::RandomCrop(Extents size, RandomCropOptions options)
    : RandomTransform(options.seed), options_(options) {
    const std::vector<std::int64_t> hw = size.expand(2, "RandomCrop", "size");
    height_ = check_count(hw[0], 1, "RandomCrop", "size (height)");
    width_ = check_count(hw[1], 1, "RandomCrop", "size (width)");
    check_count(options_.padding, 0, "RandomCrop", "padding");
}

std::string RandomCrop::config() const {
    return describe("RandomCrop", {{"size", std::vector<std::int64_t>{height_, width_}},
                                   {"padding", options_.padding},
                                   {"padding_mode", mode_name(options_.padding_mode)}});
}

Tensor RandomCrop::operator()(const Tensor& batch) {
    detail::check_image_batch(batch, "RandomCrop");
    const std::int64_t samples = batch.size(0), channels = batch.size(1);
    const std::int64_t height = batch.size(2), width = batch.size(3);
    const std::int64_t pad = options_.padding;
    if (options_.padding_mode == PaddingMode::reflect && (pad >= height || pad >= width)) {
        throw Error(fmt::format(
            "RandomCrop: reflect padding {} needs images larger than it, got {} (H, W = {}, {})",
            pad, shape_str(batch.shape()), height, width));
    }
    // the padded extents H + 2·padding, W + 2·padding, without overflow
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    const bool fits = pad <= (kMax - std::max(height, width)) / 2;
    const std::int64_t padded_h = fits ? height + 2 * pad : kMax;
    const std::int64_t padded_w = fits ? width + 2 * pad : kMax;
    if (height < 1 || width < 1) {
        throw ShapeError(
            fmt::format("RandomCrop: images without pixels, batch {}", shape_str(batch.shape())));
    }
    if (height_ > padded_h || width_ > padded_w) {
        throw ShapeError(fmt::format(
            "RandomCrop: crop size [{}, {}] is larger than the padded images of batch {} with "
            "padding {} (H + 2·padding, W + 2·padding = {}, {})",
            height_, width_, shape_str(batch.shape()), pad, padded_h, padded_w));
    }
    Tensor out = zeros({samples, channels, height_, width_}, {.dtype = batch.dtype()});
    // per sample: the top row, then the left column (torchvision's order); rows and cols hold
    // each output row's and column's source index
    std::vector<std::int64_t> rows(static_cast<std::size_t>(samples * height_));
    std::vector<std::int64_t> cols(static_cast<std::size_t>(samples * width_));
    for (std::int64_t n = 0; n < samples; ++n) {
        const auto range_h = static_cast<std::uint64_t>(padded_h - height_) + 1;
        const auto range_w = static_cast<std::uint64_t>(padded_w - width_) + 1;
        const auto top = static_cast<std::int64_t>(range_h > 1 ? generator_.below(range_h) : 0);
        const auto left = static_cast<std::int64_t>(range_w > 1 ? generator_.below(range_w) : 0);
        for (std::int64_t i = 0; i < height_; ++i) {
            rows[static_cast<std::size_t>(n * height_ + i)] =
                source_index(top + i, pad, height, options_.padding_mode);
        }
        for (std::int64_t j = 0; j < width_; ++j) {
            cols[static_cast<std::size_t>(n * width_ + j)] =
                source_index(left + j, pad, width, options_.padding_mode);
        }
    }
    const Tensor x = batch.detach();
    const auto run = [&]<class T>(T) {
        gather_crops(x.data<T>(), out.mutable_data<T>(), samples, channels, height, width, height_,
                     width_, rows, cols);
    };
    switch (batch.dtype()) {
        case Dtype::float32:
            run(float{});
            break;
        case Dtype::float64:
            run(double{});
            break;
        case Dtype::int64:
            run(std::int64_t{});
            break;
        case Dtype::boolean:
            run(bool{});
            break;
    }
    return out;
}

}  // namespace descent::data
