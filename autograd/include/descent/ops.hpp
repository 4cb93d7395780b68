#pragma once
// Every differentiable op as a free function. Binary ops broadcast as NumPy does. The operands of
// + − × ÷, comparisons and where() are promoted as torch does: a floating dtype wins over int64
// and bool, int64 over bool (ints never require grad: the gradient flows to the float operand).
// float32 with float64 is a DtypeError naming the op and both dtypes, never a silent change of
// precision (convert with .to()). Other binary ops need one floating dtype. A C++ double takes a
// floating tensor's dtype and makes an int64 or bool tensor float32; a C++ integer takes a
// floating tensor's dtype and is an int64 beside an int64 or bool tensor.

#include <concepts>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

// --- elementwise arithmetic -----------------------------------------------------------------
/// int64 results wrap around on overflow (two's complement), as torch's. Two bool tensors: add
/// is or, mul is and, sub is a DtypeError (use logical_xor), as is sub with any bool operand.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
/// A true division: float32 for two int64/bool operands (torch's default dtype).
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
/// a / b, a true division (not a·(1/b)).
Tensor div(const Tensor& a, double b);
/// b / a for a scalar b.
Tensor rdiv(double b, const Tensor& a);
/// −x; int64 wraps (−INT64_MIN is INT64_MIN), bool is a DtypeError (use logical_not).
Tensor neg(const Tensor& x);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& x);

/// A C++ integer scalar (bool is not one): x + 1, 2 * x, x / 2, x == 0 pick the overloads
/// below rather than the double ones.
template <class I>
concept IntegerScalar = std::integral<I> && !std::same_as<I, bool>;

namespace detail {
[[noreturn]] void throw_beyond_int64(std::uint64_t v, std::string_view op);
/// f(v as a double) beside a floating tensor x (the bits of the double overloads), else f(v as
/// a 0-d int64 tensor): exact, and promoted with x as a tensor is. A value beyond int64 (a
/// 64-bit unsigned one) beside an int64 or bool tensor is an Error naming op, as in torch.
template <IntegerScalar I, class F>
Tensor with_integer(const Tensor& x, I v, std::string_view op, F&& f) {
    if (is_floating(x.dtype())) return f(static_cast<double>(v));
    if (!std::in_range<std::int64_t>(v)) throw_beyond_int64(static_cast<std::uint64_t>(v), op);
    return f(int_tensor({static_cast<std::int64_t>(v)}, {}));
}
}  // namespace detail

template <IntegerScalar I>
Tensor add(const Tensor& a, I b) {
    return detail::with_integer(a, b, "add", [&](const auto& c) { return add(a, c); });
}
template <IntegerScalar I>
Tensor mul(const Tensor& a, I b) {
    return detail::with_integer(a, b, "mul", [&](const auto& c) { return mul(a, c); });
}
/// A true division: float32 for an int64 or bool a.
template <IntegerScalar I>
Tensor div(const Tensor& a, I b) {
    return detail::with_integer(a, b, "div", [&](const auto& c) { return div(a, c); });
}
template <IntegerScalar I>
Tensor rdiv(I b, const Tensor& a) {
    return detail::with_integer(a, b, "div", [&](const auto& c) { return c / a; });
}
template <IntegerScalar I>
Tensor operator+(const Tensor& a, I b) {
    return add(a, b);
}
template <IntegerScalar I>
Tensor operator+(I a, const Tensor& b) {
    return add(b, a);
}
template <IntegerScalar I>
Tensor operator-(const Tensor& a, I b) {
    return detail::with_integer(a, b, "sub", [&](const auto& c) { return a - c; });
}
template <IntegerScalar I>
Tensor operator-(I a, const Tensor& b) {
    return detail::with_integer(b, a, "sub", [&](const auto& c) { return c - b; });
}
template <IntegerScalar I>
Tensor operator*(const Tensor& a, I b) {
    return mul(a, b);
}
template <IntegerScalar I>
Tensor operator*(I a, const Tensor& b) {
    return mul(b, a);
}
template <IntegerScalar I>
Tensor operator/(const Tensor& a, I b) {
    return div(a, b);
}
template <IntegerScalar I>
Tensor operator/(I a, const Tensor& b) {
    return rdiv(a, b);
}

