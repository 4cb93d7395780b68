// jacobian, hessian, vjp, jvp, hvp and vhp: against torch.autograd.functional
// (tests/fixtures/autograd_functional.json, tools/make_functional_fixtures.py) and against
// central differences, in float64.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

namespace dc = descent;
using Catch::Contains;
using Json = nlohmann::json;

namespace {

const Json& fixture() {
    static const Json j = [] {
        std::ifstream in(std::string(DESCENT_FIXTURE_DIR) + "/autograd_functional.json");
        REQUIRE(in);
        return Json::parse(in);
    }();
    return j;
}

dc::Tensor vec(const Json& values, dc::Shape shape = {}) {
    const auto v = values.get<std::vector<double>>();
    if (shape.empty()) shape = {static_cast<std::int64_t>(v.size())};
    return dc::tensor(v, shape, {.dtype = dc::float64});
}

/// The fixture's functions, in descent ops.
std::map<std::string, dc::VectorFn> functions() {
    const dc::Tensor A = vec(fixture()["A"], {3, 4}), W = vec(fixture()["W"], {3, 4});
    const dc::Tensor b = vec(fixture()["b"]);
    return {
        {"rosenbrock",
         [](const dc::Tensor& x) {
             const dc::Tensor x0 = x.slice(0, 0, 1), x1 = x.slice(0, 1, 2);
             const dc::Tensor a = 1.0 - x0, c = x1 - x0 * x0;
             return (a * a + c * c * 100.0).reshape({});
         }},
        {"quartic",
         [](const dc::Tensor& x) {
             return (dc::exp(x) * x * x).sum() + dc::tanh(x).sum() * x.sum();
         }},
        {"logsumexp", [A](const dc::Tensor& x) { return dc::matmul(A, x).logsumexp({0}); }},
        {"layer", [W, b](const dc::Tensor& x) { return dc::tanh(dc::matmul(W, x) + b); }},
        {"softmax", [](const dc::Tensor& x) { return x.softmax(0); }},
    };
}

void check_close(const dc::Tensor& got, const Json& expected, double tolerance) {
    const auto want = expected.get<std::vector<double>>();
    const auto have = got.to_vector();
    REQUIRE(have.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO("element " << i);
        CHECK(std::abs(have[i] - want[i]) <= tolerance * std::max(1.0, std::abs(want[i])));
    }
}

/// ∂f/∂x by central differences, shape f(x).shape + x.shape (flattened rows).
std::vector<double> numeric_jacobian(const dc::VectorFn& f, const dc::Tensor& x, double eps) {
    const std::int64_t m = f(x).numel(), n = x.numel();
    std::vector<double> jac(static_cast<std::size_t>(m * n));
    for (std::int64_t j = 0; j < n; ++j) {
        dc::Tensor plus = x.clone(), minus = x.clone();
        plus.mutable_data<double>()[j] += eps;
        minus.mutable_data<double>()[j] -= eps;
        const auto fp = f(plus).to_vector(), fm = f(minus).to_vector();
        for (std::int64_t i = 0; i < m; ++i) jac[i * n + j] = (fp[i] - fm[i]) / (2 * eps);
    }
    return jac;
}

}  // namespace

// float64 against torch: both are the same formulas evaluated in a different order, so they
// agree to a few ulps of the largest intermediate (Rosenbrock's 1200x² term): 1e-12 relative.
TEST_CASE("derivatives match torch.autograd.functional", "[derivatives]") {
    const auto fns = functions();
    for (const Json& c : fixture()["cases"]) {
        const std::string name = c["function"];
        INFO(name << " at " << c["x"].dump());
        const dc::VectorFn& f = fns.at(name);
        const dc::Tensor x = vec(c["x"]), v = vec(c["v"]);
        const std::int64_t n = x.numel();
        if (c.contains("hessian")) {
            CHECK(f(x).item() == Approx(c["value"].get<double>()).epsilon(1e-13));
            const dc::Tensor H = dc::hessian(f, x);
            CHECK(H.shape() == dc::Shape{n, n});
            check_close(H, c["hessian"], 1e-12);
            check_close(dc::hvp(f, x, v), c["hvp"], 1e-12);
            check_close(dc::vhp(f, x, v), c["vhp"], 1e-12);
            check_close(dc::jacobian(f, x), c["jacobian"], 1e-12);
        } else {
            const dc::Tensor u = vec(c["u"]);
            const dc::Tensor J = dc::jacobian(f, x);
            CHECK(J.shape() == dc::Shape{c["output_size"].get<std::int64_t>(), n});
            check_close(J, c["jacobian"], 1e-12);
            check_close(dc::vjp(f, x, u), c["vjp"], 1e-12);
            check_close(dc::jvp(f, x, v), c["jvp"], 1e-12);
        }
    }
}

