#pragma once
// Typed reading and writing of state dicts, shared by the optimizers, Lookahead and the
// schedulers. Counts are stored as exact int64 scalars and reals as float64 scalars; the
// reader checks each value once (kind, range, shape) and remembers what it read, so that a
// key nobody asked for — the state of another optimizer — is reported, not ignored.

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "descent/check.hpp"
#include "descent/optim/optimizer.hpp"

namespace descent::optim::detail {

/// A 0-d int64 tensor holding v exactly.
Tensor count_tensor(std::int64_t v);
/// A 0-d float64 tensor holding v.
Tensor real_tensor(double v);

class StateReader {
  public:
    /// `op` names the load in every message ("Adam.load_state_dict").
    StateReader(const StateDict& state, std::string op) : state_(state), op_(std::move(op)) {}

    bool has(std::string_view key) const { return state_.contains(key); }
    /// An int64 scalar ≥ low.
    std::int64_t count(const std::string& key, std::int64_t low = 0);
    /// A floating scalar in `allowed`.
    double real(const std::string& key, Interval allowed = finite());
    /// A floating scalar checked as the hyperparameter `name`.
    double hyperparameter(const std::string& key, std::string_view name);
    /// A copy of a floating tensor of like's shape, converted to like's dtype.
    Tensor tensor_like(const std::string& key, const Tensor& like);
    /// The keys starting with prefix that were not read yet, in order.
    std::vector<std::string> unread(std::string_view prefix) const;
    /// An Error listing every key under these prefixes that was not read.
    void reject_unread(std::initializer_list<std::string_view> prefixes) const;
    const std::string& op() const { return op_; }

  private:
    const Tensor& find(const std::string& key);

    const StateDict& state_;
    std::string op_;
    std::set<std::string, std::less<>> read_;
};

}  // namespace descent::optim::detail
