// Faults under mpirun: `fault throw` — rank 1 feeds the model a batch of the wrong width and
// throws; `fault shapes` — rank 1 builds a different model; `fault uneven` — rank 0 has 14
// batches and rank 1 9, and rank 1 ends its world first; `fault disagree` — rank 0 sums
// float32[4] while rank 1 sums float64[2]. Every rank must end, with a message naming the
// ranks, instead of waiting in a collective or summing garbage.

#include <descent/autograd.hpp>
#include <descent/distributed.hpp>
#include <descent/nn.hpp>

#include <span>
#include <string>
#include <vector>

namespace dc = descent;
namespace nn = descent::nn;
namespace distributed = descent::distributed;

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    distributed::MpiWorld world;
    return distributed::run_or_abort(world, [&] {
        const bool odd_one = world.rank() == 1;
        if (mode == "disagree") {
            std::vector<float> f(4, 1.0f);
            std::vector<double> d(2, 1.0);
            odd_one ? world.allreduce_sum(std::span(d)) : world.allreduce_sum(std::span(f));
            return 0;
        }
        nn::Linear layer(6, mode == "shapes" && odd_one ? 5 : 4);
        distributed::DataParallel ddp(world, layer);
        const int steps = mode == "uneven" ? (odd_one ? 9 : 14) : 3;
        for (int step = 0; step < steps; ++step) {
            const dc::Tensor x = dc::ones({3, mode == "throw" && odd_one && step == 1 ? 7 : 6});
            layer(x).sum().backward();
            ddp.reduce_gradients();
        }
        return 0;
    });
}
