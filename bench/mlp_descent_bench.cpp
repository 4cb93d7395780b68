// Forward + backward of the MLP 784-256-256-10 (mlp_problem.hpp) with descent: three
// descent::linear layers, ReLU, and the cross-entropy as nn::cross_entropy computes it
// (descent::softmax_cross_entropy, one node; the same loss as
// -(log_softmax(logits, 1).gather(1, targets)).mean()). The six parameters are leaves requiring
// grad; their gradients are reset with set_grad({}) every iteration, as a training loop does
// before backward.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <descent/autograd.hpp>
#include <vector>

#include "mlp_problem.hpp"

namespace dc = descent;
using descent_bench::kMlpLayers;
using descent_bench::kMlpWidths;

namespace {

dc::Tensor float_tensor(const std::vector<float>& values, const dc::Shape& shape) {
    dc::Tensor t = dc::zeros(shape);
    std::copy(values.begin(), values.end(), t.mutable_data<float>());
    return t;
}

struct DescentMlp {
    dc::Tensor x;        // [batch, 784]
    dc::Tensor targets;  // [batch] int64 class indices
    dc::Tensor weights;  // [batch] ones: every row counts
    std::array<dc::Tensor, kMlpLayers> weight;
    std::array<dc::Tensor, kMlpLayers> bias;

    explicit DescentMlp(const descent_bench::MlpProblem& p)
        : x(float_tensor(p.x, {p.batch, kMlpWidths[0]})),
          targets(dc::int_tensor(p.labels, {p.batch})),
          weights(dc::ones({p.batch})) {
        for (int l = 0; l < kMlpLayers; ++l) {
            weight[l] = float_tensor(p.weight[l], {kMlpWidths[l + 1], kMlpWidths[l]});
            weight[l].requires_grad_();
            bias[l] = float_tensor(p.bias[l], {kMlpWidths[l + 1]});
            bias[l].requires_grad_();
        }
    }

    dc::Tensor loss() const {
        dc::Tensor h = x;
        for (int l = 0; l < kMlpLayers - 1; ++l) h = dc::relu(dc::linear(h, weight[l], bias[l]));
        const dc::Tensor logits = dc::linear(h, weight[kMlpLayers - 1], bias[kMlpLayers - 1]);
        return dc::softmax_cross_entropy(logits, targets, weights,
                                         static_cast<double>(targets.numel()));
    }

    void zero_grad() {
        for (int l = 0; l < kMlpLayers; ++l) {
            weight[l].set_grad({});
            bias[l].set_grad({});
        }
    }
};

void BM_MlpDescent(benchmark::State& state) {
    DescentMlp mlp(descent_bench::make_mlp_problem(state.range(0)));
    for (auto _ : state) {
        mlp.zero_grad();
        const dc::Tensor loss = mlp.loss();
        loss.backward();
        benchmark::DoNotOptimize(mlp.weight[0].grad().raw_data());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));  // samples
}

}  // namespace

BENCHMARK(BM_MlpDescent)->ArgName("batch")->Arg(32)->Arg(256)->UseRealTime();
