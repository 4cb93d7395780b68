// The cost model of data-parallel training (bench/README.md, "Data-parallel"): run under
//   mpirun -np R bench/distributed_cost
// it prints, on rank 0, the median time of an allreduce of n floats (rank order and MPI's own),
// and the time of a data-parallel training step (forward, backward, gradient sum, AdamW) of the
// digits MLP and of a 784-1024-1024-10 MLP at a fixed global batch. Not a test: a measurement.

#include <fmt/format.h>
#include <descent/autograd.hpp>
#include <descent/distributed.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace dc = descent;
namespace nn = descent::nn;
namespace distributed = descent::distributed;

namespace {

/// Median seconds of `reps` calls, each started together on every rank (barrier first).
double median_seconds(distributed::Communicator& world, int reps,
                      const std::function<void()>& body) {
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        world.barrier();
        const auto start = std::chrono::steady_clock::now();
        body();
        times.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
    return world.sum(times[static_cast<std::size_t>(reps / 2)]) /
           world.size();  // mean of the ranks' medians
}

void allreduce_table(distributed::Communicator& world) {
    if (world.rank() == 0)
        fmt::print(
            "| floats | rank order (µs) | MPI_Allreduce (µs) | rank order GB/s "
            "|\n|---:|---:|---:|---:|\n");
    for (const std::size_t n : {std::size_t{1000}, std::size_t{10'000}, std::size_t{100'000},
                                std::size_t{1'000'000}, std::size_t{10'000'000}}) {
        std::vector<float> buffer(n, 1.0f);
        const int reps = n >= 1'000'000 ? 20 : 200;
        const double ordered =
            median_seconds(world, reps, [&] { world.allreduce_sum(std::span<float>(buffer)); });
        const double engine = median_seconds(world, reps, [&] {
            world.allreduce_sum(std::span<float>(buffer), distributed::ReduceOrder::engine);
        });
        if (world.rank() == 0)
            fmt::print("| {} | {:.1f} | {:.1f} | {:.2f} |\n", n, ordered * 1e6, engine * 1e6,
                       static_cast<double>(n * sizeof(float)) / ordered / 1e9);
    }
}

/// One data-parallel step of an MLP of the given widths at `global_batch` rows.
void step_time(distributed::Communicator& world, const std::vector<std::int64_t>& widths,
               std::int64_t global_batch, int reps) {
    dc::manual_seed(0);
    nn::Sequential model;
    for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
        model.push_back(nn::Linear(widths[i], widths[i + 1]));
        if (i + 2 < widths.size()) model.push_back(nn::ReLU());
    }
    distributed::DataParallel ddp(world, model, {.check_every = 0});
    descent::optim::AdamW adam(model.parameters());
    const std::int64_t rows = global_batch / world.size();
    const dc::Tensor x = dc::randn({rows, widths.front()});
    const dc::Tensor y = dc::randint(0, widths.back(), {rows});
    std::int64_t parameters = 0;
    for (const dc::Tensor& p : model.parameters()) parameters += p.numel();
    double reduce = 0;
    const auto step = [&] {
        const dc::Tensor loss = nn::cross_entropy(model(x), y, {.reduction = nn::Reduction::sum}) /
                                static_cast<double>(global_batch);
        adam.zero_grad();
        loss.backward();
        const auto start = std::chrono::steady_clock::now();
        ddp.reduce_gradients();
        reduce += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        adam.step();
    };
    for (int i = 0; i < 3; ++i) step();  // warm-up
    reduce = 0;
    const double seconds = median_seconds(world, reps, step);
    const double reduce_share = world.sum(reduce / reps) / world.size();
    std::string name;
    for (const std::int64_t w : widths) {
        if (!name.empty()) name += '-';
        name += std::to_string(w);
    }
    if (world.rank() == 0)
        fmt::print("| {} ({} parameters), global batch {} | {} | {:.1f} | {:.1f} |\n", name,
                   parameters, global_batch, world.size(), seconds * 1e6, reduce_share * 1e6);
}

}  // namespace

int main() {
    distributed::MpiWorld world;
    return distributed::run_or_abort(world, [&] {
        if (world.rank() == 0)
            fmt::print("{} ranks, {} OpenMP threads each\n\n", world.size(), dc::get_num_threads());
        if (world.size() > 1) allreduce_table(world);
        if (world.rank() == 0)
            fmt::print(
                "\n| model | ranks | step (µs) | of which gradient sum (µs) "
                "|\n|---|---:|---:|---:|\n");
        step_time(world, {64, 128, 10}, 64, 400);
        step_time(world, {784, 1024, 1024, 10}, 512, 10);
        return 0;
    });
}
