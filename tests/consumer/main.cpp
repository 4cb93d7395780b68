// Builds against the installed package and checks one gradient.
#include <fmt/format.h>
#include <descent/autograd.hpp>

int main() {
    namespace dc = descent;
    dc::Tensor x = dc::tensor({1.0, 2.0}, {2}, {.requires_grad = true});
    (x * x).sum().backward();
    const bool ok = x.grad().to_vector() == std::vector<double>{2.0, 4.0};
    fmt::print("consumer: d(x·x)/dx = {} ({})\n", x.grad(), ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
