#include "descent/distributed/data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/state_reader.hpp"

namespace descent::distributed {
namespace {

/// One line per parameter and buffer: "parameter 0.weight float32 [128,64]".
std::string signature(const NamedTensors& parameters, const NamedTensors& buffers) {
    std::string out;
    for (const auto& [kind, entries] : {std::pair{"parameter", &parameters}, {"buffer", &buffers}})
        for (const auto& [name, t] : *entries)
            out += fmt::format("{} {} {} {}\n", kind, name, dtype_name(t.dtype()),
                               shape_str(t.shape()));
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

/// Names the first entry where `theirs` (rank r's signature) differs from rank 0's.
std::string first_difference(const std::string& ours, const std::string& theirs, int r) {
    const std::vector<std::string> a = lines_of(ours), b = lines_of(theirs);
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
        if (i < a.size() && i < b.size() && a[i] == b[i]) continue;
        return fmt::format("entry {}: rank 0 has {}, rank {} has {}", i,
                           i < a.size() ? "'" + a[i] + "'" : "nothing", r,
                           i < b.size() ? "'" + b[i] + "'" : "nothing");
    }
    return "none";
}

std::size_t bytes_of(const Tensor& t) {
    return static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
}

/// Rank 0's values of every tensor on every rank, packed into one message.
void broadcast_values(Communicator& world, std::vector<Tensor>& tensors) {
    std::size_t total = 0;
    for (const Tensor& t : tensors) total += bytes_of(t);
    if (total == 0) return;
    std::vector<std::byte> packed(total);
    if (world.rank() == 0) {
        std::size_t at = 0;
        for (const Tensor& t : tensors) {
            if (bytes_of(t) > 0) std::memcpy(packed.data() + at, t.raw_data(), bytes_of(t));
            at += bytes_of(t);
        }
    }
    world.broadcast_bytes(packed, 0);
    if (world.rank() == 0) return;
    std::size_t at = 0;
    for (Tensor& t : tensors) {
        if (bytes_of(t) > 0) std::memcpy(t.raw_mutable_data(), packed.data() + at, bytes_of(t));
        at += bytes_of(t);
    }
}

/// The gradients of the parameters of dtype T that some rank has, summed over ranks through one
/// flat buffer in parameter order (zeros for a rank without a gradient), written back in place
/// (a parameter without a gradient gets a new one).
template <class T>
void reduce_flat(Communicator& world, std::vector<Tensor>& parameters,
                 const std::vector<bool>& any_grad, ReduceOrder order, std::vector<T>& flat) {
    std::vector<std::size_t> members;
    std::size_t total = 0;
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        if (any_grad[i] && parameters[i].dtype() == dtype_of<T>()) {
            members.push_back(i);
            total += static_cast<std::size_t>(parameters[i].numel());
        }
    }
    if (members.empty()) return;
    flat.resize(total);
    std::size_t at = 0;
    for (const std::size_t i : members) {
        const Tensor g = parameters[i].grad();
        const auto n = static_cast<std::size_t>(parameters[i].numel());
        if (g.defined())
            std::memcpy(flat.data() + at, g.data<T>(), n * sizeof(T));
        else
            std::fill_n(flat.data() + at, n, T(0));
        at += n;
    }
    world.allreduce_sum(std::span<T>(flat), order);
    at = 0;
    for (const std::size_t i : members) {
        Tensor g = parameters[i].grad();
        if (!g.defined()) {
            g = zeros(parameters[i].shape(), {.dtype = dtype_of<T>()});
            parameters[i].set_grad(g);
        }
        const auto n = static_cast<std::size_t>(parameters[i].numel());
        if (n > 0) std::memcpy(g.mutable_data<T>(), flat.data() + at, n * sizeof(T));
        at += n;
    }
}

}  // namespace

