// The global generator: xoshiro256** (Blackman & Vigna) seeded through splitmix64, uniform
// doubles from the top 53 bits, normals by the Marsaglia polar method, integers by Lemire's
// multiply-and-reject. Every step is specified here, so streams do not depend on the platform.

#include "descent/random.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "descent/state_reader.hpp"
#include "kernels.hpp"

namespace descent {
namespace {
std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

__extension__ typedef unsigned __int128 uint128;

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

template <class Draw>
Tensor random_tensor(const Shape& shape, TensorOptions options, std::string_view op, Draw draw) {
    Tensor t = empty(shape, options.dtype, op);
    kernel::dispatch_floating(options.dtype, op, [&](auto tag) {
        using T = decltype(tag);
        auto values = kernel::out<T>(t);
        for (Eigen::Index i = 0; i < values.size(); ++i) values[i] = static_cast<T>(draw());
    });
    if (options.requires_grad) t.requires_grad_();
    return t;
}
}  // namespace

void Generator::seed_with(std::uint64_t seed) {
    std::uint64_t state = seed;
    for (auto& word : s_) word = splitmix64(state);
    has_spare_ = false;
}

std::uint64_t Generator::next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Generator::uniform() {
    return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double Generator::normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_normal_;
    }
    double u, v, s;
    do {
        u = 2.0 * uniform() - 1.0;
        v = 2.0 * uniform() - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt(-2.0 * std::log(s) / s);
    spare_normal_ = v * factor;
    has_spare_ = true;
    return u * factor;
}

std::uint64_t Generator::below(std::uint64_t bound) {
    if (bound == 0) throw Error("Generator::below: the bound must be positive, got 0");
    // Lemire: the high word of x·bound is uniform in [0, bound) once the biased low words
    // (those below 2⁶⁴ mod bound) are rejected.
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const uint128 product = static_cast<uint128>(next_u64()) * bound;
        if (static_cast<std::uint64_t>(product) >= threshold) {
            return static_cast<std::uint64_t>(product >> 64);
        }
    }
}

StateDict Generator::state_dict() const {
    std::vector<std::int64_t> words(4);
    for (int i = 0; i < 4; ++i) words[i] = std::bit_cast<std::int64_t>(s_[i]);
    StateDict out{{"words", int_tensor(words, {4})},
                  {"spare_normal", scalar_tensor(spare_normal_, {.dtype = Dtype::float64})},
                  {"has_spare", int_tensor({has_spare_ ? 1 : 0}, {})}};
    out.texts["config"] = "Generator(xoshiro256**)";
    return out;
}

StagedLoad Generator::stage_load(const StateDict& state) {
    StateReader in(state, "Generator.load_state_dict");
    in.expect_config("Generator(xoshiro256**)");
    const std::vector<std::int64_t> values =
        in.ints("words", {4}, std::numeric_limits<std::int64_t>::min()).to_int_vector();
    std::array<std::uint64_t, 4> next{};
    for (int i = 0; i < 4; ++i) next[i] = std::bit_cast<std::uint64_t>(values[i]);
    if ((next[0] | next[1] | next[2] | next[3]) == 0) {
        throw Error("Generator.load_state_dict: the all-zero state is not one xoshiro256** has");
    }
    const double spare = in.real("spare_normal");
    const bool has_spare = in.flag("has_spare");
    in.reject_unread();
    return [this, next, spare, has_spare] {
        std::copy(next.begin(), next.end(), s_);
        spare_normal_ = spare;
        has_spare_ = has_spare;
    };
}

Generator& global_generator() {
    thread_local Generator generator(0);
    return generator;
}

void manual_seed(std::uint64_t seed) {
    global_generator().seed_with(seed);
}

Tensor rand(const Shape& shape, TensorOptions options) {
    return random_tensor(shape, options, "rand", [] { return global_generator().uniform(); });
}

Tensor randn(const Shape& shape, TensorOptions options) {
    return random_tensor(shape, options, "randn", [] { return global_generator().normal(); });
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape) {
    if (high <= low) throw ShapeError(fmt::format("randint: empty range [{}, {})", low, high));
    Tensor t = empty(shape, Dtype::int64, "randint");
    auto* p = elements<std::int64_t>(t);
    // high − low in unsigned arithmetic: up to 2⁶⁴ − 1, which int64 cannot hold
    const std::uint64_t span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        p[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(low) +
                                         global_generator().below(span));
    }
    return t;
}

