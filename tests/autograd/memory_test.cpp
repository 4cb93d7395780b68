// Memory stays flat over many training steps, and very deep graphs neither overflow the stack
// on backward nor on destruction.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>

namespace dc = descent;

TEST_CASE("10,000 MLP-shaped steps leave no tensors or nodes behind", "[memory]") {
    dc::manual_seed(1);
    dc::Tensor w1 = (dc::randn({8, 16}) * 0.3).requires_grad_();
    dc::Tensor b1 = dc::zeros({16}, {.requires_grad = true});
    dc::Tensor w2 = (dc::randn({16, 3}) * 0.3).requires_grad_();
    const dc::Tensor x = dc::randn({4, 8});
    const dc::Tensor target = dc::int_tensor({0, 2, 1, 0}, {4, 1});

    auto step = [&] {
        const dc::Tensor h = dc::relu(dc::matmul(x, w1) + b1);
        const dc::Tensor logp = dc::log_softmax(dc::matmul(h, w2), 1);
        const dc::Tensor loss = -dc::gather(logp, 1, target).mean();
        for (auto* p : {&w1, &b1, &w2}) p->set_grad({});
        loss.backward();
        dc::NoGradGuard no_grad;
        for (auto* p : {&w1, &b1, &w2}) p->sub_(p->grad(), 0.01);
    };
    step();  // creates the leaves' accumulators and gradients once
    const auto tensors = dc::live_tensor_count();
    const auto nodes = dc::live_node_count();
    for (int i = 0; i < 10000; ++i) step();
    CHECK(dc::live_tensor_count() == tensors);
    CHECK(dc::live_node_count() == nodes);
}

TEST_CASE("a graph dropped without backward is freed", "[memory]") {
    const auto tensors = dc::live_tensor_count();
    const auto nodes = dc::live_node_count();
    {
        dc::Tensor x = dc::ones({3}, {.requires_grad = true});
        dc::Tensor y = (dc::exp(x) * x).sum();
        CHECK(dc::live_node_count() > nodes);
    }
    CHECK(dc::live_tensor_count() == tensors);
    CHECK(dc::live_node_count() == nodes);
}

TEST_CASE("a chain of 1,000,000 ops backpropagates and is destroyed", "[memory][deep]") {
    const auto nodes = dc::live_node_count();
    constexpr int kDepth = 1'000'000;
    dc::Tensor x = dc::ones({1}, {.dtype = dc::float64, .requires_grad = true});
    {
        dc::Tensor y = x;
        for (int i = 0; i < kDepth; ++i) y = y * 1.0;
        CHECK(dc::live_node_count() - nodes == kDepth + 1);  // + x's accumulator
        y.backward();
        CHECK(x.grad().item() == 1.0);
    }
    CHECK(dc::live_node_count() - nodes == 1);
    {
        // never backpropagated: destruction alone must not recurse, also through the saved
        // inputs that mul keeps (each holds the node of the previous step)
        const dc::Tensor c = dc::ones({1}, {.dtype = dc::float64});
        dc::Tensor y = x;
        for (int i = 0; i < kDepth; ++i) y = y * c;
    }
    CHECK(dc::live_node_count() - nodes == 1);
}

TEST_CASE("a create_graph backward into .grad() holds its leaf until the gradient is reset",
          "[memory]") {
    const auto tensors = dc::live_tensor_count();
    const auto nodes = dc::live_node_count();
    {
        dc::Tensor x = dc::ones({3}, {.requires_grad = true});
        (x * x).sum().backward({}, {.create_graph = true});
        CHECK(x.grad().grad_fn_name() != "");  // the gradient is recorded: it holds x
        x.set_grad({});                        // the way out: the cycle is broken
    }
    CHECK(dc::live_tensor_count() == tensors);
    CHECK(dc::live_node_count() == nodes);
    {
        dc::Tensor x = dc::ones({3}, {.requires_grad = true});
        const std::vector<dc::Tensor> g = dc::grad({(x * x).sum()}, {x}, {.create_graph = true});
        CHECK(g[0].grad_fn_name() != "");  // grad() stores nothing: no cycle
    }
    CHECK(dc::live_tensor_count() == tensors);
    CHECK(dc::live_node_count() == nodes);
    // (without the reset the leaf, its gradient and the graph between them would stay for the
    // life of the process, as in torch: LeakSanitizer reports them, so no test leaves them)
}
