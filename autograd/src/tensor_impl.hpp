#pragma once
// What a Tensor handle points at: storage (shared by aliases such as reshape and detach, with
// the version counter of in-place writes) plus shape, dtype and the tensor's place on the tape.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "descent/tensor.hpp"

namespace descent {

struct Storage {
    /// Data of its own: from the pools when small, else from the block cache or the heap.
    explicit Storage(std::size_t nbytes);
    struct InPlace {};
    /// Data in the same block, just after this object: make_storage() allocates the block.
    Storage(std::size_t nbytes, InPlace);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    void* data = nullptr;  // 64-byte aligned, so every tensor can be mapped as Eigen::Aligned64
    std::size_t nbytes = 0;
    std::uint64_t version = 0;
    bool in_place = false;
};

/// Storage for nbytes: a small one in a single pooled block with its data (one allocation
/// instead of two), a larger one as Storage(nbytes).
std::shared_ptr<Storage> make_storage(std::size_t nbytes);

struct TensorImpl {
    /// numel: checked_numel(shape), computed by the caller.
    TensorImpl(std::shared_ptr<Storage> storage, Shape shape, Dtype dtype, std::int64_t numel);
    ~TensorImpl();
    TensorImpl(const TensorImpl&) = delete;
    TensorImpl& operator=(const TensorImpl&) = delete;

    std::shared_ptr<Storage> storage;
    Shape shape;
    Dtype dtype;
    std::int64_t numel;
    bool requires_grad = false;
    std::shared_ptr<Node> grad_fn;           // the op that produced this tensor (non-leaves)
    std::shared_ptr<Node> grad_accumulator;  // leaves requiring grad: where backward delivers
    Tensor grad;
};

/// The Error of using an undefined tensor.
[[noreturn]] void throw_undefined_tensor();
/// t's record, for hot paths that read its fields without a call; an Error if t is undefined,
/// as Tensor's accessors give.
inline TensorImpl& defined_impl(const Tensor& t) {
    if (!t.defined()) throw_undefined_tensor();
    return *t.impl();
}

/// The elements of t as T: its storage typed, without the dtype check and the version bump of
/// Tensor::data and mutable_data — for kernels that made t (or checked its dtype) themselves.
template <class T>
T* elements(const Tensor& t) {
    return static_cast<T*>(t.impl()->storage->data);
}

/// RAM plus swap of this machine: no tensor can be larger (and asking the allocator for more
/// can abort a sanitized build instead of failing).
std::uint64_t memory_bytes();

/// A new tensor with uninitialised storage. A shape with a negative extent, one whose element
/// or byte count overflows, or one larger than this machine's memory is a ShapeError naming op.
/// A shape given by reference or as a list is copied into a spare vector (spare_shapes.hpp).
Tensor empty(Shape&& shape, Dtype dtype, std::string_view op = "empty");
Tensor empty(const Shape& shape, Dtype dtype, std::string_view op = "empty");
Tensor empty(std::initializer_list<std::int64_t> shape, Dtype dtype, std::string_view op = "empty");
/// A new tensor with uninitialised storage of t's shape and dtype. A shape some tensor already
/// has passed empty()'s checks, so this skips them.
Tensor empty_as(const Tensor& t);
/// A new tensor holding t's values in storage of its own, off the tape (clone() without the
/// node).
Tensor copy_of(const Tensor& t);
/// A new handle on the same storage with another shape (same element count), off the tape.
Tensor alias(const Tensor& t, const Shape& shape);

}  // namespace descent
