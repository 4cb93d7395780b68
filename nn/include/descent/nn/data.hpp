#pragma once
// Data helpers from the lecture: a seeded, shuffling mini-batch loader (stochastic and
// mini-batch gradient descent), feature standardisation fitted on training data only, and
// curriculum ordering (easy examples first, harder ones added over time).

#include <cstdint>
#include <optional>

#include "descent/random.hpp"
#include "descent/tensor.hpp"

namespace descent::nn {

struct Batch {
    Tensor x;  ///< rows of the features
    Tensor y;  ///< the matching rows of the targets
};

struct DataLoaderOptions {
    std::int64_t batch_size = 32;
    bool shuffle = true;     ///< a new order every epoch (every begin())
    bool drop_last = false;  ///< drop a last batch smaller than batch_size
    /// Seeds the loader's own generator; without it, orders come from the global generator
    /// (manual_seed).
    std::optional<std::uint64_t> seed{};
};

/// Mini-batches of (features, targets) rows:  for (auto& [x, y] : loader) { ... }.
/// Each pass over the loader is one epoch; with shuffle the rows are permuted anew each time.
class DataLoader {
  public:
    DataLoader(Tensor features, Tensor targets, DataLoaderOptions options = {});

    class Iterator {
      public:
        Iterator(DataLoader* loader, std::int64_t batch);
        Batch& operator*() { return current_; }
        Iterator& operator++();
        bool operator==(const Iterator& other) const { return batch_ == other.batch_; }

      private:
        void load();
        DataLoader* loader_;
        std::int64_t batch_;
        Batch current_;
    };

    /// Starts an epoch (reshuffling if asked) — or, right after load_state_dict of a state
    /// saved mid-epoch, continues that epoch at the batch after the last one handed out.
    Iterator begin();
    Iterator end() { return Iterator(this, batches()); }
    /// Batches per epoch.
    std::int64_t batches() const;
    std::int64_t rows() const { return features_.size(0); }
    /// Epochs begun so far.
    std::int64_t epoch() const { return epochs_; }

    /// Where the loader is, for a checkpoint: {"epoch", "next_batch", "order" (the current
    /// epoch's row order), and "generator.*" for a loader with its own generator}.
    NamedTensors state_dict() const;
    /// Restores state_dict() of a loader over as many rows and of the same kind; anything
    /// else is an Error and changes nothing.
    void load_state_dict(const NamedTensors& state);

  private:
    Tensor features_, targets_;
    DataLoaderOptions options_;
    std::optional<Generator> generator_;
    Tensor order_;                 // int64 row order of the current epoch
    std::int64_t epochs_ = 0;      // epochs begun
    std::int64_t next_batch_ = 0;  // the next batch of the current epoch to hand out
    bool resume_ = false;          // the next begin() continues the current epoch
};

/// x ← (x − mean)/std per feature (column), with mean and std fitted on training data only;
/// a constant feature keeps std 1 so that it maps to 0 instead of NaN.
class Standardizer {
  public:
    /// Fits on x [N, F] (population std, as scikit-learn's StandardScaler).
    Standardizer& fit(const Tensor& x);
    Tensor transform(const Tensor& x) const;
    Tensor fit_transform(const Tensor& x) { return fit(x).transform(x); }
    const Tensor& mean() const { return mean_; }
    const Tensor& std() const { return std_; }
    bool fitted() const { return mean_.defined(); }

    /// {"mean", "std"} once fitted (nothing before), for checkpoints.
    NamedTensors state_dict() const;
    /// Restores state_dict(): an empty state unfits it; otherwise both entries, 1-D of one
    /// length and floating dtype, std positive — else an Error, and nothing changes.
    void load_state_dict(const NamedTensors& state);

  private:
    Tensor mean_, std_;
};

/// Row indices (int64) from easiest to hardest: sorted by ascending difficulty, ties kept in
/// order (Bengio et al. 2009, curriculum learning).
Tensor curriculum_order(const Tensor& difficulty);
/// The first rows of `order` that epoch `epoch` of a curriculum trains on: a fraction growing
/// linearly from start_fraction at epoch 0 to all rows at epoch `ramp_epochs` and after.
Tensor curriculum_subset(const Tensor& order, std::int64_t epoch, std::int64_t ramp_epochs,
                         double start_fraction = 0.25);

}  // namespace descent::nn
