// Updates of parameters large enough to be split over threads (optim/src/update.hpp,
// for_ranges) give the same bits at one and at two threads: each element is updated by one
// thread with the same arithmetic.

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
