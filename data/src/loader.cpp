#include "descent/data/loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"

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
        if (next_batch_ < batches()) return Iterator(this, next_batch_);
    }
    ++epochs_;
    if (options_.shuffle) {
        // Fisher–Yates with the loader's own generator, or the global one
        Generator& gen = generator_ ? *generator_ : global_generator();
        std::vector<std::int64_t> order(static_cast<std::size_t>(rows()));
        std::iota(order.begin(), order.end(), 0);
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.below(i)]);
        order_ = int_tensor(order, {rows()});
    }
    return Iterator(this, 0);
}

NamedTensors DataLoader::state_dict() const {
    NamedTensors out = {{"epoch", int_tensor({epochs_}, {})},
                        {"next_batch", int_tensor({next_batch_}, {})},
                        {"order", order_.clone()}};
    if (generator_) {
        for (auto& [name, t] : generator_->state_dict()) out.emplace_back("generator." + name, t);
    }
    return out;
}

void DataLoader::load_state_dict(const NamedTensors& state) {
    constexpr std::string_view op = "DataLoader.load_state_dict";
    std::int64_t epochs = -1, next = -1;
    Tensor order;
    NamedTensors generator;
    for (const auto& [name, t] : state) {
        const bool count = t.defined() && t.dtype() == Dtype::int64 && t.numel() == 1;
        if ((name == "epoch" || name == "next_batch") && !count) {
            throw Error(fmt::format("{}: '{}' must be one int64 count", op, name));
        }
        if (name == "epoch") {
            epochs = check_count(t.item<std::int64_t>(), 0, op, name);
        } else if (name == "next_batch") {
            next = check_count(t.item<std::int64_t>(), 0, op, name);
        } else if (name == "order") {
            order = t;
        } else if (name.starts_with("generator.")) {
            generator.emplace_back(name.substr(10), t);
        } else {
            throw Error(fmt::format("{}: unexpected entry '{}'", op, name));
        }
    }
    if (epochs < 0 || next < 0 || !order.defined()) {
        throw Error(fmt::format("{}: needs 'epoch', 'next_batch' and 'order'", op));
    }
    if (next > batches()) {
        throw Error(fmt::format("{}: next_batch {} of {} batches", op, next, batches()));
    }
    std::vector<std::int64_t> rows_seen;
    if (order.dtype() == Dtype::int64 && order.shape() == Shape{rows()})
        rows_seen = order.to_int_vector();
    std::sort(rows_seen.begin(), rows_seen.end());
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(rows_seen.size()); ++i) {
        if (rows_seen[static_cast<std::size_t>(i)] != i) rows_seen.clear();
    }
    if (static_cast<std::int64_t>(rows_seen.size()) != rows()) {
        throw Error(fmt::format("{}: 'order' must be a permutation of the {} rows", op, rows()));
    }
    if (generator.empty() == generator_.has_value()) {
        throw Error(fmt::format("{}: the state is of a loader {} its own generator", op,
                                generator_ ? "without" : "with"));
    }
    std::optional<Generator> restored = generator_;
    if (restored) restored->load_state_dict(generator);  // checks before anything changes
    generator_ = restored;
    order_ = order.detach().clone();
    epochs_ = epochs;
    next_batch_ = next;
    resume_ = epochs > 0;  // before any epoch there is nothing to continue
}

DataLoader::Iterator::Iterator(DataLoader* loader, std::int64_t batch)
    : loader_(loader), batch_(batch) {
    load();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
    ++batch_;
    load();
    return *this;
}

void DataLoader::Iterator::load() {
    if (batch_ >= loader_->batches()) return;
    loader_->next_batch_ = batch_ + 1;
    const DataLoaderOptions& options = loader_->options_;
    // global batch b: positions [b·batch_size, b·batch_size + n) of the order, n ≤ batch_size
    const std::int64_t first = batch_ * options.batch_size;  // < rows(): no overflow
    const std::int64_t n = std::min(options.batch_size, loader_->rows() - first);
    // shard r of R: ⌊n/R⌋ rows plus one if r < n mod R, the shards in rank order
    const std::int64_t share = n / options.num_replicas, extra = n % options.num_replicas;
    const std::int64_t begin = first + options.rank * share + std::min(options.rank, extra);
    const std::int64_t end = begin + share + (options.rank < extra ? 1 : 0);
    const NoGradGuard no_grad;
    const Tensor rows = loader_->order_.slice(0, begin, end);
    current_ = {.x = loader_->features_.index_select(0, rows),
                .y = loader_->targets_.index_select(0, rows),
                .indices = rows,
                .global_rows = n};
}

}  // namespace descent::data
