// Hostile use of the tape: hooks that change a gradient's shape or dtype, gradients that would
// alias each other or the caller's tensors, create_graph's reference cycle, set_data, and bad
// gradcheck options.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <limits>

namespace dc = descent;
using Catch::Contains;

namespace {
dc::Tensor leaf(std::vector<double> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return dc::tensor(v, {n}, {.dtype = dc::float64, .requires_grad = true});
}
}  // namespace

TEST_CASE("hostile: a leaf hook returning another shape is refused", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2, 3});
    x.register_hook([](const dc::Tensor&) { return dc::zeros({5}, {.dtype = dc::float64}); });
    CHECK_THROWS_AS((x * 2.0).sum().backward(), dc::AutogradError);
    CHECK_THROWS_WITH((x * 2.0).sum().backward(),
                      Contains("hook") && Contains("[5]") && Contains("[3]"));
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("hostile: a leaf hook returning another dtype is refused", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2, 3});
    x.register_hook([](const dc::Tensor& g) { return g.to(dc::float32); });
    CHECK_THROWS_WITH((x * 2.0).sum().backward(), Contains("float32") && Contains("float64"));
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("hostile: a hook on an intermediate changing the shape is refused",
          "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2, 3});
    const dc::Tensor y = x * 2.0;
    y.register_hook([](const dc::Tensor&) { return dc::ones({1}, {.dtype = dc::float64}); });
    CHECK_THROWS_WITH(y.sum().backward(), Contains("hook"));
}

TEST_CASE("hostile: a hook keeping the shape may replace the gradient", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2, 3});
    x.register_hook([](const dc::Tensor& g) { return g * 10.0; });
    (x * 2.0).sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{20, 20, 20});
}

TEST_CASE("hostile: an empty hook is refused at registration", "[hostile][autograd]") {
    dc::Tensor x = leaf({1});
    CHECK_THROWS_WITH(x.register_hook(nullptr), Contains("register_hook"));
}

TEST_CASE("hostile: a + b under create_graph gives two unaliased gradients",
          "[hostile][autograd]") {
    dc::Tensor a = leaf({1, 2}), b = leaf({3, 4});
    (a + b).sum().backward({}, {.create_graph = true});
    CHECK(a.grad().raw_data() != b.grad().raw_data());
    (a * 3.0).sum().backward();  // accumulates into a.grad only
    CHECK(a.grad().to_vector() == std::vector<double>{4, 4});
    CHECK(b.grad().to_vector() == std::vector<double>{1, 1});
}

TEST_CASE("hostile: a + b without create_graph gives two unaliased gradients",
          "[hostile][autograd]") {
    dc::Tensor a = leaf({1, 2}), b = leaf({3, 4});
    (a + b).sum().backward();
    (a * 3.0).sum().backward();
    CHECK(a.grad().to_vector() == std::vector<double>{4, 4});
    CHECK(b.grad().to_vector() == std::vector<double>{1, 1});
}

TEST_CASE("hostile: the caller's output gradient is never a leaf's .grad", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    const dc::Tensor g = dc::tensor({5, 6}, {2}, {.dtype = dc::float64});
    x.backward(g, {.create_graph = true});
    (x * 1.0).sum().backward();
    CHECK(g.to_vector() == std::vector<double>{5, 6});
    CHECK(x.grad().to_vector() == std::vector<double>{6, 7});
    dc::Tensor y = leaf({1, 2});
    y.backward(g);
    (y * 1.0).sum().backward();
    CHECK(g.to_vector() == std::vector<double>{5, 6});
}

TEST_CASE("hostile: accumulation never writes into a gradient the caller holds",
          "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    (x * 2.0).sum().backward();
    const dc::Tensor held = x.grad();
    (x * 2.0).sum().backward();
    CHECK(held.to_vector() == std::vector<double>{2, 2});
    CHECK(x.grad().to_vector() == std::vector<double>{4, 4});
}

TEST_CASE("hostile: a gradient set by the caller is not modified in place", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    const dc::Tensor mine = dc::tensor({1, 1}, {2}, {.dtype = dc::float64});
    x.set_grad(mine);
    (x * 2.0).sum().backward();
    CHECK(mine.to_vector() == std::vector<double>{1, 1});
    CHECK(x.grad().to_vector() == std::vector<double>{3, 3});
}

TEST_CASE("hostile: grad() results for inputs sharing a gradient are distinct",
          "[hostile][autograd]") {
    dc::Tensor a = leaf({1, 2}), b = leaf({3, 4});
    auto gs = dc::grad({(a + b).sum()}, {a, b});
    CHECK(gs[0].raw_data() != gs[1].raw_data());
    gs[0].add_(1.0);
    CHECK(gs[1].to_vector() == std::vector<double>{1, 1});
}

