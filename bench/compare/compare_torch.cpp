// The bench/compare workloads in libtorch's C++ frontend, written as its user would: a
// torch::nn::Sequential of Linear and ReLU, cross_entropy or mse_loss, torch::optim::Adam, and
// gradients dropped (set to none, as descent does; libtorch 1.13's zero_grad() zeroes them
// instead). Threads: intra-op from BENCH_TORCH_THREADS (default 1); OpenBLAS's own from
// OPENBLAS_NUM_THREADS (compare.py sets both).

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>

#include "workloads.hpp"

namespace {

torch::nn::Sequential mlp(const std::vector<std::int64_t>& widths) {
    torch::nn::Sequential model;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
        if (l > 0) model->push_back(torch::nn::ReLU());
        model->push_back(torch::nn::Linear(widths[l], widths[l + 1]));
    }
    return model;
}

/// Drops every gradient (torch.optim's zero_grad(set_to_none=True)).
void drop_grads(const std::vector<torch::Tensor>& params) {
    for (const torch::Tensor& p : params) p.mutable_grad().reset();
}

void step(benchmark::State& state, const compare::StepWorkload& w) {
    torch::manual_seed(0);
    torch::nn::Sequential model = mlp(w.widths);
    const torch::Tensor x = torch::randn({w.batch, w.widths.front()});
    const torch::Tensor y = w.mse ? torch::randn({w.batch, w.widths.back()})
                                  : torch::randint(0, w.widths.back(), {w.batch}, torch::kLong);
    const std::vector<torch::Tensor> params = model->parameters();
    torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-4));
    for (auto _ : state) {
        const torch::Tensor out = model->forward(x);
        const torch::Tensor loss = w.mse ? torch::nn::functional::mse_loss(out, y)
                                         : torch::nn::functional::cross_entropy(out, y);
        drop_grads(params);
        loss.backward();
        adam.step();
        benchmark::DoNotOptimize(loss.data_ptr());
    }
}

torch::nn::Sequential cnn(const compare::ConvWorkload& w) {
    namespace tnn = torch::nn;
    const std::string name = w.name;
    if (name == "lenet5_28_b64") {
        return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(1, 6, 5).padding(2)), tnn::ReLU(),
                               tnn::MaxPool2d(2), tnn::Conv2d(6, 16, 5), tnn::ReLU(),
                               tnn::MaxPool2d(2), tnn::Flatten(), tnn::Linear(400, 120),
                               tnn::ReLU(), tnn::Linear(120, 84), tnn::ReLU(), tnn::Linear(84, 10));
    }
    if (name == "small_cnn_8_b32") {
        return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(1, 16, 3).padding(1)), tnn::ReLU(),
                               tnn::MaxPool2d(2),
                               tnn::Conv2d(tnn::Conv2dOptions(16, 32, 3).padding(1)), tnn::ReLU(),
                               tnn::Flatten(), tnn::Linear(512, 10));
    }
    return tnn::Sequential(tnn::Conv2d(tnn::Conv2dOptions(3, 32, 3).padding(1)), tnn::ReLU(),
                           tnn::Conv2d(tnn::Conv2dOptions(32, 64, 3).padding(1)), tnn::ReLU(),
                           tnn::MaxPool2d(2), tnn::Flatten(), tnn::Linear(16384, 10));
}

void conv_step(benchmark::State& state, const compare::ConvWorkload& w) {
    torch::manual_seed(0);
    torch::nn::Sequential model = cnn(w);
    const torch::Tensor x = torch::randn({w.batch, w.channels, w.image, w.image});
    const torch::Tensor y = torch::randint(0, 10, {w.batch}, torch::kLong);
    const std::vector<torch::Tensor> params = model->parameters();
    torch::optim::Adam adam(params, torch::optim::AdamOptions(1e-4));
    for (auto _ : state) {
        const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
        drop_grads(params);
        loss.backward();
        adam.step();
        benchmark::DoNotOptimize(loss.data_ptr());
    }
}

void recurrent(benchmark::State& state, const compare::RecurrentWorkload& w) {
    torch::manual_seed(0);
    torch::nn::LSTM lstm(w.input, w.hidden);
    torch::nn::GRU gru(w.input, w.hidden);
    const std::vector<torch::Tensor> params = w.lstm ? lstm->parameters() : gru->parameters();
    const torch::Tensor x = torch::randn({w.steps, w.batch, w.input});
    for (auto _ : state) {
        const torch::Tensor out =
            w.lstm ? std::get<0>(lstm->forward(x)) : std::get<0>(gru->forward(x));
        out.sum().backward();
        drop_grads(params);
        benchmark::DoNotOptimize(out.data_ptr());
    }
}

