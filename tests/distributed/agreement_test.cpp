// The ranks agree on every collective — which one, element type, count, root — or every rank
// fails naming them (ranks as threads; tests/distributed/mpi has the same under mpirun).

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/distributed.hpp>
#include <descent/nn.hpp>

#include <cstddef>
#include <span>
#include <vector>

namespace dc = descent;
namespace nn = descent::nn;
namespace distributed = descent::distributed;
using Catch::Matchers::Contains;

TEST_CASE("ranks that sum different dtypes or counts fail, naming both", "[dist][hostile]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 std::vector<float> f(4, 1.0f);
                                                 std::vector<double> d(2, 1.0);
                                                 if (world.rank() == 1) {
                                                     world.allreduce_sum(std::span(d));
                                                 } else {
                                                     world.allreduce_sum(std::span(f));
                                                 }
                                             }),
                      Contains("rank 0 is in allreduce_sum of float32[4], rank 1 in "
                               "allreduce_sum of float64[2]"));
    CHECK_THROWS_WITH(distributed::run_local(3,
                                             [](distributed::Communicator& world) {
                                                 dc::Tensor t = dc::zeros({2 + world.rank() / 2});
                                                 world.allreduce_sum(t);
                                             }),
                      Contains("rank 2 in allreduce_sum of float32[3]"));
}

TEST_CASE("ranks that broadcast from different roots fail", "[dist][hostile]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 dc::Tensor t = dc::zeros({3});
                                                 world.broadcast(t, world.rank());
                                             }),
                      Contains("broadcast of float32[3] from rank 0, rank 1 in broadcast of "
                               "float32[3] from rank 1"));
}

TEST_CASE("a rank in sum beside a rank in allgather fails, exchanging nothing", "[dist][hostile]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 if (world.rank() == 0) {
                                                     world.sum(1.0);
                                                 } else {
                                                     world.allgather(std::uint64_t{7});
                                                 }
                                             }),
                      Contains("rank 0 is in allreduce_sum of float64[1], rank 1 in allgather"));
}

TEST_CASE("allgather and alltoall counts must agree across the ranks", "[dist][hostile]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 // each rank thinks it sends 2 bytes and the other
                                                 // 1
                                                 const std::size_t me =
                                                     static_cast<std::size_t>(world.rank());
                                                 std::vector<std::size_t> counts{1, 1};
                                                 counts[me] = 2;
                                                 std::vector<std::byte> mine(2), all(3);
                                                 world.allgather_bytes(mine, all, counts);
                                             }),
                      Contains("with other per-rank counts"));
    CHECK_THROWS_WITH(
        distributed::run_local(2,
                               [](distributed::Communicator& world) {
                                   // rank 0 sends 4 bytes to rank 1, which expects 8
                                   const bool first = world.rank() == 0;
                                   const std::vector<std::size_t> send{0, first ? 4u : 0u};
                                   const std::vector<std::size_t> recv{first ? 0u : 8u, 0};
                                   std::vector<std::byte> out(first ? 4 : 0), in(first ? 0 : 8);
                                   world.alltoall_bytes(out, send, in, recv);
                               }),
        Contains("alltoall: rank 0 sends 4 bytes to rank 1, which expects 8"));
}

TEST_CASE("a rank that runs out of batches first ends the others, no hang", "[dist][hostile]") {
    CHECK_THROWS_WITH(distributed::run_local(2,
                                             [](distributed::Communicator& world) {
                                                 nn::Linear layer(3, 2);
                                                 distributed::DataParallel ddp(world, layer);
                                                 const int batches = world.rank() == 0 ? 14 : 9;
                                                 for (int b = 0; b < batches; ++b) {
                                                     layer(dc::ones({4, 3})).sum().backward();
                                                     ddp.reduce_gradients();
                                                 }
                                             }),
                      Contains("rank 1 returned while rank 0 waits for it"));
}
