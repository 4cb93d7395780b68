// Faults under mpirun: `fault throw` — rank 1 feeds the model a batch of the wrong width and
// throws; `fault shapes` — rank 1 builds a different model. Every rank must end, with a message
// naming rank 1, instead of the others waiting in their next collective.

#include <descent/autograd.hpp>
#include <descent/distributed.hpp>
#include <descent/nn.hpp>

#include <string>

namespace dc = descent;
namespace nn = descent::nn;
namespace distributed = descent::distributed;

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    distributed::MpiWorld world;
    return distributed::run_or_abort(world, [&] {
        const bool odd_one = world.rank() == 1;
        nn::Linear layer(6, mode == "shapes" && odd_one ? 5 : 4);
        distributed::DataParallel ddp(world, layer);
        for (int step = 0; step < 3; ++step) {
            const dc::Tensor x = dc::ones({3, mode == "throw" && odd_one && step == 1 ? 7 : 6});
            layer(x).sum().backward();
            ddp.reduce_gradients();
        }
        return 0;
    });
}
