// Samples of einsum: one per pattern it composes differently (a matmul, a batched matmul, a
// permute, a diagonal, an outer product, a dot, a sum, an implicit output, three operands).

#include "descent/ops.hpp"
#include "samples.hpp"

namespace descent::samples {

std::vector<OpSample> einsum_samples() {
    Make m(157);
    auto one = [](std::string equation) {
        return unary([=](auto& x) { return einsum(equation, {x}); });
    };
    auto two = [](std::string equation) {
        return binary([=](auto& a, auto& b) { return einsum(equation, {a, b}); });
    };
    return {{"ij,jk->ik", two("ij,jk->ik"), {m.normal({2, 3}), m.normal({3, 4})}},
            {"bij,bjk->bik", two("bij,bjk->bik"), {m.normal({2, 2, 3}), m.normal({2, 3, 2})}},
            {"ij->ji", one("ij->ji"), {m.normal({2, 3})}},
            {"ii->i", one("ii->i"), {m.normal({3, 3})}},
            {"i,j->ij", two("i,j->ij"), {m.normal({3}), m.normal({4})}},
            {"i,i->", two("i,i->"), {m.normal({4}), m.normal({4})}},
            {"ij->i", one("ij->i"), {m.normal({3, 4})}},
            {"implicit ji,jk", two("ji,jk"), {m.normal({3, 2}), m.normal({3, 2})}},
            {"ij,jk,kl->li",
             [](const Inputs& in) {
                 return Inputs{einsum("ij,jk,kl->li", {in[0], in[1], in[2]})};
             },
             {m.normal({2, 3}), m.normal({3, 2}), m.normal({2, 2})}}};
}

}  // namespace descent::samples