struct ResidualBlockImpl : torch::nn::Module {
    torch::nn::Conv2d conv1{torch::nn::Conv2dOptions(64, 64, 3).padding(1).bias(false)};
    torch::nn::BatchNorm2d bn1{64};
    torch::nn::Conv2d conv2{torch::nn::Conv2dOptions(64, 64, 3).padding(1).bias(false)};
    torch::nn::BatchNorm2d bn2{64};
    ResidualBlockImpl() {
        register_module("conv1", conv1);
        register_module("bn1", bn1);
        register_module("conv2", conv2);
        register_module("bn2", bn2);
    }
    torch::Tensor forward(const torch::Tensor& x) {
        return torch::relu(bn2(conv2(torch::relu(bn1(conv1(x))))) + x);
    }
};
TORCH_MODULE(ResidualBlock);

/// The block as a Sequential (AnyModule forward) and its input shape.
std::pair<torch::nn::Sequential, std::vector<std::int64_t>> block(const std::string& name) {
    namespace tnn = torch::nn;
    if (name == "resnet_basic_64_32_b32")
        return {tnn::Sequential(ResidualBlock()), {32, 64, 32, 32}};
    if (name == "depthwise_separable_64_32_b32") {
        return {tnn::Sequential(
                    tnn::Conv2d(tnn::Conv2dOptions(64, 64, 3).padding(1).groups(64).bias(false)),
                    tnn::BatchNorm2d(64), tnn::ReLU(),
                    tnn::Conv2d(tnn::Conv2dOptions(64, 128, 1).bias(false)), tnn::BatchNorm2d(128),
                    tnn::ReLU()),
                {32, 64, 32, 32}};
    }
    if (name == "max_pool2_64_32_b32")
        return {tnn::Sequential(tnn::MaxPool2d(2)), {32, 64, 32, 32}};
    if (name == "avg_pool2_64_32_b32")
        return {tnn::Sequential(tnn::AvgPool2d(2)), {32, 64, 32, 32}};
    return {tnn::Sequential(tnn::TransformerEncoderLayer(
                tnn::TransformerEncoderLayerOptions(128, 4).dim_feedforward(512).dropout(0.0))),
            {128, 16, 128}};
}

void block_step(benchmark::State& state, const compare::BlockWorkload& w) {
    torch::manual_seed(0);
    auto [model, shape] = block(w.name);
    const std::vector<torch::Tensor> params = model->parameters();
    const torch::Tensor x = torch::randn(shape, torch::requires_grad());
    for (auto _ : state) {
        const torch::Tensor out = model->forward(x);
        out.sum().backward();
        drop_grads(params);
        drop_grads({x});
        benchmark::DoNotOptimize(out.data_ptr());
    }
}

void add_backward(benchmark::State& state) {
    const torch::Tensor a = torch::full({1}, 1.0, torch::requires_grad());
    const torch::Tensor b = torch::full({1}, 2.0, torch::requires_grad());
    const torch::Tensor one = torch::ones({1});
    for (auto _ : state) {
        drop_grads({a, b});
        (a + b).backward(one);
    }
}

void chain(benchmark::State& state) {
    const torch::Tensor a = torch::full({1}, 1.0, torch::requires_grad());
    const torch::Tensor b = torch::full({1}, 0.5, torch::requires_grad());
    const torch::Tensor one = torch::ones({1});
    for (auto _ : state) {
        drop_grads({a, b});
        torch::Tensor y = a;
        for (int i = 0; i < compare::kChainOps; ++i) y = i % 2 ? y * b : y + b;
        y.backward(one);
    }
    state.counters["per_op"] = benchmark::Counter(
        static_cast<double>(compare::kChainOps),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <class Optimizer, class Options>
void update(benchmark::State& state, const compare::UpdateWorkload& w, Options options) {
    std::vector<torch::Tensor> params;
    const torch::NoGradGuard no_grad;
    for (std::int64_t i = 0; i < w.tensors; ++i) {
        torch::Tensor p = torch::full({w.elements}, 0.5, torch::requires_grad());
        p.mutable_grad() = torch::full({w.elements}, 1e-3);
        params.push_back(p);
    }
    Optimizer optimizer(params, options);
    optimizer.step();  // state buffers allocated outside the timed loop
    for (auto _ : state) optimizer.step();
}

[[maybe_unused]] const int registered = [] {
    const char* threads = std::getenv("BENCH_TORCH_THREADS");
    torch::set_num_threads(threads ? std::atoi(threads) : 1);
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
    for (const auto& w : compare::update_workloads()) {
        benchmark::RegisterBenchmark((std::string("adam/") + w.name).c_str(), [&w](benchmark::State&
                                                                                       s) {
            update<torch::optim::Adam>(s, w, torch::optim::AdamOptions(1e-3));
        })->UseRealTime();
        benchmark::RegisterBenchmark((std::string("sgd_momentum/") + w.name).c_str(),
                                     [&w](benchmark::State& s) {
                                         update<torch::optim::SGD>(
                                             s, w, torch::optim::SGDOptions(1e-3).momentum(0.9));
                                     })
            ->UseRealTime();
    }
    return 0;
}();

}  // namespace

BENCHMARK_MAIN();
