// The tape: accumulation, retain_graph, grad(), create_graph, hooks, grad mode, version checks.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <thread>

namespace dc = descent;

namespace {
dc::Tensor leaf(std::vector<double> v, dc::Shape s = {}) {
    if (s.empty() && v.size() != 1) s = {static_cast<std::int64_t>(v.size())};
    return dc::tensor(v, s, {.dtype = dc::float64, .requires_grad = true});
}
}  // namespace

TEST_CASE("backward accumulates into leaf gradients until they are reset", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0, 3.0});
    (x * x).sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{2.0, 4.0, 6.0});
    (x * 3.0).sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{5.0, 7.0, 9.0});
    x.set_grad({});
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("a tensor used twice gets the sum of both paths", "[engine]") {
    dc::Tensor x = leaf({3.0});
    const dc::Tensor y = x * x + x;  // dy/dx = 2x + 1
    y.backward();
    CHECK(x.grad().item() == 7.0);
}

TEST_CASE("the leaf gradient does not alias the gradient passed in", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    const dc::Tensor g = dc::tensor({1.0, 1.0}, {2}, {.dtype = dc::float64});
    (x * 1.0).backward(g);
    {
        dc::NoGradGuard no_grad;
        x.grad().add_(1.0);
    }
    CHECK(g.to_vector() == std::vector<double>{1.0, 1.0});
}

TEST_CASE("a second backward through a freed graph is an error", "[engine]") {
    dc::Tensor x = leaf({2.0});
    const dc::Tensor y = dc::exp(x);
    y.backward();
    CHECK_THROWS_WITH(y.backward(), Catch::Contains("exp") && Catch::Contains("retain_graph"));
}

TEST_CASE("retain_graph allows a second backward", "[engine]") {
    dc::Tensor x = leaf({2.0});
    const dc::Tensor y = dc::exp(x);
    y.backward({}, {.retain_graph = true});
    y.backward();
    CHECK(x.grad().item() == Approx(2.0 * std::exp(2.0)).epsilon(1e-15));
}

TEST_CASE("backward on a non-scalar needs an explicit gradient", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0, 3.0, 4.0}, {2, 2});
    CHECK_THROWS_WITH((x * 2.0).backward(),
                      Catch::Contains("backward") && Catch::Contains("[2,2]"));
    CHECK_THROWS_AS((x * 2.0).backward(dc::ones({3}, {.dtype = dc::float64})), dc::ShapeError);
}

TEST_CASE("backward on a tensor that does not require grad is an error", "[engine]") {
    const dc::Tensor x = dc::ones({2});
    CHECK_THROWS_AS(x.sum().backward(), dc::AutogradError);
}

TEST_CASE("grad() returns gradients without touching .grad()", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    dc::Tensor w = leaf({3.0, -1.0});
    const dc::Tensor y = (x * w).sum();
    const auto g = dc::grad({y}, {x, w});
    CHECK(g[0].to_vector() == std::vector<double>{3.0, -1.0});
    CHECK(g[1].to_vector() == std::vector<double>{1.0, 2.0});
    CHECK_FALSE(x.grad().defined());
    CHECK_FALSE(w.grad().defined());
}

TEST_CASE("grad() of a non-leaf input", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    const dc::Tensor h = x * 2.0;
    const dc::Tensor y = (h * h).sum();
    const auto g = dc::grad({y}, {h});
    CHECK(g[0].to_vector() == std::vector<double>{4.0, 8.0});
}

TEST_CASE("grad() with unused inputs", "[engine]") {
    dc::Tensor x = leaf({1.0});
    dc::Tensor unused = leaf({1.0});
    const dc::Tensor y = x * 2.0;
    CHECK_THROWS_WITH(dc::grad({y}, {x, unused}), Catch::Contains("input 1"));
    const auto g = dc::grad({y}, {x, unused}, {}, {.allow_unused = true});
    CHECK(g[0].item() == 2.0);
    CHECK_FALSE(g[1].defined());
}

TEST_CASE("create_graph gives Hessian-vector products", "[engine]") {
    // f(x) = Σ x³ → ∇f = 3x², H = diag(6x), H·v = 6x ⊙ v
    dc::Tensor x = leaf({1.0, -2.0, 0.5});
    const dc::Tensor v = dc::tensor({1.0, 2.0, 3.0}, {3}, {.dtype = dc::float64});
    const dc::Tensor f = (x * x * x).sum();
    const auto g = dc::grad({f}, {x}, {}, {.create_graph = true});
    REQUIRE(g[0].requires_grad());
    const auto hv = dc::grad({(g[0] * v).sum()}, {x});
    CHECK(hv[0].to_vector() == std::vector<double>{6.0, -24.0, 9.0});
}

TEST_CASE("grad takes options without output gradients", "[engine]") {
    dc::Tensor x = leaf({2.0});
    const dc::Tensor f = x * x * x;
    const auto g = dc::grad({f}, {x}, {.create_graph = true});  // 3x², recorded
    CHECK(g[0].item() == 12.0);
    CHECK(dc::grad({g[0]}, {x})[0].item() == 12.0);  // 6x
}

