#pragma once
// The reinforcement-learning experiment: REINFORCE (Williams 1992) with a mean-return baseline
// on the cart-pole (fields/cartpole.hpp), a small policy MLP trained by Adam and by SGD with
// momentum, each at the best rate of its grid; return curves over seeds.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fields/protocol.hpp"

namespace fields {

struct RlProtocol {
    std::int64_t updates = 0;       ///< policy-gradient steps
    std::int64_t episodes = 0;      ///< episodes per step
    std::int64_t hidden = 0;        ///< the policy's hidden width
    double gamma = 0.0;             ///< discount of the returns-to-go
    std::int64_t final_window = 0;  ///< the last updates whose episodes make the final return
    std::vector<double> adam_grid{}, sgdm_grid{};
    std::vector<std::uint64_t> tuning_seeds{}, seeds{};
};
RlProtocol rl_protocol(Scale scale);

struct RlRow {
    std::string name;
    double lr = 0.0;
    std::vector<double> final_return{};  ///< per seed, mean return over the final window
    std::vector<double> solved_at{};     ///< per seed, first update averaging ≥ 475 (0: never)
    std::vector<std::vector<double>> curves{};  ///< per seed, mean return of each update
};

struct RlResult {
    RlProtocol protocol;
    std::vector<RlRow> rows;  ///< Adam, SGD momentum
};

std::int64_t rl_runs(const RlProtocol& protocol);
RlResult run_rl(const RlProtocol& protocol, Runs* runs = nullptr);
std::string rl_table(const RlResult& result);
/// Return against update: each seed thin, the mean over seeds thick, one panel per optimizer.
void draw_rl(const RlResult& result, const std::filesystem::path& png);

}  // namespace fields
