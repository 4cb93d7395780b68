#pragma once
// StateReader: the typed reading of a StateDict that every stage_load uses. Each read checks
// one entry completely — there, of the right dtype and shape, every value in its range — and
// returns it; the reader remembers what was read, so that reject_unread() can refuse the
// entries of some other object. Every message names the load ("Adam.load_state_dict") and the
// entry.

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "descent/check.hpp"
#include "descent/state.hpp"

namespace descent {

class StateReader {
  public:
    /// Reads `state`, which must outlive the reader; `op` names the load in every message. Two
    /// entries of one name are an Error.
    StateReader(const StateDict& state, std::string op);

    bool has(std::string_view name) const { return index_.contains(name); }
    /// An int64 scalar in [low, high].
    std::int64_t count(std::string_view name, std::int64_t low = 0,
                       std::int64_t high = std::numeric_limits<std::int64_t>::max());
    /// An int64 scalar 0 or 1.
    bool flag(std::string_view name);
    /// A floating scalar in `allowed` (any finite value by default).
    double real(std::string_view name, Interval allowed = finite());
    /// A copy of a floating tensor of `shape`, converted to `dtype`, every element (after the
    /// conversion) in `allowed`.
    Tensor floats(std::string_view name, const Shape& shape, Dtype dtype,
                  Interval allowed = finite());
    /// A copy of an int64 tensor of `shape`, every element in [low, high].
    Tensor ints(std::string_view name, const Shape& shape, std::int64_t low,
                std::int64_t high = std::numeric_limits<std::int64_t>::max());
    /// A copy of a tensor of any shape and values (data of the user's own), of `dtype` if
    /// given.
    Tensor any(std::string_view name, std::optional<Dtype> dtype = std::nullopt);
    /// The text `name`.
    const std::string& text(std::string_view name) const;
    /// Checks that the object that wrote the state is of the kind and configuration `config`
    /// describes: its text "config" (e.g. "Lookahead(k=5, alpha=0.5)") must be `config`. A
    /// state without texts (a NamedTensors, a file without metadata) is read without the check.
    void expect_config(std::string_view config) const;
    /// The tensors and texts under "prefix." without it, all counted as read: a part that
    /// another object stages.
    StateDict part(std::string_view prefix);
    /// Tensors whose names start with prefix that were not read yet, in order.
    std::vector<std::string> unread(std::string_view prefix = {}) const;
    /// An Error listing every tensor not read.
    void reject_unread() const;
    const std::string& op() const { return op_; }

  private:
    /// The entry `name`, defined, marked read; an Error naming it otherwise.
    const Tensor& find(std::string_view name);

    const StateDict& state_;
    std::string op_;
    std::map<std::string_view, std::size_t, std::less<>> index_;  // name → entry
    std::vector<bool> read_;
};

}  // namespace descent
