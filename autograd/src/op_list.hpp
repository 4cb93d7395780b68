#pragma once
// The primitive ops: each records a node on the tape with its own backward formula. Composed
// ops (mean, var, softmax, ...) are built from these and record their parts. The op table must
// give every name here sample inputs (tests/autograd/op_table_test.cpp checks it).

#include <string_view>

// clang-format off
#define DESCENT_PRIMITIVE_OPS(X)                                                                \
    X(add) X(sub) X(mul) X(div) X(neg) X(add_scalar) X(mul_scalar) X(div_scalar)                \
    X(rdiv_scalar) X(exp) X(log) X(sqrt) X(abs) X(tanh) X(sigmoid) X(erf) X(relu)               \
    X(leaky_relu) X(gelu) X(softplus) X(pow_scalar) X(pow) X(clamp) X(maximum) X(minimum)       \
    X(where) X(sum) X(amax) X(amin) X(matmul) X(linear) X(reshape) X(permute) X(expand)          \
    X(slice) X(slice_backward) X(index_select) X(index_add) X(gather) X(scatter_add)             \
    X(concat) X(to_dtype) X(clone) X(squared_error) X(softmax)                                 \
    X(softmax_cross_entropy) X(sin) X(cos) X(tan) X(asin) X(acos) X(atan) X(atan2) X(sinh)    \
    X(cosh) X(hypot) X(log1p) X(expm1) X(log2) X(log10) X(rsqrt) X(floor) X(ceil) X(trunc)     \
    X(round) X(fmod) X(remainder) X(cumsum) X(cumprod) X(flip) X(roll) X(masked_fill)         \
    X(vector_norm) X(patches) X(patches_adjoint) X(window_mean) X(window_mean_adjoint) X(conv2d)
// clang-format on

namespace descent {

/// The primitives, and `custom`: a user's Function (its node carries the function's name).
enum class Op {
#define DESCENT_OP_ENUM(name) name,
    DESCENT_PRIMITIVE_OPS(DESCENT_OP_ENUM)
#undef DESCENT_OP_ENUM
        custom
};

constexpr std::string_view op_name(Op op) {
    switch (op) {
#define DESCENT_OP_NAME(name) \
    case Op::name:            \
        return #name;
        DESCENT_PRIMITIVE_OPS(DESCENT_OP_NAME)
#undef DESCENT_OP_NAME
        case Op::custom:
            return "custom";
    }
    return "?";
}

}  // namespace descent
