#include "descent/data/loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "descent/state_reader.hpp"

namespace descent::data {
DataLoader::DataLoader(Tensor features, Tensor targets, DataLoaderOptions options)
    : features_(std::move(features)), targets_(std::move(targets)), options_(options) {
    if (!features_.defined() || !targets_.defined()) {
        throw Error("DataLoader: features or targets are undefined");
    }
    if (features_.dim() < 1 || targets_.dim() < 1 || features_.size(0) != targets_.size(0)) {
        throw ShapeError(
            fmt::format("DataLoader: features {} and targets {} need the same "
                        "number of rows",
                        shape_str(features_.shape()), shape_str(targets_.shape())));
    }
    if (options_.batch_size < 1) {
        throw Error(fmt::format("DataLoader: batch_size must be ≥ 1, got {}", options_.batch_size));
    }
    const std::int64_t replicas = options_.num_replicas;
    if (replicas < 1) {
        throw Error(fmt::format("DataLoader: num_replicas must be ≥ 1, got {}", replicas));
    }
    if (options_.rank < 0 || options_.rank >= replicas) {
        throw Error(fmt::format("DataLoader: rank {} is not in [0, num_replicas) = [0, {})",
                                options_.rank, replicas));
    }
    if (replicas > 1 && options_.batch_size < replicas) {
        throw Error(fmt::format(
            "DataLoader: batch_size {} is smaller than num_replicas {}: some rank would get an "
            "empty shard",
            options_.batch_size, replicas));
    }
    if (replicas > 1 && options_.shuffle && !options_.seed) {
        throw Error(fmt::format(
            "DataLoader: shuffling over num_replicas {} needs a seed: every rank must draw the "
            "same order, so the loader needs its own seed",
            replicas));
    }
    if (options_.seed) generator_.emplace(*options_.seed);
    order_ = arange(0, static_cast<double>(rows()), 1.0, {.dtype = Dtype::int64});
}

std::int64_t DataLoader::batches() const {
    const std::int64_t full = rows() / options_.batch_size;
    const std::int64_t rest = rows() % options_.batch_size;
    // a final smaller batch counts unless drop_last, or unless it has a row for every replica
    const bool partial = rest > 0 && !options_.drop_last && rest >= options_.num_replicas;
    return partial ? full + 1 : full;
}

DataLoader::Iterator DataLoader::begin() {
    if (resume_) {  // a restored state: the rest of its epoch first
        resume_ = false;
        if (next_batch_ < batches()) return Iterator(this, next_batch_, order_, epochs_);
    }
    ++epochs_;
    if (options_.shuffle) {
        // Fisher–Yates with the loader's own generator, or the global one
        Generator& gen = generator_ ? *generator_ : global_generator();
        std::vector<std::int64_t> order(static_cast<std::size_t>(rows()));
        std::iota(order.begin(), order.end(), 0);
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.below(i)]);
        order_ = int_tensor(order, {rows()});  // a new tensor: earlier passes keep theirs
    }
    next_batch_ = 0;
    return Iterator(this, 0, order_, epochs_);
}

std::string DataLoader::config() const {
    return describe("DataLoader", {{"rows", rows()},
                                   {"batch_size", options_.batch_size},
                                   {"shuffle", options_.shuffle},
                                   {"drop_last", options_.drop_last},
                                   {"generator", generator_ ? "own" : "global"}});
}

StateDict DataLoader::state_dict() const {
    StateDict out{{"epoch", int_tensor({epochs_}, {})},
                  {"next_batch", int_tensor({next_batch_}, {})},
                  {"order", order_.clone()}};
    out.texts["config"] = config();
    if (generator_) out.add_part("generator", generator_->state_dict());
    return out;
}

StagedLoad DataLoader::stage_load(const StateDict& state) {
    StateReader in(state, "DataLoader.load_state_dict");
    in.expect_config(config());
    const std::int64_t epochs = in.count("epoch");
    const std::int64_t next = in.count("next_batch", 0, batches());
    const auto not_permutation = [&](const std::string& what) {
        return Error(fmt::format("{}: 'order' must be a permutation of the {} rows: {}", in.op(),
                                 rows(), what));
    };
    Tensor order;
    try {
        order = in.ints("order", {rows()}, 0, rows() - 1);
    } catch (const Error& e) {
        throw not_permutation(e.what());
    }
    std::vector<bool> seen(static_cast<std::size_t>(rows()), false);
    for (const std::int64_t row : order.to_int_vector()) {
        if (seen[static_cast<std::size_t>(row)]) {
            throw not_permutation(fmt::format("it holds row {} twice", row));
        }
        seen[static_cast<std::size_t>(row)] = true;
    }
    StagedLoad generator;
    if (generator_) generator = generator_->stage_load(in.part("generator"));
    in.reject_unread();
    return
        [this, epochs, next, order = std::move(order), generator = std::move(generator)]() mutable {
            generator.apply();
            order_ = std::move(order);
            epochs_ = epochs;
            next_batch_ = next;
            resume_ = epochs > 0;  // before any epoch there is nothing to continue
        };
}

DataLoader::Iterator::Iterator(DataLoader* loader, std::int64_t batch, Tensor order,
                               std::int64_t epoch)
    : loader_(loader), batch_(batch), order_(std::move(order)), epoch_(epoch) {
    load();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
    ++batch_;
    load();
    return *this;
}

void DataLoader::Iterator::load() {
    if (batch_ >= loader_->batches()) return;
    if (epoch_ == loader_->epochs_) loader_->next_batch_ = batch_ + 1;  // the latest epoch's pass
    const DataLoaderOptions& options = loader_->options_;
    // global batch b: positions [b·batch_size, b·batch_size + n) of the order, n ≤ batch_size
    const std::int64_t first = batch_ * options.batch_size;  // < rows(): no overflow
    const std::int64_t n = std::min(options.batch_size, loader_->rows() - first);
    // shard r of R: ⌊n/R⌋ rows plus one if r < n mod R, the shards in rank order
    const std::int64_t share = n / options.num_replicas, extra = n % options.num_replicas;
    const std::int64_t begin = first + options.rank * share + std::min(options.rank, extra);
    const std::int64_t end = begin + share + (options.rank < extra ? 1 : 0);
    const NoGradGuard no_grad;
    const Tensor rows = order_.slice(0, begin, end);
    current_ = {.x = loader_->features_.index_select(0, rows),
                .y = loader_->targets_.index_select(0, rows),
                .indices = rows,
                .global_rows = n};
}

}  // namespace descent::data
