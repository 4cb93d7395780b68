#pragma once
// The ranks a training run is split over: one process, or — when descent::distributed is built
// (DESCENT_HAVE_DISTRIBUTED) — a world of MPI processes or of threads. The examples call the same
// functions either way; in one process they do nothing.

#include <descent/nn.hpp>

#include <optional>

#ifdef DESCENT_HAVE_DISTRIBUTED
#include <descent/distributed.hpp>
#endif

namespace support {

class Ranks {
  public:
    /// One process.
    Ranks() = default;
#ifdef DESCENT_HAVE_DISTRIBUTED
    explicit Ranks(descent::distributed::Communicator& world) : world_(&world) {}
    int rank() const {
        return world_ ? world_->rank() : 0;
    }
    int size() const {
        return world_ ? world_->size() : 1;
    }
    /// x summed over the ranks, in rank order.
    double sum(double x) const {
        return world_ ? world_->sum(x) : x;
    }
    /// Batch normalisation with the global batch's statistics: SyncBatchNorm across ranks.
    void push_batch_norm(descent::nn::Sequential& model, std::int64_t features) const {
        if (world_)
            model.push_back(descent::distributed::SyncBatchNorm(*world_, features));
        else
            model.push_back(descent::nn::BatchNorm1d(features));
    }
    /// Starts data-parallel training of `model`: every rank gets rank 0's values.
    void replicate(const descent::nn::Module& model) {
        if (world_) ddp_.emplace(*world_, model);
    }
    /// After backward: every rank's gradient becomes the sum over ranks.
    void reduce_gradients() {
        if (ddp_) ddp_->reduce_gradients();
    }

  private:
    descent::distributed::Communicator* world_ = nullptr;
    std::optional<descent::distributed::DataParallel> ddp_;
#else
    int rank() const {
        return 0;
    }
    int size() const {
        return 1;
    }
    double sum(double x) const {
        return x;
    }
    void push_batch_norm(descent::nn::Sequential& model, std::int64_t features) const {
        model.push_back(descent::nn::BatchNorm1d(features));
    }
    void replicate(const descent::nn::Module&) {}
    void reduce_gradients() {}
#endif
  public:
    /// The rank that prints and writes files.
    bool lead() const {
        return rank() == 0;
    }
};

}  // namespace support