// --- elementwise functions ------------------------------------------------------------------
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
/// -1, 0 or +1 (no gradient).
Tensor sign(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor gelu(const Tensor& x, GeluApproximation approximate = GeluApproximation::none);
/// log(1 + exp(βx)) / β, linear above βx > threshold (as torch.nn.functional.softplus).
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor pow(const Tensor& x, double exponent);
Tensor pow(const Tensor& x, const Tensor& exponent);
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tan(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
/// The angle of the point (b, a) in (−π, π], as std::atan2(a, b).
Tensor atan2(const Tensor& a, const Tensor& b);
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
/// √(a² + b²) without overflow or underflow in the squares.
Tensor hypot(const Tensor& a, const Tensor& b);
/// ln(1 + x), accurate for small x.
Tensor log1p(const Tensor& x);
/// eˣ − 1, accurate for small x.
Tensor expm1(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
/// 1/√x.
Tensor rsqrt(const Tensor& x);
Tensor reciprocal(const Tensor& x);
Tensor square(const Tensor& x);
/// Rounding to integers keeps the dtype and has a zero gradient, as in torch.
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor trunc(const Tensor& x);
/// Nearest integer, ties to even; with `decimals` d, to the nearest multiple of 10⁻ᵈ.
Tensor round(const Tensor& x, std::int64_t decimals = 0);
/// a − b·trunc(a/b): the sign of a, as C's fmod and torch.fmod.
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, double b);
/// a − b·⌊a/b⌋: the sign of b, as Python's % and torch.remainder.
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, double b);
/// mask ? a : b, all three broadcast together; mask is a bool tensor, a and b are promoted.
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);

// --- comparisons: bool masks, no gradient ---------------------------------------------------
/// Operands of different dtypes compare in their promoted dtype (int64 with float32 as
/// float32, bool with int64 as int64). A double beside a floating tensor takes its dtype;
/// beside an int64 or bool tensor both compare as float64 (exact up to 2⁵³ in magnitude). A C++
/// integer takes a floating tensor's dtype and compares exactly, as int64, with an int64 or bool
/// one.
/// `a == b` on tensors is eq (a mask, as torch); a.is_same(b) tells whether they are one tensor.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, double b);
Tensor operator!=(const Tensor& a, double b);
Tensor operator==(double a, const Tensor& b);
Tensor operator!=(double a, const Tensor& b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);
template <IntegerScalar I>
Tensor operator==(const Tensor& a, I b) {
    return detail::with_integer(a, b, "eq", [&](const auto& c) { return a == c; });
}
template <IntegerScalar I>
Tensor operator!=(const Tensor& a, I b) {
    return detail::with_integer(a, b, "ne", [&](const auto& c) { return a != c; });
}
template <IntegerScalar I>
Tensor operator==(I a, const Tensor& b) {
    return b == a;
}
template <IntegerScalar I>
Tensor operator!=(I a, const Tensor& b) {
    return b != a;
}
template <IntegerScalar I>
Tensor operator<(const Tensor& a, I b) {
    return detail::with_integer(a, b, "lt", [&](const auto& c) { return a < c; });
}
template <IntegerScalar I>
Tensor operator<=(const Tensor& a, I b) {
    return detail::with_integer(a, b, "le", [&](const auto& c) { return a <= c; });
}
template <IntegerScalar I>
Tensor operator>(const Tensor& a, I b) {
    return detail::with_integer(a, b, "gt", [&](const auto& c) { return a > c; });
}
template <IntegerScalar I>
Tensor operator>=(const Tensor& a, I b) {
    return detail::with_integer(a, b, "ge", [&](const auto& c) { return a >= c; });
}
/// Elementwise on bool tensors (broadcasting).
Tensor logical_not(const Tensor& mask);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);

