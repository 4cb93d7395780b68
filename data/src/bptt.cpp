// batchify and BpttWindows (bptt.hpp).

#include "descent/data/bptt.hpp"

#include <fmt/format.h>

#include "descent/error.hpp"
#include "descent/grad_mode.hpp"

namespace descent::data {
namespace {
std::string describe(const Tensor& t) {
    if (!t.defined()) return "an undefined tensor";
    return fmt::format("{} {}", dtype_name(t.dtype()), shape_str(t.shape()));
}
}  // namespace

Tensor batchify(const Tensor& tokens, std::int64_t batch_size) {
    if (!tokens.defined() || tokens.dim() != 1 || tokens.dtype() != Dtype::int64) {
        throw ShapeError(
            fmt::format("batchify: tokens must be int64 [n], got {}", describe(tokens)));
    }
    const std::int64_t n = tokens.size(0);
    if (batch_size <= 0 || batch_size > n) {
        throw Error(fmt::format("batchify: batch_size must be in [1, {}] (the tokens), got {}", n,
                                batch_size));
    }
    const std::int64_t steps = n / batch_size;  // T
    const NoGradGuard no_grad;
    // stream b = tokens[b·T, (b+1)·T): the first batch_size·T tokens, row-major
    return tokens.slice(0, 0, batch_size * steps).reshape({batch_size, steps}).clone();
}

BpttWindows::BpttWindows(Tensor streams, std::int64_t bptt)
    : streams_(std::move(streams)), bptt_(bptt) {
    if (!streams_.defined() || streams_.dim() != 2 || streams_.dtype() != Dtype::int64) {
        throw ShapeError(
            fmt::format("BpttWindows: streams must be int64 [batch, T] (batchify), got {}",
                        describe(streams_)));
    }
    if (bptt <= 0) throw Error(fmt::format("BpttWindows: bptt must be ≥ 1, got {}", bptt));
    if (streams_.size(1) < 2) {
        throw Error(
            fmt::format("BpttWindows: streams {} have T = {} steps: no step has a next token to "
                        "predict (T ≥ 2)",
                        shape_str(streams_.shape()), streams_.size(1)));
    }
}

std::int64_t BpttWindows::size() const {
    const std::int64_t pairs = streams_.size(1) - 1;  // steps with a next token
    return pairs / bptt_ + (pairs % bptt_ != 0 ? 1 : 0);
}

BpttWindow BpttWindows::operator[](std::int64_t k) const {
    if (k < 0 || k >= size()) {
        throw IndexError(fmt::format("BpttWindows: window {} is not in [0, {})", k, size()));
    }
    const std::int64_t start = k * bptt_;  // < T − 1: no overflow
    const std::int64_t length = std::min(bptt_, streams_.size(1) - 1 - start);
    const NoGradGuard no_grad;
    return {streams_.slice(1, start, start + length),
            streams_.slice(1, start + 1, start + 1 + length)};
}

}  // namespace descent::data
