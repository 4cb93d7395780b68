// Updates of parameters large enough to be split over threads (optim/src/driver.hpp,
// for_ranges) give the same bits at one and at two threads, for every algorithm: each element
// is updated by one thread with the same arithmetic, and SWATS's sums are formed per chunk.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/optim.hpp>
#include <functional>
#include <memory>

namespace dc = descent;
namespace opt = descent::optim;

namespace {

using Make = std::function<std::unique_ptr<opt::Optimizer>(std::vector<dc::Tensor>)>;

/// Three steps on one parameter of 2²⁰ + 3 elements (above the split size, and not divisible
/// by the thread count) with seeded gradients, at `threads` threads: the final weights.
std::vector<double> run(const Make& make, int threads, dc::Dtype dtype) {
    const int before = dc::get_num_threads();
    dc::set_num_threads(threads);
    dc::manual_seed(3);
    const std::int64_t n = (std::int64_t{1} << 20) + 3;
    dc::Tensor w = dc::randn({n}, {.dtype = dtype}).requires_grad_();
    auto optimizer = make({w});
    for (int step = 0; step < 3; ++step) {
        w.set_grad(dc::randn({n}, {.dtype = dtype}));
        optimizer->step();
    }
    dc::set_num_threads(before);
    return w.to_vector();
}

}  // namespace

TEST_CASE("large parameters: the same update at one and two threads", "[optim][parallel]") {
    const std::vector<std::pair<const char*, Make>> optimizers{
        {"Adam",
         [](auto p) { return std::make_unique<opt::Adam>(p, opt::AdamOptions{.lr = 1e-2}); }},
        {"Adam amsgrad",
         [](auto p) {
             return std::make_unique<opt::Adam>(
                 p, opt::AdamOptions{.lr = 1e-2, .weight_decay = 0.1, .amsgrad = true});
         }},
        {"AdamW",
         [](auto p) { return std::make_unique<opt::AdamW>(p, opt::AdamWOptions{.lr = 1e-2}); }},
        {"SGD",
         [](auto p) {
             return std::make_unique<opt::SGD>(p, opt::SGDOptions{.lr = 0.1, .weight_decay = 0.1});
         }},
        {"SGD momentum",
         [](auto p) {
             return std::make_unique<opt::SGD>(
                 p, opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1});
         }},
        {"SGD Nesterov",
         [](auto p) {
             return std::make_unique<opt::SGD>(
                 p, opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
         }},
        {"SGDW",
         [](auto p) {
             return std::make_unique<opt::SGDW>(
                 p, opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
         }},
        {"Adagrad",
         [](auto p) {
             return std::make_unique<opt::Adagrad>(
                 p, opt::AdagradOptions{.lr_decay = 0.1, .weight_decay = 0.1});
         }},
        {"RMSprop centered, momentum",
         [](auto p) {
             return std::make_unique<opt::RMSprop>(
                 p, opt::RMSpropOptions{.momentum = 0.9, .centered = true});
         }},
        {"NAdam", [](auto p) { return std::make_unique<opt::NAdam>(p); }},
        {"RAdam",
         [](auto p) { return std::make_unique<opt::RAdam>(p, opt::RAdamOptions{.lr = 1e-2}); }},
        {"AMSBound",
         [](auto p) {
             return std::make_unique<opt::AdaBound>(p, opt::AdaBoundOptions{.amsbound = true});
         }},
        {"SWATS",
         [](auto p) {
             return std::make_unique<opt::SWATS>(p, opt::SWATSOptions{.eps_switch = 1.0});
         }},
    };
    for (const auto& [name, make] : optimizers) {
        for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
            INFO(name << ", " << dc::dtype_name(dtype));
            const std::vector<double> one = run(make, 1, dtype), two = run(make, 2, dtype);
            CHECK(one == two);
            // and the update did something
            dc::manual_seed(3);
            CHECK(one != dc::randn({(std::int64_t{1} << 20) + 3}, {.dtype = dtype}).to_vector());
        }
    }
}