TEST_CASE("hostile: create_graph's .grad cycle is freed by dropping the gradient",
          "[hostile][autograd]") {
    const auto nodes = dc::live_node_count();
    {
        dc::Tensor x = leaf({1, 2, 3});
        (x * x).sum().backward({}, {.create_graph = true});
        CHECK(dc::live_node_count() > nodes);  // x.grad = 2x holds a graph that holds x
        x.set_grad({});                        // zero_grad breaks the cycle
    }
    CHECK(dc::live_node_count() == nodes);
}

TEST_CASE("hostile: set_data keeps the tensor and refuses what does not fit",
          "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    const dc::Tensor alias = x;
    x.set_data(dc::tensor({3, 4}, {2}, {.dtype = dc::float32}));
    CHECK(alias.dtype() == dc::float32);
    CHECK(alias.requires_grad());
    CHECK_THROWS_AS(x.set_data(dc::ones({3})), dc::ShapeError);
    CHECK_THROWS_AS(x.set_data(dc::zeros({2}, {.dtype = dc::int64})), dc::DtypeError);
    CHECK_THROWS_AS((x * 2.0).set_data(dc::ones({2})), dc::AutogradError);
}

TEST_CASE("hostile: a graph that saved a tensor refuses backward after set_data",
          "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    const dc::Tensor y = (x * x).sum();
    x.set_data(dc::tensor({5, 6}, {2}, {.dtype = dc::float64}));
    CHECK_THROWS_WITH(y.backward(), Contains("modified in place"));
}

TEST_CASE("hostile: set_data converts an existing gradient", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    (x * 3.0).sum().backward();
    x.set_data(x.detach().to(dc::float32));
    CHECK(x.grad().dtype() == dc::float32);
    CHECK(x.grad().to_vector() == std::vector<double>{3, 3});
}

TEST_CASE("hostile: set_grad refuses another shape or dtype", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    CHECK_THROWS_AS(x.set_grad(dc::ones({3}, {.dtype = dc::float64})), dc::ShapeError);
    CHECK_THROWS_AS(x.set_grad(dc::ones({2})), dc::ShapeError);
}

TEST_CASE("hostile: gradcheck refuses NaN and negative options", "[hostile][autograd]") {
    const dc::Tensor x = leaf({1, 2});
    const dc::GradcheckScalarFn f = [](const std::vector<dc::Tensor>& in) { return in[0].sum(); };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(dc::gradcheck(f, {x}, {.eps = nan}),
                      Contains("gradcheck") && Contains("eps"));
    CHECK_THROWS_WITH(dc::gradcheck(f, {x}, {.eps = 0}), Contains("eps"));
    CHECK_THROWS_WITH(dc::gradcheck(f, {x}, {.atol = -1}), Contains("atol"));
    CHECK_THROWS_WITH(dc::gradgradcheck(f, {x}, {.rtol = nan}), Contains("rtol"));
    CHECK_THROWS_AS(dc::gradcheck(dc::GradcheckScalarFn{}, {x}), dc::Error);
}

TEST_CASE("hostile: backward twice through a freed graph", "[hostile][autograd]") {
    dc::Tensor x = leaf({1, 2});
    const dc::Tensor y = (x * x).sum();
    y.backward();
    CHECK_THROWS_AS(y.backward(), dc::AutogradError);
}

TEST_CASE("hostile: grad of an output that does not require grad", "[hostile][autograd]") {
    const dc::Tensor c = dc::ones({2});
    CHECK_THROWS_AS(dc::grad({c.sum()}, {c}), dc::AutogradError);
    CHECK_THROWS_AS(c.sum().backward(), dc::AutogradError);
    dc::Tensor x = leaf({1});
    CHECK_THROWS_AS((x * 2.0).backward(dc::ones({1})), dc::ShapeError);  // float32 for float64
}

TEST_CASE("hostile: requires_grad_ on integers and non-leaves", "[hostile][autograd]") {
    dc::Tensor i = dc::zeros({2}, {.dtype = dc::int64});
    CHECK_THROWS_AS(i.requires_grad_(), dc::DtypeError);
    dc::Tensor x = leaf({1});
    dc::Tensor y = x * 2.0;
    CHECK_THROWS_AS(y.requires_grad_(false), dc::AutogradError);
}

TEST_CASE("hostile: in-place update of a leaf in grad mode", "[hostile][autograd]") {
    dc::Tensor x = leaf({1});
    CHECK_THROWS_AS(x.add_(1.0), dc::AutogradError);
    CHECK_THROWS_AS(x.fill_(0.0), dc::AutogradError);
}