// --- reductions (dims may be negative; an empty dims list reduces nothing) -------------------
/// sum of an int64 or bool tensor is int64 (wrapping; of bool, the count of trues), max and min
/// keep int64 and bool; none has a gradient. mean, var, std, logsumexp, softmax and log_softmax
/// need a floating tensor (a DtypeError says to convert with .to(float32)).
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const Dims& dims, bool keepdim = false);
/// Largest element(s); the gradient is shared equally among ties.
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, const Dims& dims, bool keepdim = false);
Tensor min(const Tensor& x);
Tensor min(const Tensor& x, const Dims& dims, bool keepdim = false);
/// Unbiased variance of all elements (list the dims to choose `unbiased`).
Tensor var(const Tensor& x);
Tensor var(const Tensor& x, const Dims& dims, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x);
Tensor std(const Tensor& x, const Dims& dims, bool unbiased = true, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const Dims& dims, bool keepdim = false);
/// Σ(a − b)² over every element of two tensors of one shape and floating dtype, divided by the
/// element count when `mean`: a 0-d tensor, one node (nn::mse_loss's sum and mean; the bits of
/// ((a − b) * (a − b)).sum() or .mean(), forward and backward).
Tensor squared_error(const Tensor& a, const Tensor& b, bool mean);
/// Softmax cross-entropy, one node: Σᵢ wᵢ·(log Σ_c exp(zᵢc) − zᵢ,yᵢ) / divisor for logits z
/// [N, C] (float32/float64), class indices y [N] (int64, each in [0, C)) and row weights w [N]
/// of z's dtype that do not require grad (nn::cross_entropy's path: w = 0 for ignored rows,
/// divisor = the rows that count for a mean). ∂z = (softmax(z) − onehot(y))·wᵢ·g / divisor.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weights,
                             double divisor);
/// One dim without braces: sum(x, 1), mean(x, -1, true), ...
template <DimIndex I>
Tensor sum(const Tensor& x, I dim, bool keepdim = false) {
    return sum(x, Dims{static_cast<std::int64_t>(dim)}, keepdim);
}
template <DimIndex I>
Tensor mean(const Tensor& x, I dim, bool keepdim = false) {
    return mean(x, Dims{static_cast<std::int64_t>(dim)}, keepdim);
}
template <DimIndex I>
Tensor max(const Tensor& x, I dim, bool keepdim = false) {
    return max(x, Dims{static_cast<std::int64_t>(dim)}, keepdim);
}
template <DimIndex I>
Tensor min(const Tensor& x, I dim, bool keepdim = false) {
    return min(x, Dims{static_cast<std::int64_t>(dim)}, keepdim);
}
template <DimIndex I>
Tensor var(const Tensor& x, I dim, bool unbiased = true, bool keepdim = false) {
    return var(x, Dims{static_cast<std::int64_t>(dim)}, unbiased, keepdim);
}
template <DimIndex I>
Tensor std(const Tensor& x, I dim, bool unbiased = true, bool keepdim = false) {
    return std(x, Dims{static_cast<std::int64_t>(dim)}, unbiased, keepdim);
}
template <DimIndex I>
Tensor logsumexp(const Tensor& x, I dim, bool keepdim = false) {
    return logsumexp(x, Dims{static_cast<std::int64_t>(dim)}, keepdim);
}
Tensor softmax(const Tensor& x, std::int64_t dim);
Tensor log_softmax(const Tensor& x, std::int64_t dim);
/// Flat index of the largest element (int64, no gradient).
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, std::int64_t dim, bool keepdim = false);
/// Sums a broadcast gradient back to `shape` (the inverse of expand).
Tensor sum_to(const Tensor& x, const Shape& shape);

// --- linear algebra -------------------------------------------------------------------------
/// NumPy matmul: 1-D·1-D is a dot product, 1-D operands are promoted and the added dim
/// removed, batch dims (all but the last two) broadcast.
Tensor matmul(const Tensor& a, const Tensor& b);
/// op(a)·op(b) for a and b of at least 2 dims, op transposing the last two dims where asked
/// (BLAS's transpose flags: no transposed copy is made); batch dims broadcast as matmul's.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);
/// x·weightᵀ + bias for weight [out, in] and bias [out] (optional), as torch.nn.functional.linear.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});
/// Einstein summation (torch.einsum) over letter subscripts, e.g. "ij,jk->ik", "bij,bjk->bik",
/// "i,j->ij", "ii->i", "ij->": a letter repeated within one operand takes its diagonal, letters
/// left out of the output are summed, and without "->" the output is the letters that appear
/// once, in alphabetical order. Composed of mul, sum, permute, reshape and matmul, so
/// differentiable to any order. No "..." and no broadcasting of size-1 dims.
Tensor einsum(std::string_view equation, const std::vector<Tensor>& operands);