TEST_CASE("Hessian of a quadratic form through matmul", "[engine]") {
    // f(x) = ½ xᵀAx with symmetric A → H = A
    const dc::Tensor a = dc::tensor({2.0, 1.0, 1.0, 3.0}, {2, 2}, {.dtype = dc::float64});
    dc::Tensor x = leaf({0.3, -0.7});
    const dc::Tensor f = dc::matmul(x, dc::matmul(a, x)) * 0.5;
    const auto g = dc::grad({f}, {x}, {}, {.create_graph = true});
    for (int i = 0; i < 2; ++i) {
        dc::Tensor e = dc::zeros({2}, {.dtype = dc::float64});
        e.mutable_data<double>()[i] = 1.0;
        const auto column = dc::grad({(g[0] * e).sum()}, {x}, {}, {.retain_graph = true});
        CHECK(column[0].at({0}) == Approx(a.at({i, 0})).epsilon(1e-14));
        CHECK(column[0].at({1}) == Approx(a.at({i, 1})).epsilon(1e-14));
    }
}

TEST_CASE("hooks see and may replace gradients", "[engine]") {
    dc::Tensor x = leaf({1.0, 2.0});
    const dc::Tensor h = x * 3.0;
    std::vector<double> seen;
    h.register_hook([&](const dc::Tensor& g) {
        seen = g.to_vector();
        return g * 10.0;
    });
    x.register_hook([](const dc::Tensor&) { return dc::Tensor{}; });  // keep the gradient
    h.sum().backward();
    CHECK(seen == std::vector<double>{1.0, 1.0});
    CHECK(x.grad().to_vector() == std::vector<double>{30.0, 30.0});
}

TEST_CASE("NoGradGuard and detach stop recording", "[engine]") {
    dc::Tensor x = leaf({1.0});
    {
        dc::NoGradGuard no_grad;
        CHECK_FALSE(dc::is_grad_enabled());
        CHECK_FALSE((x * 2.0).requires_grad());
    }
    CHECK(dc::is_grad_enabled());
    const dc::Tensor d = x.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK((d * 2.0).grad_fn_name().empty());
    CHECK((x * 2.0).grad_fn_name() == "mul_scalar");
}

TEST_CASE("grad mode is thread-local", "[engine]") {
    dc::NoGradGuard no_grad;
    bool other_thread_enabled = false;
    std::thread t([&] { other_thread_enabled = dc::is_grad_enabled(); });
    t.join();
    CHECK(other_thread_enabled);
    CHECK_FALSE(dc::is_grad_enabled());
}

TEST_CASE("modifying a saved tensor in place is caught at backward", "[engine]") {
    dc::Tensor w = leaf({1.0, 2.0});
    dc::Tensor x = dc::tensor({3.0, 4.0}, {2}, {.dtype = dc::float64});
    const dc::Tensor y = (w * x).sum();  // mul saves x
    x.mul_(2.0);
    CHECK_THROWS_WITH(y.backward(), Catch::Contains("mul") && Catch::Contains("version 0") &&
                                        Catch::Contains("1 now") && Catch::Contains("[2]"));
}

TEST_CASE("in-place update of a tensor that requires grad needs no-grad mode", "[engine]") {
    dc::Tensor w = leaf({1.0});
    CHECK_THROWS_WITH(w.add_(1.0), Catch::Contains("add_") && Catch::Contains("NoGradGuard"));
    dc::NoGradGuard no_grad;
    w.add_(1.0);
    CHECK(w.item() == 2.0);
    CHECK(w.version() == 1);
}

TEST_CASE("requires_grad on integer tensors is refused", "[engine]") {
    dc::Tensor labels = dc::int_tensor({0, 1}, {2});
    CHECK_THROWS_WITH(labels.requires_grad_(), Catch::Contains("int64") && Catch::Contains("[2]"));
}

TEST_CASE("requires_grad_ is only for leaves", "[engine]") {
    dc::Tensor x = leaf({1.0});
    dc::Tensor y = x * 2.0;
    CHECK_THROWS_AS(y.requires_grad_(false), dc::AutogradError);
}

TEST_CASE("anomaly mode names the op that produced NaN or Inf", "[engine][anomaly]") {
    dc::Tensor x = leaf({-1.0, 1.0});
    CHECK_NOTHROW(dc::log(x));  // off by default: NaN passes silently
    dc::AnomalyGuard anomaly;
    CHECK_THROWS_WITH(
        dc::log(x), Catch::Contains("log") && Catch::Contains("[2]") && Catch::Contains("forward"));
    dc::Tensor z = leaf({0.0});
    const dc::Tensor s = dc::sqrt(z);  // finite forward, infinite derivative at 0
    CHECK_THROWS_WITH(s.backward(), Catch::Contains("sqrt") && Catch::Contains("backward"));
}

TEST_CASE("float32 and float64 share the engine", "[engine]") {
    dc::Tensor x = dc::tensor({1.0, 2.0}, {2}, {.requires_grad = true});
    (x * x).sum().backward();
    CHECK(x.grad().dtype() == dc::float32);
    CHECK(x.grad().to_vector() == std::vector<double>{2.0, 4.0});
    dc::Tensor y = dc::tensor({1.0, 2.0}, {2}, {.requires_grad = true});
    (y.to(dc::float64) * 3.0).sum().backward();
    CHECK(y.grad().dtype() == dc::float32);
    CHECK(y.grad().to_vector() == std::vector<double>{3.0, 3.0});
}
