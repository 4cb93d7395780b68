// The bench/compare workloads in descent, written as a user writes them: nn::Sequential of
// nn::Linear and nn::ReLU, nn::cross_entropy or nn::mse_loss, optim::Adam, zero_grad (set to
// none). Threads: OMP_NUM_THREADS, as a user runs it.

#include <benchmark/benchmark.h>

#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <memory>
#include <string>
#include <vector>

#include "workloads.hpp"

namespace dc = descent;
namespace nn = descent::nn;
namespace opt = descent::optim;

namespace {

nn::Sequential mlp(const std::vector<std::int64_t>& widths) {
    nn::Sequential model;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
        if (l > 0) model.push_back(nn::ReLU());
        model.push_back(nn::Linear(widths[l], widths[l + 1]));
    }
    return model;
}

void step(benchmark::State& state, const compare::StepWorkload& w) {
    dc::manual_seed(0);
    nn::Sequential model = mlp(w.widths);
    const dc::Tensor x = dc::randn({w.batch, w.widths.front()});
    const dc::Tensor y =
        w.mse ? dc::randn({w.batch, w.widths.back()}) : dc::randint(0, w.widths.back(), {w.batch});
    opt::Adam adam(model.parameters(), {.lr = 1e-4});
    for (auto _ : state) {
        const dc::Tensor out = model(x);
        const dc::Tensor loss = w.mse ? nn::mse_loss(out, y) : nn::cross_entropy(out, y);
        adam.zero_grad();
        loss.backward();
        adam.step();
        benchmark::DoNotOptimize(loss.raw_data());
    }
}

nn::Sequential cnn(const compare::ConvWorkload& w) {
    const std::string name = w.name;
    if (name == "lenet5_28_b64") {
        return nn::Sequential{nn::Conv2d(1, 6, 5, {.padding = 2}),
                              nn::ReLU(),
                              nn::MaxPool2d(2),
                              nn::Conv2d(6, 16, 5),
                              nn::ReLU(),
                              nn::MaxPool2d(2),
                              nn::Flatten(),
                              nn::Linear(400, 120),
                              nn::ReLU(),
                              nn::Linear(120, 84),
                              nn::ReLU(),
                              nn::Linear(84, 10)};
    }
    if (name == "small_cnn_8_b32") {
        return nn::Sequential{nn::Conv2d(1, 16, 3, {.padding = 1}),
                              nn::ReLU(),
                              nn::MaxPool2d(2),
                              nn::Conv2d(16, 32, 3, {.padding = 1}),
                              nn::ReLU(),
                              nn::Flatten(),
                              nn::Linear(512, 10)};
    }
    return nn::Sequential{nn::Conv2d(3, 32, 3, {.padding = 1}),
                          nn::ReLU(),
                          nn::Conv2d(32, 64, 3, {.padding = 1}),
                          nn::ReLU(),
                          nn::MaxPool2d(2),
                          nn::Flatten(),
                          nn::Linear(16384, 10)};
}

void conv_step(benchmark::State& state, const compare::ConvWorkload& w) {
    dc::manual_seed(0);
    nn::Sequential model = cnn(w);
    const dc::Tensor x = dc::randn({w.batch, w.channels, w.image, w.image});
    const dc::Tensor y = dc::randint(0, 10, {w.batch});
    opt::Adam adam(model.parameters(), {.lr = 1e-4});
    for (auto _ : state) {
        const dc::Tensor loss = nn::cross_entropy(model(x), y);
        adam.zero_grad();
        loss.backward();
        adam.step();
        benchmark::DoNotOptimize(loss.raw_data());
    }
}

void recurrent(benchmark::State& state, const compare::RecurrentWorkload& w) {
    dc::manual_seed(0);
    nn::LSTM lstm(w.input, w.hidden);
    nn::GRU gru(w.input, w.hidden);
    nn::Module& layer = w.lstm ? static_cast<nn::Module&>(lstm) : gru;
    const dc::Tensor x = dc::randn({w.steps, w.batch, w.input});
    for (auto _ : state) {
        const dc::Tensor out = w.lstm ? lstm(x).output : gru(x).output;
        out.sum().backward();
        layer.zero_grad();
        benchmark::DoNotOptimize(out.raw_data());
    }
}

/// The block's module (a Sequential, or a Module computing the residual) and its input.
struct Block {
    std::shared_ptr<nn::Module> module;
    dc::Shape input;
};

struct ResidualBlock : nn::Module {
    nn::Conv2d& conv1 =
        register_module("conv1", nn::Conv2d(64, 64, 3, {.padding = 1, .bias = false}));
    nn::BatchNorm2d& bn1 = register_module("bn1", nn::BatchNorm2d(64));
    nn::Conv2d& conv2 =
        register_module("conv2", nn::Conv2d(64, 64, 3, {.padding = 1, .bias = false}));
    nn::BatchNorm2d& bn2 = register_module("bn2", nn::BatchNorm2d(64));
    dc::Tensor forward(const dc::Tensor& x) override {
        return dc::relu(bn2(conv2(dc::relu(bn1(conv1(x))))) + x);
    }
};