Tensor randperm(std::int64_t n) {
    Tensor t = empty({n}, Dtype::int64, "randperm");
    auto* order = elements<std::int64_t>(t);
    for (std::int64_t i = 0; i < n; ++i) order[i] = i;
    for (std::int64_t i = n - 1; i > 0; --i) {  // Fisher–Yates
        const auto j = static_cast<std::int64_t>(global_generator().below(i + 1));
        std::swap(order[i], order[j]);
    }
    return t;
}

namespace {
/// One row's draws with replacement: the first category whose running sum of weights exceeds
/// u · total, u uniform in [0, 1) (a zero weight adds nothing, so is never the first).
void draws_with_replacement(const double* weights, std::int64_t k, std::int64_t* out,
                            std::int64_t num_samples) {
    std::vector<double> running(static_cast<std::size_t>(k));
    double total = 0.0;
    std::int64_t last_positive = 0;
    for (std::int64_t i = 0; i < k; ++i) {
        total += weights[i];
        running[static_cast<std::size_t>(i)] = total;
        if (weights[i] > 0) last_positive = i;
    }
    for (std::int64_t s = 0; s < num_samples; ++s) {
        const double target = global_generator().uniform() * total;
        const auto first = std::upper_bound(running.begin(), running.end(), target);
        // u · total may round up to total: then the last category that has weight
        out[s] = std::min(static_cast<std::int64_t>(first - running.begin()), last_positive);
    }
}

/// One row's draws without replacement by the exponential race (Efraimidis–Spirakis): with
/// E_i ~ Exp(1), categories sorted by E_i / w_i come in the order successive draws without
/// replacement give them, each draw proportional to the weights still in.
void draws_without_replacement(const double* weights, std::int64_t k, std::int64_t* out,
                               std::int64_t num_samples) {
    std::vector<std::pair<double, std::int64_t>> race;
    for (std::int64_t i = 0; i < k; ++i) {
        const double exponential = -std::log1p(-global_generator().uniform());
        if (weights[i] > 0) race.emplace_back(exponential / weights[i], i);
    }
    std::partial_sort(race.begin(), race.begin() + num_samples, race.end());
    for (std::int64_t s = 0; s < num_samples; ++s)
        out[s] = race[static_cast<std::size_t>(s)].second;
}
}  // namespace

Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement) {
    constexpr std::string_view op = "multinomial";
    if (!probs.defined()) throw Error("multinomial: probs is undefined");
    if (probs.dim() != 1 && probs.dim() != 2) {
        throw ShapeError(fmt::format("multinomial: probs must be 1-D [K] or 2-D [R, K], got {}",
                                     shape_str(probs.shape())));
    }
    if (!is_floating(probs.dtype())) {
        throw DtypeError(fmt::format("multinomial: probs must be float32 or float64, got {}",
                                     dtype_name(probs.dtype())));
    }
    const std::int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
    const std::int64_t k = probs.size(probs.dim() - 1);
    if (num_samples <= 0) {
        throw Error(fmt::format("multinomial: num_samples must be positive, got {}", num_samples));
    }
    if (!replacement && num_samples > k) {
        throw Error(fmt::format(
            "multinomial: cannot draw {} samples from {} categories without replacement",
            num_samples, k));
    }
    // each row divided by its largest weight: sums of up to K values ≤ 1 cannot overflow
    std::vector<double> weights = probs.to_vector();
    for (std::int64_t r = 0; r < rows; ++r) {
        double* row = weights.data() + r * k;
        double largest = 0.0;
        std::int64_t positive = 0;
        for (std::int64_t i = 0; i < k; ++i) {
            if (!std::isfinite(row[i]) || row[i] < 0) {
                throw Error(fmt::format(
                    "multinomial: weights must be finite and non-negative, got {} in row {}",
                    row[i], r));
            }
            largest = std::max(largest, row[i]);
            positive += row[i] > 0 ? 1 : 0;
        }
        if (positive == 0) {
            throw Error(fmt::format("multinomial: row {} has no positive weight", r));
        }
        if (!replacement && num_samples > positive) {
            throw Error(fmt::format(
                "multinomial: cannot draw {} samples without replacement from row {}, which has "
                "{} positive weights",
                num_samples, r, positive));
        }
        for (std::int64_t i = 0; i < k; ++i) row[i] /= largest;
    }
    Shape shape{num_samples};
    if (probs.dim() == 2) shape.insert(shape.begin(), rows);
    Tensor t = empty(shape, Dtype::int64, op);
    auto* out = elements<std::int64_t>(t);
    for (std::int64_t r = 0; r < rows; ++r) {
        const double* row = weights.data() + r * k;
        if (replacement) {
            draws_with_replacement(row, k, out + r * num_samples, num_samples);
        } else {
            draws_without_replacement(row, k, out + r * num_samples, num_samples);
        }
    }
    return t;
}

}  // namespace descent