namespace {

/// Three steps on 60 parameters of 1 to 4000 elements (together above the size at which
/// whole parameters are dealt out to the threads, shares of unequal sizes) plus, when `large`,
/// one above the split size, at `threads` threads: every final weight, in order.
std::vector<double> run_many(const Make& make, int threads, dc::Dtype dtype, bool large) {
    const int before = dc::get_num_threads();
    dc::set_num_threads(threads);
    dc::manual_seed(5);
    std::vector<dc::Tensor> params;
    for (std::int64_t i = 0; i < 60; ++i) {
        params.push_back(dc::randn({1 + (i * 67) % 4000}, {.dtype = dtype}).requires_grad_());
    }
    if (large) {
        params.push_back(dc::randn({std::int64_t{1} << 20}, {.dtype = dtype}).requires_grad_());
    }
    auto optimizer = make(params);
    for (int step = 0; step < 3; ++step) {
        for (auto& p : params) p.set_grad(dc::randn(p.shape(), {.dtype = dtype}));
        optimizer->step();
    }
    dc::set_num_threads(before);
    std::vector<double> all;
    for (const auto& p : params) {
        const std::vector<double> v = p.to_vector();
        all.insert(all.end(), v.begin(), v.end());
    }
    return all;
}

}  // namespace

TEST_CASE("many small parameters: the same update at one and two threads", "[optim][parallel]") {
    const std::vector<std::pair<const char*, Make>> optimizers{
        {"Adam", [](auto p) { return std::make_unique<opt::Adam>(p, opt::AdamOptions{}); }},
        {"AdamW amsgrad",
         [](auto p) {
             return std::make_unique<opt::AdamW>(p, opt::AdamWOptions{.amsgrad = true});
         }},
        {"SGD Nesterov",
         [](auto p) {
             return std::make_unique<opt::SGD>(
                 p, opt::SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
         }},
        {"Adagrad",
         [](auto p) { return std::make_unique<opt::Adagrad>(p, opt::AdagradOptions{}); }},
        {"RMSprop momentum",
         [](auto p) {
             return std::make_unique<opt::RMSprop>(p, opt::RMSpropOptions{.momentum = 0.9});
         }},
        {"NAdam", [](auto p) { return std::make_unique<opt::NAdam>(p, opt::NAdamOptions{}); }},
        {"RAdam", [](auto p) { return std::make_unique<opt::RAdam>(p, opt::RAdamOptions{}); }},
        {"AdaBound",
         [](auto p) { return std::make_unique<opt::AdaBound>(p, opt::AdaBoundOptions{}); }},
        {"SWATS", [](auto p) { return std::make_unique<opt::SWATS>(p, opt::SWATSOptions{}); }},
    };
    for (const auto& [name, make] : optimizers) {
        for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
            for (const bool large : {false, true}) {
                INFO(name << ", " << dc::dtype_name(dtype) << (large ? ", with a large one" : ""));
                const std::vector<double> one = run_many(make, 1, dtype, large);
                CHECK((one == run_many(make, 2, dtype, large)));  // (no printing of 10⁶ values)
            }
        }
    }
}

TEST_CASE("parameters sharing memory are updated one after the other", "[optim][parallel]") {
    // Two leaves over one storage (and a gradient that is another parameter): updating them
    // at once would race; the driver updates them in order, as at one thread.
    const auto run_shared = [](int threads) {
        const int before = dc::get_num_threads();
        dc::set_num_threads(threads);
        dc::manual_seed(6);
        dc::Tensor a = dc::randn({40000}).requires_grad_();
        dc::Tensor b = a.detach().requires_grad_();
        dc::Tensor c = dc::randn({40000}).requires_grad_();
        dc::Tensor d = dc::randn({40000}).requires_grad_();
        opt::Adam adam({a, c, b, d});  // a and b, c and d: on different threads
        for (int step = 0; step < 2; ++step) {
            a.set_grad(dc::randn({40000}));
            b.set_grad(dc::randn({40000}));
            c.set_grad(d);
            d.set_grad(dc::randn({40000}));
            adam.step();
        }
        dc::set_num_threads(before);
        std::vector<double> all = a.to_vector(), rest = c.to_vector(), last = d.to_vector();
        all.insert(all.end(), rest.begin(), rest.end());
        all.insert(all.end(), last.begin(), last.end());
        return all;
    };
    CHECK((run_shared(1) == run_shared(2)));
}
