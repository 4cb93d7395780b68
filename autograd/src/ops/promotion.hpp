#pragma once
// torch's type promotion among descent's dtypes, and the int64 and bool arithmetic it leads to.
// The operands of a binary op are computed in their result type: a floating dtype wins over
// int64 and bool, int64 over bool. float32 with float64 is a DtypeError, descent's deliberate
// difference from torch (a precision is never changed silently). int64 arithmetic wraps around
// on overflow as torch's does (two's complement, computed in std::uint64_t: no undefined
// behaviour).

#include <string_view>

#include "../tensor_impl.hpp"
#include "descent/tensor.hpp"

namespace descent::promotion {

/// The dtype a binary op computes a and b in; an Error naming op if either is undefined.
Dtype result_type(const Tensor& a, const Tensor& b, std::string_view op);

/// True when a and b are defined floating tensors of one dtype: the case each op's own float
/// path takes as it is.
inline bool same_floating(const Tensor& a, const Tensor& b) {
    if (!a.defined() || !b.defined()) return false;
    const Dtype dtype = a.impl()->dtype;
    return dtype == b.impl()->dtype && is_floating(dtype);
}
/// True when x is a defined int64 or bool tensor.
bool is_integer(const Tensor& x);

enum class Arith { add, sub, mul, div };

/// a op b for operands that are not floating tensors of one dtype, in their result type: a
/// floating one through the op's float path (the other operand converted; int64 and bool never
/// require grad, so no gradient is lost); int64 wrapping; bool + bool is or, bool · bool is and;
/// a division of two int64/bool operands is a true division in float32 (torch's default dtype).
/// A subtraction with a bool operand is a DtypeError, as in torch.
Tensor arithmetic(Arith op, const Tensor& a, const Tensor& b);

/// −x for an int64 tensor, wrapping (−INT64_MIN is INT64_MIN); a bool one is a DtypeError, as in
/// torch.
Tensor negate(const Tensor& x);

}  // namespace descent::promotion
