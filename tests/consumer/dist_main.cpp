// Builds against the installed dist component and sums over two ranks emulated as threads.
#include <fmt/format.h>
#include <descent/dist.hpp>

int main() {
    namespace dist = descent::dist;
    std::vector<double> sums(2);
    dist::run_local(2, [&](dist::Communicator& world) {
        sums[static_cast<std::size_t>(world.rank())] = world.sum(world.rank() + 1.0);
    });
    const bool ok = sums == std::vector<double>{3.0, 3.0};
    fmt::print("consumer_dist: 1 + 2 over two ranks = {} ({})\n", sums[0], ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
