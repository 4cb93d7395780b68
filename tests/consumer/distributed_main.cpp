// Builds against the installed distributed component and sums over two ranks emulated as threads.
#include <fmt/format.h>
#include <descent/distributed.hpp>

int main() {
    namespace distributed = descent::distributed;
    std::vector<double> sums(2);
    distributed::run_local(2, [&](distributed::Communicator& world) {
        sums[static_cast<std::size_t>(world.rank())] = world.sum(world.rank() + 1.0);
    });
    const bool ok = sums == std::vector<double>{3.0, 3.0};
    fmt::print("consumer_distributed: 1 + 2 over two ranks = {} ({})\n", sums[0],
               ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