Block block(const std::string& name) {
    if (name == "resnet_basic_64_32_b32")
        return {std::make_shared<ResidualBlock>(), {32, 64, 32, 32}};
    if (name == "depthwise_separable_64_32_b32") {
        return {std::make_shared<nn::Sequential>(
                    nn::Conv2d(64, 64, 3, {.padding = 1, .groups = 64, .bias = false}),
                    nn::BatchNorm2d(64), nn::ReLU(), nn::Conv2d(64, 128, 1, {.bias = false}),
                    nn::BatchNorm2d(128), nn::ReLU()),
                {32, 64, 32, 32}};
    }
    if (name == "max_pool2_64_32_b32")
        return {std::make_shared<nn::MaxPool2d>(2), {32, 64, 32, 32}};
    if (name == "avg_pool2_64_32_b32")
        return {std::make_shared<nn::AvgPool2d>(2), {32, 64, 32, 32}};
    return {std::make_shared<nn::TransformerEncoderLayer>(
                128, 4, nn::TransformerEncoderLayerOptions{.dim_feedforward = 512, .dropout = 0.0}),
            {128, 16, 128}};
}

void block_step(benchmark::State& state, const compare::BlockWorkload& w) {
    dc::manual_seed(0);
    const Block b = block(w.name);
    dc::Tensor x = dc::randn(b.input).requires_grad_();
    for (auto _ : state) {
        const dc::Tensor out = (*b.module)(x);
        out.sum().backward();
        b.module->zero_grad();
        x.set_grad({});
        benchmark::DoNotOptimize(out.raw_data());
    }
}

void add_backward(benchmark::State& state) {
    dc::Tensor a = dc::full({1}, 1.0, {.requires_grad = true});
    dc::Tensor b = dc::full({1}, 2.0, {.requires_grad = true});
    const dc::Tensor one = dc::ones({1});  // the seed, made once as in compare_torch.cpp
    for (auto _ : state) {
        a.set_grad({});
        b.set_grad({});
        (a + b).backward(one);
    }
}

void chain(benchmark::State& state) {
    dc::Tensor a = dc::full({1}, 1.0, {.requires_grad = true});
    dc::Tensor b = dc::full({1}, 0.5, {.requires_grad = true});
    const dc::Tensor one = dc::ones({1});
    for (auto _ : state) {
        a.set_grad({});
        b.set_grad({});
        dc::Tensor y = a;
        for (int i = 0; i < compare::kChainOps; ++i) y = i % 2 ? y * b : y + b;
        y.backward(one);
    }
    state.counters["per_op"] = benchmark::Counter(
        static_cast<double>(compare::kChainOps),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <class Optimizer, class Options>
void update(benchmark::State& state, const compare::UpdateWorkload& w, Options options) {
    std::vector<dc::Tensor> params;
    for (std::int64_t i = 0; i < w.tensors; ++i) {
        dc::Tensor p = dc::full({w.elements}, 0.5, {.requires_grad = true});
        p.set_grad(dc::full({w.elements}, 1e-3));
        params.push_back(p);
    }
    Optimizer optimizer(params, options);
    optimizer.step();  // state buffers allocated outside the timed loop
    for (auto _ : state) optimizer.step();
}

/// The machine's bandwidth for the updates to be measured against (descent only, not a torch
/// workload): a STREAM triad a = b + s·c over 10M floats on get_num_threads() threads, 12 bytes
/// per element (plus the read-for-ownership of a, which the count leaves out, as STREAM does).
void triad(benchmark::State& state) {
    const std::int64_t n = 10'000'000;
    std::vector<float> a(static_cast<std::size_t>(n)), b(a.size(), 1.0f), c(a.size(), 2.0f);
    const float s = 3.0f;
    const int threads = dc::get_num_threads();
    for (auto _ : state) {
        float* __restrict pa = a.data();
        const float* __restrict pb = b.data();
        const float* __restrict pc = c.data();
#pragma omp parallel for num_threads(threads) schedule(static)
        for (std::int64_t i = 0; i < n; ++i) pa[i] = pb[i] + s * pc[i];
        benchmark::DoNotOptimize(a.data());
        benchmark::ClobberMemory();
    }
}

[[maybe_unused]] const int registered = [] {
    for (const auto& w : compare::step_workloads())
        benchmark::RegisterBenchmark((std::string("step/") + w.name).c_str(),
                                     [&w](benchmark::State& s) { step(s, w); })
            ->UseRealTime();
    for (const auto& w : compare::conv_workloads())
        benchmark::RegisterBenchmark((std::string("conv_step/") + w.name).c_str(),
                                     [&w](benchmark::State& s) { conv_step(s, w); })
            ->UseRealTime();
    for (const auto& w : compare::recurrent_workloads())
        benchmark::RegisterBenchmark((std::string("recurrent/") + w.name).c_str(),
                                     [&w](benchmark::State& s) { recurrent(s, w); })
            ->UseRealTime();
    for (const auto& w : compare::block_workloads())
        benchmark::RegisterBenchmark((std::string("block/") + w.name).c_str(),
                                     [&w](benchmark::State& s) { block_step(s, w); })
            ->UseRealTime();
    benchmark::RegisterBenchmark("add_backward/1", add_backward);
    benchmark::RegisterBenchmark("chain/100", chain);
    benchmark::RegisterBenchmark("triad/1x10M", triad)->UseRealTime();
    for (const auto& w : compare::update_workloads()) {
        benchmark::RegisterBenchmark(
            (std::string("adam/") + w.name).c_str(),
            [&w](benchmark::State& s) { update<opt::Adam>(s, w, opt::AdamOptions{.lr = 1e-3}); })
            ->UseRealTime();
        benchmark::RegisterBenchmark((std::string("sgd_momentum/") + w.name).c_str(),
                                     [&w](benchmark::State& s) {
                                         update<opt::SGD>(
                                             s, w, opt::SGDOptions{.lr = 1e-3, .momentum = 0.9});
                                     })
            ->UseRealTime();
    }
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
