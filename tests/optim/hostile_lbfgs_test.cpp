// Hostile input, round 2, for L-BFGS: parameters that change between steps or inside the
// closure, parameters of no elements, closures that throw inside the line search or return NaN,
// and the counts of its options.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/optim.hpp>

#include <limits>
#include <stdexcept>

namespace dc = descent;
namespace opt = descent::optim;
using Catch::Matchers::Contains;

namespace {
dc::Tensor point() {
    return dc::tensor({-1.5, 2.0}, {2}, {.dtype = dc::float64}).requires_grad_();
}

/// Rosenbrock's function of w, its gradient set by backward.
dc::Tensor rosenbrock(const dc::Tensor& w) {
    const dc::Tensor x = w.slice(0, 0, 1), y = w.slice(0, 1, 2);
    return ((1.0 - x) * (1.0 - x) + (y - x * x) * (y - x * x) * 100.0).sum();
}
}  // namespace

TEST_CASE("hostile L-BFGS: parameters that change between steps or in the closure",
          "[hostile][optim][lbfgs]") {
    dc::Tensor w = point();
    opt::LBFGS lbfgs({w}, {.max_iter = 3});
    const auto closure = [&] {
        lbfgs.zero_grad();
        dc::Tensor loss = rosenbrock(w);
        loss.backward();
        return loss;
    };
    lbfgs.step(closure);
    dc::Tensor extra = dc::zeros({3}, {.dtype = dc::float64}).requires_grad_();
    lbfgs.param_groups()[0].params.push_back(extra);
    const auto before = w.to_vector();
    CHECK_THROWS_WITH(lbfgs.step(closure), Contains("LBFGS: the parameters changed since the "
                                                    "last step (1 tensors, now 2; 2 elements, "
                                                    "now 5)"));
    CHECK(w.to_vector() == before);
    lbfgs.param_groups()[0].params.pop_back();
    CHECK_NOTHROW(lbfgs.step(closure));  // the same parameters again

    dc::Tensor v = point();
    opt::LBFGS growing({v});
    const auto grows = [&] {
        growing.zero_grad();
        growing.param_groups()[0].params.push_back(
            dc::zeros({2}, {.dtype = dc::float64}).requires_grad_());
        dc::Tensor loss = rosenbrock(v);
        loss.backward();
        return loss;
    };
    CHECK_THROWS_WITH(growing.step(grows), Contains("LBFGS: the closure changed the parameters"));
}

TEST_CASE("hostile L-BFGS: parameters of no elements", "[hostile][optim][lbfgs]") {
    dc::Tensor empty = dc::zeros({0}, {.dtype = dc::float64}).requires_grad_();
    opt::LBFGS nothing({empty});
    CHECK_THROWS_WITH(nothing.step([&] { return (empty * 2.0).sum(); }),
                      Contains("LBFGS: the parameters hold no elements"));
    // beside another parameter an empty one is no trouble
    dc::Tensor w = point();
    opt::LBFGS both({empty, w}, {.max_iter = 50, .line_search = opt::LineSearch::strong_wolfe});
    for (int i = 0; i < 3; ++i) {
        both.step([&] {
            both.zero_grad();
            dc::Tensor loss = rosenbrock(w) + (empty * 2.0).sum();
            loss.backward();
            return loss;
        });
    }
    CHECK(w.to_vector()[0] == Approx(1.0).margin(1e-4));
}

TEST_CASE(
    "hostile L-BFGS: a closure that throws in the line search leaves the last accepted "
    "point",
    "[hostile][optim][lbfgs]") {
    for (const int fail_at : {2, 3, 5}) {
        dc::Tensor w = point();
        opt::LBFGS lbfgs({w}, {.max_iter = 20, .line_search = opt::LineSearch::strong_wolfe});
        int calls = 0;
        const auto closure = [&] {
            if (++calls == fail_at) throw std::runtime_error("the data went away");
            lbfgs.zero_grad();
            dc::Tensor loss = rosenbrock(w);
            loss.backward();
            return loss;
        };
        // the accepted points: the start, and where each finished iteration left w (the line
        // search's trial points are evaluated, then w returns to the accepted point)
        const auto start = w.to_vector();
        INFO("the closure fails at call " << fail_at);
        CHECK_THROWS_WITH(lbfgs.step(closure), "the data went away");
        const auto after = w.to_vector();
        if (fail_at == 2) CHECK(after == start);  // the first trial point: back at the start
        CHECK(std::isfinite(after[0]));
        CHECK(rosenbrock(w.detach()).item() <=
              rosenbrock(dc::tensor(start, {2}, {.dtype = dc::float64})).item());
    }
}

TEST_CASE("hostile L-BFGS: NaN or infinite losses and gradients are errors naming it",
          "[hostile][optim][lbfgs]") {
    dc::Tensor w = point();
    opt::LBFGS lbfgs({w});
    CHECK_THROWS_WITH(lbfgs.step([&] {
        lbfgs.zero_grad();
        dc::Tensor loss = rosenbrock(w) * std::numeric_limits<double>::quiet_NaN();
        loss.backward();
        return loss;
    }),
                      Contains("LBFGS: the closure's loss is nan"));
    CHECK_THROWS_WITH(lbfgs.step([&] {
        lbfgs.zero_grad();
        dc::Tensor loss = rosenbrock(w);
        loss.backward();
        w.set_grad(dc::tensor({1.0, std::numeric_limits<double>::infinity()}, {2},
                              {.dtype = dc::float64}));
        return loss;
    }),
                      Contains("LBFGS: element 1 of the gradient is inf"));
    CHECK(w.to_vector() == point().to_vector());
    CHECK_THROWS_WITH(opt::LBFGS({point()}, {.max_iter = 0}), Contains("max_iter"));
    CHECK_THROWS_WITH(opt::LBFGS({point()}, {.max_eval = 0}), Contains("max_eval"));
}
