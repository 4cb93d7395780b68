// What the reverse pass reuses: its per-thread tables across passes (nested, failed, of every
// size), gradient sums written in place only when nothing else holds them, a leaf taking over
// a gradient only when nobody else can see it, and saved inputs kept without aliases.

#include <algorithm>
#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <stdexcept>

namespace dc = descent;

namespace {
using Tensors = std::vector<dc::Tensor>;

dc::Tensor leaf(std::vector<double> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return dc::tensor(v, {n}, {.dtype = dc::float64, .requires_grad = true});
}

/// The identity, whose backward also keeps each gradient it returns.
std::vector<dc::Tensor> kept;
struct KeepGradient : dc::Function<KeepGradient> {
    static constexpr const char* name = "KeepGradient";
    static dc::Tensor forward(dc::FunctionContext&, const dc::Tensor& x) { return x.clone(); }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) {
        kept.push_back(grads[0] * 1.0);
        return {kept.back()};
    }
};

/// y = x + 1 + 1 + … (n additions): ∂y/∂x = 1 through a pass of n + 1 nodes.
dc::Tensor chain_of_adds(const dc::Tensor& x, int n) {
    dc::Tensor y = x;
    for (int i = 0; i < n; ++i) y = y + 1.0;
    return y;
}
}  // namespace

TEST_CASE("a gradient sum is updated in place only when nothing else holds it", "[engine]") {
    // Both gradients reaching h are also held in `kept`, whichever arrives first.
    dc::Tensor x = leaf({1.0, 2.0});
    const dc::Tensor h = x * 2.0;
    const dc::Tensor g = dc::tensor({5.0, 7.0}, {2}, {.dtype = dc::float64});
    (KeepGradient::apply(h) + KeepGradient::apply(h) * 3.0).backward(g);
    REQUIRE(kept.size() == 2);
    const std::vector<double> a = kept[0].to_vector(), b = kept[1].to_vector();
    CHECK(std::min(a, b) == std::vector<double>{5.0, 7.0});
    CHECK(std::max(a, b) == std::vector<double>{15.0, 21.0});
    CHECK(x.grad().to_vector() == std::vector<double>{40.0, 56.0});  // (5 + 15)·2, (7 + 21)·2
    kept.clear();
}

TEST_CASE("a gradient reaching one node twice leaves the caller's gradient alone", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    const dc::Tensor h = x * 2.0;
    const dc::Tensor g = dc::tensor({1.0, 3.0}, {2}, {.dtype = dc::float64});
    (h + h).backward(g);  // add's backward hands the same tensor to both inputs
    CHECK(g.to_vector() == std::vector<double>{1.0, 3.0});
    CHECK(x.grad().to_vector() == std::vector<double>{4.0, 12.0});
}

TEST_CASE("a leaf's gradient never shares storage with one a hook kept", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    std::vector<dc::Tensor> seen;
    x.register_hook([&](const dc::Tensor& grad) {
        seen.push_back(grad);
        return dc::Tensor{};
    });
    (x * 3.0).sum().backward();
    {
        const dc::NoGradGuard no_grad;
        x.grad().add_(1.0);  // as zero_grad without set_to_none writes it
    }
    (x * 3.0).sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{7.0, 7.0});
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].to_vector() == std::vector<double>{3.0, 3.0});
}

TEST_CASE("passes of every size in turn reuse the thread's tables correctly", "[engine]") {
    // Sizes that grow the table past what is kept between passes (5000 and 3000 nodes: those
    // tables are dropped at the end of their pass) and small ones that reuse theirs.
    for (const int n : {1, 5000, 2, 3000, 0, 5000, 7}) {
        dc::Tensor x = leaf({0.5});
        const dc::Tensor other = leaf({2.0});
        (chain_of_adds(x, n) * other).backward(dc::ones({1}, {.dtype = dc::float64}));
        INFO("chain of " << n);
        CHECK(x.grad().item() == 2.0);
        CHECK(other.grad().item() == 0.5 + n);
    }
}

TEST_CASE("a backward run from inside a hook has a pass of its own", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    dc::Tensor w = leaf({3.0});
    const dc::Tensor h = x * 2.0;
    h.register_hook([&](const dc::Tensor& g) {
        const dc::GradModeGuard record(true);  // hooks run with grad mode off, as in torch
        (w * w).sum().backward();              // ∂/∂w w² = 6
        return g;
    });
    (h * h).sum().backward();  // ∂/∂x (2x)² = 8x
    CHECK(x.grad().to_vector() == std::vector<double>{8.0, 16.0});
    CHECK(w.grad().item() == 6.0);
}

TEST_CASE("a pass stopped by an exception leaves nothing for the next", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    const dc::Tensor h = x * 3.0;
    bool fail = true;
    h.register_hook([&](const dc::Tensor& g) {
        if (fail) throw std::runtime_error("hook refused");
        return g;
    });
    const dc::Tensor y = (h * 2.0 + h).sum();
    CHECK_THROWS_WITH(y.backward({}, {.retain_graph = true}), "hook refused");
    CHECK_FALSE(x.grad().defined());
    fail = false;
    y.backward();
    CHECK(x.grad().to_vector() == std::vector<double>{9.0, 9.0});
}

TEST_CASE("a saved non-leaf input differentiates again and is checked for writes", "[engine]") {
    dc::Tensor x = leaf({1.5, -2.0});
    const dc::Tensor h = x * 2.0;
    const dc::Tensor y = (h * h * h).sum();  // y = 8x³: y' = 24x², y'' = 48x
    const dc::Tensor dy = dc::grad({y}, {x}, {.create_graph = true})[0];
    CHECK(dy.to_vector() == std::vector<double>{54.0, 96.0});
    CHECK(dc::grad({dy.sum()}, {x})[0].to_vector() == std::vector<double>{72.0, -96.0});

    dc::Tensor z = x * 2.0;
    const dc::Tensor zz = (z * z).sum();
    {
        const dc::NoGradGuard no_grad;
        z.add_(1.0);
    }
    CHECK_THROWS_AS(zz.backward(), dc::AutogradError);
}
