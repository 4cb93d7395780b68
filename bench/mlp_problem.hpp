#pragma once
// The MLP both MLP benchmarks train: 784-256-256-10, ReLU, softmax cross-entropy, float32.
// Parameters (PyTorch's nn.Linear init, U(±1/√in)), inputs (standard normal) and labels come
// from one fixed seed, so the descent and the plain-Eigen versions compute the same numbers.

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace descent_bench {

inline constexpr int kMlpLayers = 3;
/// Widths of the layers' inputs and outputs: layer l maps kMlpWidths[l] → kMlpWidths[l + 1].
inline constexpr std::array<std::int64_t, kMlpLayers + 1> kMlpWidths{784, 256, 256, 10};

struct MlpProblem {
    std::int64_t batch = 0;
    std::vector<float> x;                               // [batch, 784], row-major
    std::vector<std::int64_t> labels;                   // [batch], each in [0, 10)
    std::array<std::vector<float>, kMlpLayers> weight;  // layer l: [out, in], row-major
    std::array<std::vector<float>, kMlpLayers> bias;    // layer l: [out]
};

inline MlpProblem make_mlp_problem(std::int64_t batch, std::uint32_t seed = 0) {
    std::mt19937 gen(seed);
    MlpProblem p;
    p.batch = batch;
    std::normal_distribution<float> normal(0.0f, 1.0f);
    p.x.resize(static_cast<std::size_t>(batch * kMlpWidths[0]));
    for (auto& v : p.x) v = normal(gen);
    std::uniform_int_distribution<std::int64_t> label(0, kMlpWidths[kMlpLayers] - 1);
    p.labels.resize(static_cast<std::size_t>(batch));
    for (auto& v : p.labels) v = label(gen);
    for (int l = 0; l < kMlpLayers; ++l) {
        const std::int64_t in = kMlpWidths[l], out = kMlpWidths[l + 1];
        const float bound = 1.0f / std::sqrt(static_cast<float>(in));
        std::uniform_real_distribution<float> uniform(-bound, bound);
        p.weight[l].resize(static_cast<std::size_t>(out * in));
        for (auto& v : p.weight[l]) v = uniform(gen);
        p.bias[l].resize(static_cast<std::size_t>(out));
        for (auto& v : p.bias[l]) v = uniform(gen);
    }
    return p;
}

}  // namespace descent_bench
