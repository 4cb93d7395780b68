#pragma once
// Data-parallel training: every rank holds a replica of the model, computes the gradient of its
// shard of the global batch, and reduce_gradients() sums the shards' gradients so that every
// rank steps with the gradient of the whole batch. Everything after it (clipping, gradient
// noise, the optimizer, Lookahead, schedules) is the same computation on the same values on
// every rank, so the replicas stay equal — and a hash of the parameters compared every
// `check_every` reductions proves it.
//
//   distributed::DataParallel ddp(world, model);       // same model everywhere, rank 0's values
//   for (auto& batch : loader) {                // loader sharded: {.rank, .num_replicas}
//       Tensor loss = cross_entropy(model(batch.x), batch.y, {.reduction = Reduction::sum})
//                     / double(batch.global_rows);   // the global batch's mean
//       optimizer.zero_grad();
//       loss.backward();
//       ddp.reduce_gradients();
//       optimizer.step();
//   }

#include <cstdint>
#include <string>
#include <vector>

#include "descent/distributed/communicator.hpp"
#include "descent/nn/module.hpp"
#include "descent/state.hpp"

namespace descent::distributed {

struct DataParallelOptions {
    ReduceOrder order = ReduceOrder::rank_order;
    /// Every this many reductions, compare a hash of the parameters across ranks and throw
    /// DistError naming the first rank that differs from rank 0 (0: never).
    std::int64_t check_every = 100;
    /// After each reduction, copy rank 0's buffers (running statistics of a plain BatchNorm,
    /// which sees only its rank's shard) to every rank, as torch's DDP does.
    bool broadcast_buffers = true;
};

class DataParallel {
  public:
    /// Checks that every rank's model has the same parameters and buffers (names, dtypes,
    /// shapes) — else DistError on every rank naming the first rank and entry that differ —
    /// then gives every rank rank 0's values. Holds the model's tensors, not the module.
    DataParallel(Communicator& world, const nn::Module& model, DataParallelOptions options = {});

    /// grad ← Σ_r grad_r over ranks, in place: the parameters' gradients flattened per dtype in
    /// parameter order into one buffer (one reduction per dtype and step, whatever the model's
    /// size: no buckets). A parameter gets a gradient if any rank has one (zeros for the ranks
    /// without). In a world of one rank it changes nothing.
    void reduce_gradients();
    /// Compares the parameters' hash across ranks now (DistError naming the first rank whose
    /// replica differs from rank 0's).
    void check_replicas();
    /// 64-bit hash of the parameters' bytes, in order.
    std::uint64_t replica_hash() const;
    std::int64_t reductions() const { return reductions_; }
    Communicator& world() const { return world_.get(); }

    /// "reductions" (what paces the replica checks) and the text "config" with the options,
    /// which a load checks against this wrapper's.
    StateDict state_dict() const;
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    std::string config() const;

    CommunicatorRef world_;
    DataParallelOptions options_;
    std::vector<Tensor> parameters_, buffers_;
    std::vector<float> flat_float_;  // the gradients in one buffer per dtype, kept between steps
    std::vector<double> flat_double_;
    std::int64_t reductions_ = 0;
    Lifetime lifetime_;
};

}  // namespace descent::distributed
