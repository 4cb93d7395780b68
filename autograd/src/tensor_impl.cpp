#include "tensor_impl.hpp"

#include <atomic>
#include <new>

#include "descent/engine.hpp"
#include "node.hpp"

namespace descent {
namespace {
std::atomic<std::int64_t> live_tensors{0};
constexpr std::align_val_t kAlignment{64};
}  // namespace

Storage::Storage(std::size_t bytes) : nbytes(bytes) {
    if (bytes > 0) data = ::operator new(bytes, kAlignment);
}

Storage::~Storage() {
    if (data) ::operator delete(data, kAlignment);
}

TensorImpl::TensorImpl(std::shared_ptr<Storage> s, Shape sh, Dtype dt)
    : storage(std::move(s)), shape(std::move(sh)), dtype(dt), numel(numel_of(shape)) {
    live_tensors.fetch_add(1, std::memory_order_relaxed);
}

TensorImpl::~TensorImpl() {
    live_tensors.fetch_sub(1, std::memory_order_relaxed);
}

Tensor empty(const Shape& shape, Dtype dtype) {
    const auto n = static_cast<std::size_t>(numel_of(shape));
    return Tensor(std::make_shared<TensorImpl>(std::make_shared<Storage>(n * dtype_size(dtype)),
                                               shape, dtype));
}

Tensor alias(const Tensor& t, const Shape& shape) {
    return Tensor(std::make_shared<TensorImpl>(t.impl()->storage, shape, t.dtype()));
}

std::int64_t live_tensor_count() {
    return live_tensors.load();
}

}  // namespace descent
