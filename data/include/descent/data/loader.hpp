#pragma once
// The mini-batch loader of the lecture's stochastic and mini-batch gradient descent: seeded,
// shuffled anew every epoch, resumable mid-epoch, and sharded over the ranks of a data-parallel
// run.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "descent/lifetime.hpp"
#include "descent/random.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::data {

/// One batch of a DataLoader. It binds as a pair, [x, y] (tuple-like: get<0> is x, get<1> is y),
/// so that `for (auto& [x, y] : loader)` names the features and targets.
struct Batch {
    Tensor x;                      ///< rows of the features
    Tensor y;                      ///< the matching rows of the targets
    Tensor indices;                ///< int64 [rows]: the dataset rows of x and y
    std::int64_t global_rows = 0;  ///< rows of the global batch this is (a shard of): x.size(0)
                                   ///< unless sharded

    template <std::size_t I>
    Tensor& get() & {
        static_assert(I < 2, "a Batch binds as [x, y]");
        return I == 0 ? x : y;
    }
    template <std::size_t I>
    const Tensor& get() const& {
        static_assert(I < 2, "a Batch binds as [x, y]");
        return I == 0 ? x : y;
    }
    template <std::size_t I>
    Tensor&& get() && {
        static_assert(I < 2, "a Batch binds as [x, y]");
        return std::move(I == 0 ? x : y);
    }
};

struct DataLoaderOptions {
    std::int64_t batch_size = 32;
    bool shuffle = true;     ///< a new order every epoch (every begin())
    bool drop_last = false;  ///< drop a last batch smaller than batch_size
    /// Seeds the loader's own generator; without it, orders come from the global generator
    /// (manual_seed).
    std::optional<std::uint64_t> seed{};
    /// Data-parallel sharding (torch's DistributedSampler names): the loader hands out rank
    /// `rank`'s contiguous shard of each global batch of batch_size rows; the num_replicas
    /// loaders of one run, built with the same options but their own rank, together cover every
    /// global batch exactly once. num_replicas > 1 needs batch_size ≥ num_replicas, and a seed
    /// when shuffling.
    std::int64_t num_replicas = 1;
    std::int64_t rank = 0;  ///< in [0, num_replicas)
};

/// Mini-batches of (features, targets) rows:  for (auto& [x, y] : loader) { ... }.
/// Each pass over the loader is one epoch; with shuffle the rows are permuted anew each time.
///
/// Sharded (num_replicas = R > 1), every rank draws the same order (its own generator, seeded
/// alike), cuts it into the same global batches — positions [b·batch_size, (b+1)·batch_size)
/// — and takes its shard of each: of a global batch of n rows, shard r has ⌊n/R⌋ rows plus one
/// if r < n mod R, and the shards in rank order are the global batch. So every rank takes the
/// same number of steps: drop_last drops a final global batch smaller than batch_size, and a
/// final global batch of fewer than R rows is dropped regardless (some rank would get no row).
/// Batch::global_rows is n: a loss summed over the shard and divided by it is the shard's part
/// of the global batch's mean, so the gradients summed over the ranks are those of the mean.
class DataLoader {
  public:
    DataLoader(Tensor features, Tensor targets, DataLoaderOptions options = {});

    /// One pass over the loader: it keeps its epoch's order, so passes are independent (a
    /// pass inside another, as torch's iterators, neither reshuffles nor cuts the outer one).
    /// The loader's state (state_dict) follows the pass of its latest epoch.
    class Iterator {
      public:
        Iterator(DataLoader* loader, std::int64_t batch, Tensor order, std::int64_t epoch);
        Batch& operator*() { return current_; }
        Iterator& operator++();
        bool operator==(const Iterator& other) const { return batch_ == other.batch_; }

      private:
        void load();
        DataLoader* loader_;
        std::int64_t batch_;
        Tensor order_;        // the row order of this pass's epoch
        std::int64_t epoch_;  // which epoch it is (the loader's count when it began)
        Batch current_;
    };

    /// Starts an epoch (reshuffling if asked) — or, right after load_state_dict of a state
    /// saved mid-epoch, continues that epoch at the batch after the last one handed out.
    Iterator begin();
    Iterator end() { return Iterator(this, batches(), order_, epochs_); }
    /// Batches per epoch (global batches, the same on every rank).
    std::int64_t batches() const;
    std::int64_t rows() const { return features_.size(0); }
    /// Epochs begun so far.
    std::int64_t epoch() const { return epochs_; }

    /// Where the loader is, for a checkpoint: {"epoch", "next_batch", "order" (the current
    /// epoch's row order), and "generator.*" for a loader with its own generator}, and the text
    /// "config" ("DataLoader(rows=1437, batch_size=64, shuffle=true, drop_last=false,
    /// generator=own)"). Sharded, the order is the global one and next_batch a global batch:
    /// the same on every rank, so that any rank's state resumes every rank.
    StateDict state_dict() const;
    /// Checks a state of a loader of this configuration — next_batch within the epoch, the
    /// order a permutation of the rows — and returns what restores it.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    std::string config() const;

    Tensor features_, targets_;
    DataLoaderOptions options_;
    std::optional<Generator> generator_;
    Tensor order_;                 // int64 row order of the current epoch
    std::int64_t epochs_ = 0;      // epochs begun
    std::int64_t next_batch_ = 0;  // the next batch of the current epoch to hand out
    bool resume_ = false;          // the next begin() continues the current epoch
    Lifetime lifetime_;
};

}  // namespace descent::data

/// \cond
// Batch is tuple-like, [x, y]: std::tuple_size and std::tuple_element for structured bindings.
template <>
struct std::tuple_size<descent::data::Batch> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I>
struct std::tuple_element<I, descent::data::Batch> {
    static_assert(I < 2, "a Batch binds as [x, y]");
    using type = descent::Tensor;
};
/// \endcond