DataParallel::DataParallel(Communicator& world, const nn::Module& model,
                           DataParallelOptions options)
    : world_(world, "DataParallel", "the communicator it was given"), options_(options) {
    if (options_.check_every < 0) {
        throw Error(
            fmt::format("DataParallel: check_every must be ≥ 0, got {}", options_.check_every));
    }
    const NamedTensors parameters = model.named_parameters(), buffers = model.named_buffers();
    const std::string ours = signature(parameters, buffers);
    const std::vector<std::string> all = world.allgather(ours);
    for (int r = 1; r < world.size(); ++r) {
        if (all[static_cast<std::size_t>(r)] != all[0]) {
            throw DistError(
                fmt::format("DataParallel: rank {}'s model differs from rank 0's ({})", r,
                            first_difference(all[0], all[static_cast<std::size_t>(r)], r)));
        }
    }
    for (const auto& [name, t] : parameters) parameters_.push_back(t);
    for (const auto& [name, t] : buffers) buffers_.push_back(t);
    const NoGradGuard no_grad;
    broadcast_values(world, parameters_);
    broadcast_values(world, buffers_);
}

void DataParallel::reduce_gradients() {
    Communicator& world = world_.get();
    if (world.size() == 1) {  // the sum over one rank is its gradient
        ++reductions_;
        return;
    }
    // which parameters some rank has a gradient for: one byte per parameter and rank
    std::vector<std::byte> mine(parameters_.size());
    for (std::size_t i = 0; i < parameters_.size(); ++i)
        mine[i] = std::byte{parameters_[i].grad().defined() ? std::uint8_t{1} : std::uint8_t{0}};
    std::vector<std::byte> everyone(mine.size() * static_cast<std::size_t>(world.size()));
    const std::vector<std::size_t> counts(static_cast<std::size_t>(world.size()), mine.size());
    world.allgather_bytes(mine, everyone, counts);
    std::vector<bool> any_grad(parameters_.size(), false);
    for (std::size_t k = 0; k < everyone.size(); ++k)
        if (everyone[k] != std::byte{0}) any_grad[k % mine.size()] = true;

    const NoGradGuard no_grad;
    reduce_flat<float>(world, parameters_, any_grad, options_.order, flat_float_);
    reduce_flat<double>(world, parameters_, any_grad, options_.order, flat_double_);
    if (options_.broadcast_buffers) broadcast_values(world, buffers_);
    ++reductions_;
    if (options_.check_every > 0 && reductions_ % options_.check_every == 0) check_replicas();
}

std::uint64_t DataParallel::replica_hash() const {
    // FNV-1a over 8-byte words: h ← (h ⊕ word) · 0x100000001b3, then the tail bytes.
    constexpr std::uint64_t prime = 0x100000001b3;
    std::uint64_t h = 0xcbf29ce484222325;
    for (const Tensor& p : parameters_) {
        const auto* bytes = static_cast<const unsigned char*>(p.raw_data());
        const std::size_t n = bytes_of(p);
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            std::uint64_t word;
            std::memcpy(&word, bytes + i, 8);
            h = (h ^ word) * prime;
        }
        for (; i < n; ++i) h = (h ^ bytes[i]) * prime;
    }
    return h;
}

void DataParallel::check_replicas() {
    Communicator& world = world_.get();
    const std::vector<std::uint64_t> hashes = world.allgather(replica_hash());
    for (int r = 1; r < world.size(); ++r) {
        if (hashes[static_cast<std::size_t>(r)] != hashes[0]) {
            throw DistError(fmt::format(
                "DataParallel: after {} gradient reductions rank {}'s parameters differ from "
                "rank 0's (hash {:016x} against {:016x}): the ranks no longer compute the same "
                "update",
                reductions_, r, hashes[static_cast<std::size_t>(r)], hashes[0]));
        }
    }
}

std::string DataParallel::config() const {
    return describe("DataParallel",
                    {{"order", options_.order == ReduceOrder::rank_order ? "rank_order" : "engine"},
                     {"check_every", options_.check_every},
                     {"broadcast_buffers", options_.broadcast_buffers}});
}

StateDict DataParallel::state_dict() const {
    StateDict out{{"reductions", int_tensor({reductions_}, {})}};
    out.texts["config"] = config();
    return out;
}

StagedLoad DataParallel::stage_load(const StateDict& state) {
    StateReader in(state, "DataParallel.load_state_dict");
    in.expect_config(config());
    const std::int64_t reductions = in.count("reductions");
    in.reject_unread();
    return [this, reductions] { reductions_ = reductions; };
}

}  // namespace descent::distributed
