#pragma once
// Batch normalisation with the statistics of the global batch: each rank normalises its shard
// with the mean and variance over every rank's rows (allreduce of per-channel sums in the
// forward pass, of the gradient's per-channel sums in the backward pass), so the result equals
// BatchNorm1d over the unsplit batch. The plain BatchNorm1d normalises each shard by itself.
// Same parameters, buffers and names as BatchNorm1d: checkpoints move between the two.

#include <cstdint>

#include "descent/distributed/communicator.hpp"
#include "descent/nn/layers.hpp"

namespace descent::distributed {

/// Input (N, C) or (N, C, L), the shard of this rank (N may differ between ranks, and be 0).
/// Training (and eval without running statistics) is a collective: every rank calls forward and
/// backward in the same order, with the input requiring grad on all ranks or none; a global
/// batch with one value per channel is an error on every rank. Eval with running statistics
/// does not communicate. Communicating after `world` is destroyed is a DistError.
class SyncBatchNorm : public nn::BatchNorm1d {
  public:
    SyncBatchNorm(Communicator& world, std::int64_t num_features, double eps = 1e-5,
                  double momentum = 0.1, bool affine = true, bool track_running_stats = true);
    Tensor forward(const Tensor& x) override;

  private:
    CommunicatorRef world_;
};

}  // namespace descent::distributed
