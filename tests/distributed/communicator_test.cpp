// The collectives of a world of ranks emulated as threads (run_local): sums formed in rank order
// to the bit, gathers and broadcasts, and failures that end every rank instead of hanging.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/distributed.hpp>

#include <stdexcept>

#include "collective_values.hpp"

namespace dc = descent;
namespace distributed = descent::distributed;
using Catch::Matchers::Contains;

using dist_test::same_bits;
using dist_test::sequential_sum;
using dist_test::values_of;

TEMPLATE_TEST_CASE("allreduce_sum adds the ranks' buffers in rank order, to the bit",
                   "[dist][collectives]", float, double) {
    for (const int ranks : {1, 2, 3, 4, 7}) {
        for (const std::size_t n :
             {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{1001}}) {
            const std::vector<TestType> expected = sequential_sum<TestType>(ranks, n);
            std::vector<std::vector<TestType>> got(static_cast<std::size_t>(ranks));
            distributed::run_local(ranks, [&](distributed::Communicator& world) {
                std::vector<TestType> mine = values_of<TestType>(world.rank(), n);
                world.allreduce_sum(std::span<TestType>(mine));
                got[static_cast<std::size_t>(world.rank())] = mine;
            });
            for (int r = 0; r < ranks; ++r) {
                INFO("ranks " << ranks << ", n " << n << ", rank " << r);
                CHECK(same_bits(got[static_cast<std::size_t>(r)], expected));
            }
        }
    }
}

TEST_CASE("the order of the sum is the rank order", "[dist][collectives]") {
    // in float32, 1e8 + 1 rounds to 1e8: (1e8 + 1) − 1e8 = 0 and (−1e8 + 1) + 1e8 = 0, and only
    // the rank order (1e8 − 1e8) + 1 gives 1.
    std::vector<float> got(3);
    distributed::run_local(3, [&](distributed::Communicator& world) {
        const float mine[3] = {1e8f, -1e8f, 1.0f};
        std::vector<float> v{mine[world.rank()]};
        world.allreduce_sum(std::span<float>(v));
        got[static_cast<std::size_t>(world.rank())] = v[0];
    });
    CHECK(got == std::vector<float>{1.0f, 1.0f, 1.0f});
}

TEST_CASE("tensors, numbers and strings across ranks", "[dist][collectives]") {
    struct Seen {
        std::vector<double> summed, broadcast;
        double total = 0;
        std::vector<std::uint64_t> ids;
        std::vector<std::string> words;
        bool passed_barrier = false;
    };
    std::vector<Seen> seen(3);
    distributed::run_local(3, [&](distributed::Communicator& world) {
        const double r = world.rank();
        Seen& s = seen[static_cast<std::size_t>(world.rank())];
        dc::Tensor t = dc::tensor({r, 10 * r}, {2}, {.dtype = dc::float64});
        world.allreduce_sum(t);
        s.summed = t.to_vector();
        dc::Tensor b = dc::full({3}, r + 1, {.dtype = dc::float32});
        world.broadcast(b, 2);
        s.broadcast = b.to_vector();
        s.total = world.sum(r + 0.5);
        s.ids = world.allgather(static_cast<std::uint64_t>(100 + world.rank()));
        s.words = world.allgather(std::string(static_cast<std::size_t>(world.rank()), 'x'));
        world.barrier();
        s.passed_barrier = true;  // asserted below: Catch2 is not to be called from these threads
    });
    for (const Seen& s : seen) {
        CHECK(s.summed == std::vector<double>{3, 30});
        CHECK(s.broadcast == std::vector<double>{3, 3, 3});
        CHECK(s.total == 4.5);
        CHECK(s.ids == std::vector<std::uint64_t>{100, 101, 102});
        CHECK(s.words == std::vector<std::string>{"", "x", "xx"});
        CHECK(s.passed_barrier);
    }
}

TEST_CASE("a rank that throws ends every rank, and run_local names it", "[dist][faults]") {
    std::vector<int> released(3, 0);
    CHECK_THROWS_WITH(
        distributed::run_local(3,
                               [&](distributed::Communicator& world) {
                                   if (world.rank() == 1)
                                       throw std::invalid_argument("bad input on this rank");
                                   try {
                                       world.barrier();  // waits for rank 1, which is gone
                                   } catch (const distributed::DistError&) {
                                       released[static_cast<std::size_t>(world.rank())] = 1;
                                       throw;
                                   }
                               }),
        Contains("rank 1") && Contains("bad input on this rank"));
    CHECK(released == std::vector<int>{1, 0, 1});
}

TEST_CASE("a rank that returns early does not leave the others waiting", "[dist][faults]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 if (world.rank() == 0) return;
                                                 std::vector<double> v{1.0};
                                                 world.allreduce_sum(std::span<double>(v));
                                             }),
                      Contains("rank 0 returned while rank 1 waits"));
}

TEST_CASE("run_or_abort names the rank in a local world", "[dist][faults]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 distributed::run_or_abort(world, [&]() -> int {
                                                     if (world.rank() == 1) throw dc::Error("boom");
                                                     world.barrier();
                                                     return 0;
                                                 });
                                             }),
                      Contains("rank 1 of 2: boom"));
}

TEST_CASE("collectives refuse what MPI would refuse", "[dist][hostile]") {
    CHECK_THROWS_WITH(distributed::run_local(0, [](distributed::Communicator&) {}),
                      Contains("run_local"));
    CHECK_THROWS_WITH(distributed::run_local(257, [](distributed::Communicator&) {}),
                      Contains("[1, 256]"));
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 dc::Tensor t = dc::zeros({2});
                                                 world.broadcast(t, 2);
                                             }),
                      Contains("root 2"));
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 dc::Tensor t = dc::zeros({world.rank() + 1});
                                                 world.broadcast(t, 0);
                                             }),
                      Contains("broadcast of float32[1]") && Contains("float32[2]"));
    CHECK_THROWS_WITH(distributed::run_local(1,
                                             [](distributed::Communicator& world) {
                                                 dc::Tensor t = dc::int_tensor({1}, {1});
                                                 world.allreduce_sum(t);
                                             }),
                      Contains("allreduce_sum") && Contains("int64"));
}