// --- shape ----------------------------------------------------------------------------------
/// Same elements in a new shape; one extent may be -1. Shares storage with x.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1);
Tensor permute(const Tensor& x, const Dims& order);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, std::int64_t dim);
Tensor unsqueeze(const Tensor& x, std::int64_t dim);
/// Broadcasts x to `shape` (NumPy rules; -1 keeps an extent).
Tensor expand(const Tensor& x, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// Elements start, start+step, ... < end along dim; negative bounds count from the end.
Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end,
             std::int64_t step = 1);
/// The entries of x at the int64 indices of a 1-D `index` along dim.
Tensor index_select(const Tensor& x, std::int64_t dim, const Tensor& index);
/// out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims), as torch.gather.
Tensor gather(const Tensor& x, std::int64_t dim, const Tensor& index);
Tensor concat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
/// Pieces of `split_size` along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim = 0);
/// Pieces of the given sizes along dim (they must add up to the extent).
std::vector<Tensor> split(const Tensor& x, const std::vector<std::int64_t>& sizes,
                          std::int64_t dim = 0);

// --- structure ------------------------------------------------------------------------------
/// Running sum along dim, in x's dtype (int64 for bool, as torch; int64 wraps on overflow).
Tensor cumsum(const Tensor& x, std::int64_t dim);
/// Running product along dim, dtypes as cumsum; its gradient (and the gradient's own) is exact
/// where x has zeros.
Tensor cumprod(const Tensor& x, std::int64_t dim);
/// Values in order along a dim with the int64 positions they came from (sort, topk).
struct ValuesIndices {
    Tensor values;
    Tensor indices;
};
/// Stable sort along dim: ties keep their order, NaN counts as the largest value (last
/// ascending, first descending), as torch.sort. The gradient flows through the values.
ValuesIndices sort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
/// sort(x, dim, descending).indices.
Tensor argsort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
/// The k largest (or smallest) entries along dim, NaN the largest; among ties the lower index
/// wins. Sorted by value, or with sorted = false in the order they have in x.
ValuesIndices topk(const Tensor& x, std::int64_t k, std::int64_t dim = -1, bool largest = true,
                   bool sorted = true);
/// x reversed along each of the dims.
Tensor flip(const Tensor& x, const Dims& dims);
/// x shifted cyclically by shifts[i] along dims[i]; with no dims, x flattened is shifted by its
/// one shift and reshaped back.
Tensor roll(const Tensor& x, const std::vector<std::int64_t>& shifts, const Dims& dims = {});
/// The last two dims' entries on and above the diagonal (diagonal > 0: above it), zeros below.
Tensor triu(const Tensor& x, std::int64_t diagonal = 0);
/// The last two dims' entries on and below the diagonal (diagonal < 0: below it), zeros above.
Tensor tril(const Tensor& x, std::int64_t diagonal = 0);
/// x repeated repeats[i] times along dim i, as torch.Tensor.repeat: at least x.dim() counts,
/// extra ones add leading dims.
Tensor repeat(const Tensor& x, const std::vector<std::int64_t>& repeats);
/// repeat() with reps padded by leading 1s to x.dim(), as torch.tile.
Tensor tile(const Tensor& x, const std::vector<std::int64_t>& reps);
/// x with `value` (in x's dtype: int64 truncates, refuses NaN) where the bool mask, broadcast
/// with x, is true; no gradient flows there.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
/// a bᵀ of two 1-D tensors: [n] × [m] → [n, m].
Tensor outer(const Tensor& a, const Tensor& b);
/// Batched product [B, n, m] · [B, m, p] → [B, n, p]; the batches must match exactly.
Tensor bmm(const Tensor& a, const Tensor& b);
/// beta·input + alpha·bmm(a, b) for finite beta and alpha, input broadcast to [B, n, p];
/// beta = 0 ignores input's values.
Tensor baddbmm(const Tensor& input, const Tensor& a, const Tensor& b, double beta = 1.0,
               double alpha = 1.0);
/// (Σ|x|ᵖ)^(1/p) over dims (all when empty) for p = ord > 0; ord ±inf is max/min |x|, ord 0
/// counts the non-zeros. The gradient is 0 where the norm is 0, as torch.linalg.vector_norm.
Tensor vector_norm(const Tensor& x, double ord = 2.0, const Dims& dims = {}, bool keepdim = false);
/// int64 labels [...] → int64 [..., num_classes] with a 1 at each label; num_classes = -1 takes
/// max(labels) + 1.
Tensor one_hot(const Tensor& labels, std::int64_t num_classes = -1);

}  // namespace descent
