// The proofs across processes, run under mpirun -np 2 and -np 3: the collectives give the bits of
// the sums in rank order, and a training run gives, to the bit, what the same program gives in a
// world emulated in one process (run_local) — which the in-process tests relate to the unsplit
// run. Every rank runs every test; the exit code is non-zero if any rank failed.

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "collective_values.hpp"
#include "train_program.hpp"

namespace dc = descent;
namespace distributed = descent::distributed;

namespace {
distributed::Communicator* mpi = nullptr;
}

TEMPLATE_TEST_CASE("MPI: allreduce_sum gives the bits of the sum in rank order", "[mpi]", float,
                   double) {
    for (const std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{100003}}) {
        std::vector<TestType> mine = dist_test::values_of<TestType>(mpi->rank(), n);
        mpi->allreduce_sum(std::span<TestType>(mine));
        CHECK(dist_test::same_bits(mine, dist_test::sequential_sum<TestType>(mpi->size(), n)));
        if (mpi->size() == 2) {  // two terms: a + b = b + a, so MPI's own order gives the same
            std::vector<TestType> engine = dist_test::values_of<TestType>(mpi->rank(), n);
            mpi->allreduce_sum(std::span<TestType>(engine), distributed::ReduceOrder::engine);
            CHECK(dist_test::same_bits(engine, mine));
        }
    }
}

TEST_CASE("MPI: broadcast, gather and sum of numbers", "[mpi]") {
    dc::Tensor t = dc::full({4}, mpi->rank() + 1.0, {.dtype = dc::float64});
    mpi->broadcast(t, mpi->size() - 1);
    CHECK(t.to_vector() == std::vector<double>(4, mpi->size()));
    const std::vector<std::string> words =
        mpi->allgather(std::string(static_cast<std::size_t>(mpi->rank()), 'y'));
    for (int r = 0; r < mpi->size(); ++r)
        CHECK(words[static_cast<std::size_t>(r)] == std::string(static_cast<std::size_t>(r), 'y'));
    CHECK(mpi->sum(1.0) == mpi->size());
}

TEST_CASE("MPI: training gives to the bit what the world emulated in one process gives",
          "[mpi][training]") {
    for (const dc::Dtype dtype : {dc::float32, dc::float64}) {
        const dist_test::Run across_processes = dist_test::train(mpi, dtype);
        std::vector<dist_test::Run> local(static_cast<std::size_t>(mpi->size()));
        distributed::run_local(mpi->size(), [&](distributed::Communicator& world) {
            local[static_cast<std::size_t>(world.rank())] = dist_test::train(&world, dtype);
        });
        INFO(dc::dtype_name(dtype) << ", rank " << mpi->rank() << " of " << mpi->size());
        CHECK(dist_test::identical(across_processes, local[static_cast<std::size_t>(mpi->rank())]));
        CHECK(across_processes.losses.size() == 24);
    }
}

TEST_CASE("MPI: one MpiWorld per process", "[mpi][hostile]") {
    CHECK_THROWS_WITH(distributed::MpiWorld(),
                      Catch::Matchers::Contains("one MPI world per process"));
    CHECK(mpi->kind() == "mpi");
}

int main(int argc, char** argv) {
    distributed::MpiWorld world;
    mpi = &world;
    const int failed = Catch::Session().run(argc, argv);
    return world.sum(failed) > 0 ? 1 : 0;
}
