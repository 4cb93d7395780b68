// The README's optim snippets, as written there (keep the two in step).

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>

namespace dc = descent;

TEST_CASE("README: L-BFGS on Rosenbrock", "[readme]") {
    auto rosen = [](const dc::Tensor& p) {  // (1 − x)² + 100(y − x²)²
        auto x = p.slice(0, 0, 1), y = p.slice(0, 1, 2);
        return ((1.0 - x) * (1.0 - x) + (y - x * x) * (y - x * x) * 100.0).sum();
    };
    auto p = dc::tensor({-1.5, 2.0}, {2}, {.dtype = dc::float64});
    auto w = p.clone().requires_grad_();  // L-BFGS minimises over w
    dc::optim::LBFGS lbfgs({w}, {.line_search = dc::optim::LineSearch::strong_wolfe});
    for (int i = 0; i < 3; ++i) {
        lbfgs.step([&] {
            lbfgs.zero_grad();
            auto f = rosen(w);
            f.backward();
            return f;
        });
    }
    CHECK(rosen(w).item() < 1e-8);
}
