#pragma once
// One small data-parallel training run used by the proofs: an MLP with BatchNorm and dropout,
// AdamW inside Lookahead after a warm-up, clipping and gradient noise, on a sharded loader.
// With a world, rank r trains on its shards (SyncBatchNorm, gradients summed by DataParallel);
// without one, a single process trains on the whole global batches (BatchNorm1d).

#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/distributed.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace dist_test {

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

struct Run {
    std::vector<double> losses;                // the global batch's loss after every update
    std::vector<std::vector<double>> params;   // the final parameters, in order
    std::vector<std::vector<double>> buffers;  // the final buffers (running statistics)
    std::uint64_t hash = 0;                    // DataParallel's replica hash (0 without world)
};

inline Run train(descent::distributed::Communicator* world, dc::Dtype dtype,
                 std::int64_t updates = 24) {
    constexpr std::uint64_t seed = 11;
    dc::manual_seed(seed);
    const dc::Tensor x = dc::randn({90, 5}, {.dtype = dtype});
    const dc::Tensor w = dc::randn({5, 3}, {.dtype = dtype});
    const dc::Tensor y = dc::matmul(x, w).argmax(1);
    const std::int64_t ranks = world ? world->size() : 1, rank = world ? world->rank() : 0;
    data::DataLoader loader(x, y,
                            {.batch_size = 16, .seed = seed, .num_replicas = ranks, .rank = rank});

    nn::Sequential model{nn::Linear(5, 12)};
    if (world)
        model.push_back(descent::distributed::SyncBatchNorm(*world, 12));
    else
        model.push_back(nn::BatchNorm1d(12));
    model.push_back(nn::Tanh());
    model.push_back(nn::Dropout(0.25));
    model.push_back(nn::Linear(12, 3));
    model.to(dtype);
    std::unique_ptr<descent::distributed::DataParallel> ddp;
    if (world)
        ddp = std::make_unique<descent::distributed::DataParallel>(
            *world, model, descent::distributed::DataParallelOptions{.check_every = 5});

    opt::AdamW inner(model.parameters(), {.lr = 0.02, .weight_decay = 0.01});
    opt::Lookahead optimizer(inner, {});
    opt::LRScheduler schedule(optimizer, opt::warmup(opt::cosine(updates), 4));
    opt::GradientNoise noise({.eta = 0.01, .seed = seed});

    Run run;
    while (static_cast<std::int64_t>(run.losses.size()) < updates) {
        for (auto& batch : loader) {
            const descent::SampleKeys keys(batch.indices, seed, run.losses.size());
            const dc::Tensor loss =
                nn::cross_entropy(model(batch.x), batch.y, {.reduction = nn::Reduction::sum}) /
                static_cast<double>(batch.global_rows);
            optimizer.zero_grad();
            loss.backward();
            if (ddp) ddp->reduce_gradients();
            opt::clip_grad_norm(model.parameters(), 1.0);
            noise.add_to(model.parameters());
            optimizer.step();
            schedule.step();
            run.losses.push_back(world ? world->sum(loss.item()) : loss.item());
            if (static_cast<std::int64_t>(run.losses.size()) == updates) break;
        }
    }
    for (const dc::Tensor& p : model.parameters()) run.params.push_back(p.to_vector());
    for (const auto& [name, b] : model.named_buffers()) run.buffers.push_back(b.to_vector());
    if (ddp) run.hash = ddp->replica_hash();
    return run;
}

/// True when both runs hold the same numbers to the bit.
inline bool identical(const Run& a, const Run& b) {
    const auto same = [](const std::vector<double>& u, const std::vector<double>& v) {
        return u.size() == v.size() &&
               (u.empty() || std::memcmp(u.data(), v.data(), u.size() * sizeof(double)) == 0);
    };
    if (!same(a.losses, b.losses) || a.params.size() != b.params.size() ||
        a.buffers.size() != b.buffers.size())
        return false;
    for (std::size_t i = 0; i < a.params.size(); ++i)
        if (!same(a.params[i], b.params[i])) return false;
    for (std::size_t i = 0; i < a.buffers.size(); ++i)
        if (!same(a.buffers[i], b.buffers[i])) return false;
    return a.hash == b.hash;
}

/// The largest ‖a − b‖₂ / ‖b‖₂ over the parameter tensors.
inline double max_relative_difference(const Run& a, const Run& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.params.size(); ++i) {
        double diff = 0, norm = 0;
        for (std::size_t j = 0; j < a.params[i].size(); ++j) {
            diff += (a.params[i][j] - b.params[i][j]) * (a.params[i][j] - b.params[i][j]);
            norm += b.params[i][j] * b.params[i][j];
        }
        worst = std::max(worst, std::sqrt(diff / norm));
    }
    return worst;
}

}  // namespace dist_test
