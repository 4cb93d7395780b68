#pragma once
// Sample-keyed random draws for dropout in data-parallel training: a sample's mask depends on
// its key (its dataset row), not on the batch it is in or on how the batch is split over ranks.

#include <cstdint>
#include <string_view>
#include <vector>

#include "descent/tensor.hpp"

namespace descent {

/// While alive, dropout in the calling thread draws its masks from a counter-based generator
/// keyed by sample instead of the thread's generator: row i of an input is dropped by draws
/// that depend only on (seed, stream, the key of row i, which draw of this guard it is, the
/// element within the row). So a sample gets the same mask whichever batch, shard or position
/// it is in, and R ranks each keying their shard drop exactly what one process keying the
/// global batch would. Guards nest: the innermost one is active, and its destruction restores
/// the one before. A guard is for the thread that made it, in a scope (not movable).
class SampleKeys {
  public:
    /// rows: int64 1-D, the key of each row of the inputs that follow (e.g. Batch::indices),
    /// copied; seed and stream select the draws (e.g. the run's seed and the update number).
    SampleKeys(Tensor rows, std::uint64_t seed, std::uint64_t stream);
    /// Restores the guard that was active before.
    ~SampleKeys();
    SampleKeys(const SampleKeys&) = delete;
    SampleKeys& operator=(const SampleKeys&) = delete;

    /// Uniform [0, 1) draws of `shape` in a floating `dtype` (each a double with 53 random bits,
    /// converted as rand converts): element j (flat index within the row) of row i is
    /// u(seed, stream, rows[i], call, j), call = how many draws this guard has made before, so
    /// two dropout layers differ. shape[0] must be the number of keys, else a ShapeError naming
    /// `op` and the shapes.
    Tensor uniform(const Shape& shape, Dtype dtype, std::string_view op);
    /// The number of keyed rows.
    std::int64_t rows() const { return static_cast<std::int64_t>(rows_.size()); }

    /// The guard active in this thread, or nullptr.
    static SampleKeys* active();

  private:
    std::vector<std::int64_t> rows_;
    std::uint64_t seed_, stream_;
    std::uint64_t calls_ = 0;  // draws made so far
    SampleKeys* previous_;     // the guard active before this one
};

}  // namespace descent