// Central differences with eps 1e-6 in float64: truncation error ~eps²·|f'''| and rounding
// ~1e-16·|f|/eps, both below 1e-6 for these functions at these points.
TEST_CASE("jacobian and hessian match central differences", "[derivatives]") {
    const auto fns = functions();
    const dc::Tensor x = dc::tensor({0.5, -1.0, 2.0, 0.1}, {4}, {.dtype = dc::float64});
    for (const std::string name : {"layer", "softmax", "quartic", "logsumexp"}) {
        INFO(name);
        const dc::VectorFn& f = fns.at(name);
        const auto numeric = numeric_jacobian(f, x, 1e-6);
        const auto analytic = dc::jacobian(f, x).to_vector();
        REQUIRE(analytic.size() == numeric.size());
        for (std::size_t i = 0; i < numeric.size(); ++i)
            CHECK(analytic[i] == Approx(numeric[i]).margin(1e-6));
    }
    const dc::VectorFn& q = fns.at("quartic");
    const dc::VectorFn gradient = [&](const dc::Tensor& z) { return dc::jacobian(q, z); };
    const auto numeric = numeric_jacobian(gradient, x, 1e-6);
    const auto analytic = dc::hessian(q, x).to_vector();
    for (std::size_t i = 0; i < numeric.size(); ++i)
        CHECK(analytic[i] == Approx(numeric[i]).margin(1e-6));
}

TEST_CASE("derivatives leave x alone, or stay on the tape with create_graph", "[derivatives]") {
    const auto fns = functions();
    const dc::VectorFn& q = fns.at("quartic");
    dc::Tensor x =
        dc::tensor({0.5, -1.0, 2.0, 0.1}, {4}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor H = dc::hessian(q, x);
    CHECK_FALSE(H.requires_grad());
    CHECK_FALSE(x.grad().defined());
    // d/dx Σ H(x) against central differences of Σ H
    const dc::Tensor Hg = dc::hessian(q, x, {.create_graph = true});
    REQUIRE(Hg.requires_grad());
    const dc::Tensor third = dc::grad({Hg.sum()}, {x})[0];
    const dc::VectorFn sum_h = [&](const dc::Tensor& z) { return dc::hessian(q, z).sum(); };
    const auto numeric = numeric_jacobian(sum_h, x.detach(), 1e-5);
    const auto analytic = third.to_vector();
    for (std::size_t i = 0; i < numeric.size(); ++i)
        CHECK(analytic[i] == Approx(numeric[i]).margin(1e-5));
}

TEST_CASE("derivatives: bad input", "[derivatives]") {
    const auto fns = functions();
    const dc::Tensor x = dc::tensor({0.5, -1.0, 2.0, 0.1}, {4}, {.dtype = dc::float64});
    CHECK_THROWS_WITH(dc::hessian(fns.at("layer"), x),
                      Contains("hessian") && Contains("one element"));
    CHECK_THROWS_WITH(dc::hvp(fns.at("quartic"), x, dc::ones({3}, {.dtype = dc::float64})),
                      Contains("hvp") && Contains("[4]"));
    CHECK_THROWS_WITH(dc::vjp(fns.at("layer"), x, dc::ones({4}, {.dtype = dc::float64})),
                      Contains("vjp"));
    CHECK_THROWS_AS(dc::jacobian(dc::VectorFn{}, x), dc::Error);
    CHECK_THROWS_AS(dc::jacobian(fns.at("layer"), dc::zeros({4}, {.dtype = dc::int64})),
                    dc::DtypeError);
    // a function that ignores x: zeros, not an error
    const dc::Tensor J =
        dc::jacobian([](const dc::Tensor&) { return dc::ones({2}, {.dtype = dc::float64}); }, x);
    CHECK(J.shape() == dc::Shape{2, 4});
    CHECK(J.abs().sum().item() == 0.0);
}
