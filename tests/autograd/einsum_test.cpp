// einsum: torch's values for each pattern (every expectation is torch.einsum's for the same
// call, exact on these small integers), and malformed equations refused naming the op.
// Gradients of every order are certified by the op table's sweep.

#include <catch2/catch.hpp>
#include <cstdint>
#include <descent/autograd.hpp>

namespace dc = descent;
using V = std::vector<double>;
using Catch::Matchers::Contains;

namespace {
dc::Tensor arange(std::int64_t n, dc::Shape s) {
    V v(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = static_cast<double>(i);
    return dc::tensor(v, s, {.dtype = dc::float64});
}
}  // namespace

TEST_CASE("einsum: products, permutes, diagonals and sums as torch's", "[einsum]") {
    const dc::Tensor a = arange(6, {2, 3}), b = arange(12, {3, 4});
    CHECK(dc::einsum("ij,jk->ik", {a, b}).to_vector() == V{20, 23, 26, 29, 56, 68, 80, 92});
    CHECK(dc::einsum("ij,jk", {a, b}).shape() == dc::Shape{2, 4});  // implicit: i, k
    CHECK(dc::einsum("bij,bjk->bik", {arange(12, {2, 2, 3}), arange(12, {2, 3, 2})}).to_vector() ==
          V{10, 13, 28, 40, 172, 193, 244, 274});
    const dc::Tensor t = dc::einsum(" ij -> ji ", {a});
    CHECK(t.shape() == dc::Shape{3, 2});
    CHECK(t.to_vector() == V{0, 3, 1, 4, 2, 5});
    CHECK(dc::einsum("ba", {a}).to_vector() == V{0, 3, 1, 4, 2, 5});  // implicit: a, b
    const dc::Tensor m = arange(9, {3, 3});
    CHECK(dc::einsum("ii->i", {m}).to_vector() == V{0, 4, 8});
    CHECK(dc::einsum("ii", {m}).item() == 12);  // the trace
    CHECK(dc::einsum("iij->j", {arange(18, {3, 3, 2})}).to_vector() == V{24, 27});
    const dc::Tensor outer = dc::einsum("i,j->ij", {arange(2, {2}), arange(3, {3})});
    CHECK(outer.to_vector() == V{0, 0, 0, 0, 1, 2});
    const dc::Tensor dot = dc::einsum("i,i->", {arange(4, {4}), arange(4, {4})});
    CHECK(dot.dim() == 0);
    CHECK(dot.item() == 14);
    CHECK(dc::einsum("ij->i", {a}).to_vector() == V{3, 12});
    CHECK(dc::einsum("ij,ij->", {a, a}).item() == 55);
    CHECK(dc::einsum("ij,jk,kl->li", {a, b, arange(8, {4, 2})}).to_vector() ==
          V{324, 1008, 422, 1304});
}

TEST_CASE("einsum: gradients flow to every operand", "[einsum]") {
    const dc::Tensor a = arange(6, {2, 3}).requires_grad_(true);
    const dc::Tensor b = arange(3, {3}).requires_grad_(true);
    dc::einsum("ij,j->i", {a, b}).sum().backward();
    CHECK(a.grad().to_vector() == V{0, 1, 2, 0, 1, 2});  // ∂/∂a[i][j] = b[j]
    CHECK(b.grad().to_vector() == V{3, 5, 7});           // ∂/∂b[j] = Σ_i a[i][j]
}

TEST_CASE("einsum: malformed equations are Errors naming the op", "[einsum][errors]") {
    const dc::Tensor a = arange(6, {2, 3}), b = arange(12, {3, 4});
    auto refused = [](std::string_view eq, const std::vector<dc::Tensor>& ops,
                      const std::string& what) {
        CHECK_THROWS_WITH(dc::einsum(eq, ops), Contains("einsum") && Contains(what));
    };
    refused("ij,jk->ik", {a}, "names 2 operands, got 1");
    refused("ij->ik", {a}, "'k' is in no operand");
    refused("ij->ii", {a}, "'i' appears twice");
    refused("ij->i->j", {a}, "more than one");
    refused("i1->i", {a}, "letters");
    refused("...ij->ij", {a}, "\"...\" is not supported");
    refused("ijk->i", {a}, "operand 0 has 2 dims");
    refused("ij,jk->ik", {a, a}, "subscript 'j' has sizes 3 and 2");
    refused("ii->i", {a}, "subscript 'i' has sizes 2 and 3");
    refused("ij", {dc::Tensor{}}, "operand 0 is undefined");
    refused("", {}, "at least one operand");
}
