#pragma once
// Batches for truncated backpropagation through time (BPTT) over one long token sequence, as
// torch's word_language_model example cuts it, but batch-major: batchify lays the sequence out
// as `batch_size` parallel streams, the rows of [batch_size, T], stream b holding tokens
// [b·T, (b+1)·T) (T = ⌊n / batch_size⌋; the n mod batch_size last tokens are dropped) —
// torch's example holds the transpose, [T, batch_size]. BpttWindows then walks the streams in
// windows of bptt steps: window k has input = streams[:, k·bptt : k·bptt + L] and target =
// streams[:, k·bptt + 1 : k·bptt + 1 + L], the next token of each, where L = min(bptt,
// T − 1 − k·bptt): the last window is shorter when bptt does not divide T − 1. A model's hidden
// state carries from one window to the next in the same stream row.
//
//   auto streams = descent::data::batchify(chars.encode(text), 32);   // int64 [32, T]
//   for (auto [input, target] : descent::data::BpttWindows(streams, 35)) { ... }

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::data {

/// int64 tokens [n] as batch_size streams, int64 [batch_size, ⌊n / batch_size⌋]. An Error for
/// batch_size ≤ 0 or above n, or tokens that are no 1-D int64 tensor.
Tensor batchify(const Tensor& tokens, std::int64_t batch_size);

/// One window: int64 input and target [batch, L], target the input shifted by one step.
struct BpttWindow {
    Tensor input;
    Tensor target;
};

/// The windows of streams [batch, T] (T ≥ 2) in order: for (auto [input, target] : windows).
class BpttWindows {
  public:
    /// An Error for bptt ≤ 0, streams that are no 2-D int64 tensor, or T < 2 (no step has a
    /// next token).
    BpttWindows(Tensor streams, std::int64_t bptt);

    /// ⌈(T − 1) / bptt⌉ windows.
    std::int64_t size() const;
    /// Window k, k in [0, size()) (an IndexError otherwise): a checkpoint that saved k resumes
    /// at window k + 1.
    BpttWindow operator[](std::int64_t k) const;

    class Iterator {
      public:
        Iterator(const BpttWindows* windows, std::int64_t k) : windows_(windows), k_(k) {}
        BpttWindow operator*() const { return (*windows_)[k_]; }
        Iterator& operator++() {
            ++k_;
            return *this;
        }
        bool operator==(const Iterator& other) const { return k_ == other.k_; }

      private:
        const BpttWindows* windows_;
        std::int64_t k_;
    };
    Iterator begin() const { return {this, 0}; }
    Iterator end() const { return {this, size()}; }

  private:
    Tensor streams_;
    std::int64_t bptt_;
};

}  // namespace descent::data
