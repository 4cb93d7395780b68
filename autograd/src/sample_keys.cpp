#include "descent/sample_keys.hpp"

#include <fmt/format.h>

#include <string>
#include <type_traits>

#include "descent/error.hpp"

namespace descent {
namespace {
constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15;  // 2⁶⁴/φ, SplitMix64's increment

thread_local SampleKeys* active_keys = nullptr;

/// SplitMix64's finaliser (Steele, Lea, Flood 2014), a bijection of 64-bit words:
/// z ← (z ⊕ z≫30)·0xbf58476d1ce4e5b9, z ← (z ⊕ z≫27)·0x94d049bb133111eb, z ⊕ z≫31.
std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
}

/// One link of the chain, h ← mix(h + (v + 1)·γ) mod 2⁶⁴: a bijection in h for a fixed v and
/// in v for a fixed h, so every bit of every input reaches the output.
std::uint64_t step(std::uint64_t h, std::uint64_t v) {
    return mix(h + (v + 1) * kGamma);
}

/// "float32 [3]", or "an undefined tensor".
std::string describe(const Tensor& t) {
    if (!t.defined()) return "an undefined tensor";
    return fmt::format("{} {}", dtype_name(t.dtype()), shape_str(t.shape()));
}
}  // namespace

SampleKeys::SampleKeys(Tensor rows, std::uint64_t seed, std::uint64_t stream)
    : seed_(seed), stream_(stream), previous_(active_keys) {
    if (!rows.defined() || rows.dtype() != Dtype::int64 || rows.dim() != 1) {
        throw Error(fmt::format("SampleKeys: rows must be a 1-D int64 tensor of keys, got {}",
                                describe(rows)));
    }
    rows_ = rows.to_int_vector();
    active_keys = this;
}

SampleKeys::~SampleKeys() {
    active_keys = previous_;
}

SampleKeys* SampleKeys::active() {
    return active_keys;
}

Tensor SampleKeys::uniform(const Shape& shape, Dtype dtype, std::string_view op) {
    if (shape.empty()) {
        throw ShapeError(
            fmt::format("{}: a 0-dim input has no rows for the {} keys of SampleKeys", op, rows()));
    }
    if (shape[0] != rows()) {
        throw ShapeError(fmt::format("{}: input {} has {} rows, but SampleKeys has {} keys", op,
                                     shape_str(shape), shape[0], rows()));
    }
    if (!is_floating(dtype)) {
        throw DtypeError(fmt::format("{}: sample-keyed draws need a floating dtype, got {}", op,
                                     dtype_name(dtype)));
    }
    Tensor out = zeros(shape, {.dtype = dtype});
    const std::int64_t per_row = rows() > 0 ? out.numel() / rows() : 0;
    const std::uint64_t call = calls_++;
    // u(seed, stream, key, call, j) = ⌊step(H, j) / 2¹¹⌋ · 2⁻⁵³ with
    // H = step(step(step(step(0, seed), stream), key), call): a row's elements j = 0, 1, … are
    // SplitMix64's outputs from the state H.
    const auto fill = [&](auto* values) {
        using T = std::remove_pointer_t<decltype(values)>;
        const std::uint64_t prefix = step(step(0, seed_), stream_);
        for (std::int64_t i = 0; i < rows(); ++i) {
            const auto key = static_cast<std::uint64_t>(rows_[static_cast<std::size_t>(i)]);
            const std::uint64_t h = step(step(prefix, key), call);
            for (std::int64_t j = 0; j < per_row; ++j) {
                const double u =
                    static_cast<double>(step(h, static_cast<std::uint64_t>(j)) >> 11) * 0x1.0p-53;
                values[i * per_row + j] = static_cast<T>(u);
            }
        }
    };
    if (dtype == Dtype::float32) {
        fill(out.mutable_data<float>());
    } else {
        fill(out.mutable_data<double>());
    }
    return out;
}

}  // namespace descent
