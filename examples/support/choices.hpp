#pragma once
// Every optimizer and schedule of descent::optim by a command-line name, with defaults that
// suit the examples' small models, so that a program can offer all of them (train_digits,
// optimizer_race) without a switch of its own.

#include <descent/optim.hpp>

#include <memory>
#include <string>
#include <vector>

namespace support {

struct OptimizerInfo {
    std::string name;         ///< the command-line name
    std::string description;  ///< one line for --help
    double lr;                ///< a default learning rate for a small MLP
    double weight_decay;      ///< the default weight decay (L2 or decoupled, as the optimizer)
};
/// sgd sgdm nag sgdw adagrad rmsprop adam amsgrad adabound amsbound swats radam nadam adamw.
const std::vector<OptimizerInfo>& optimizers();
const OptimizerInfo& optimizer_info(const std::string& name);  ///< throws for unknown names

/// An optimizer and, when asked, the Lookahead around it (which must not outlive it).
struct OptimizerStack {
    std::unique_ptr<descent::optim::Optimizer> inner;
    std::unique_ptr<descent::optim::Lookahead> lookahead;
    descent::optim::Optimizer& get() { return lookahead ? *lookahead : *inner; }
};

/// The named optimizer over two groups: `decay` with weight_decay, `no_decay` (biases, norms)
/// without; momentum-based ones use momentum 0.9.
OptimizerStack make_optimizer(const std::string& name, const descent::optim::DecaySplit& groups,
                              double lr, double weight_decay, bool lookahead);

struct ScheduleInfo {
    std::string name;
    std::string description;
};
/// constant step multistep exponential inverse_sqrt polynomial cosine sgdr linear cyclic
/// cyclic2 cyclic_exp one_cycle plateau.
const std::vector<ScheduleInfo>& schedules();

/// The named schedule for a run of `total` updates with peak learning rate `lr` (cyclic ones
/// cycle between lr/10 and lr), after a linear warm-up over `warmup` updates from lr/10 (0:
/// none). "plateau" is constant here: the caller adds a ReduceLROnPlateau.
descent::optim::Schedule make_schedule(const std::string& name, std::int64_t total, double lr,
                                       std::int64_t warmup);

/// "a, b, c" of the names, for messages.
template <class Info>
std::string names_of(const std::vector<Info>& list) {
    std::string out;
    for (const Info& i : list) {
        if (!out.empty()) out += ", ";
        out += i.name;
    }
    return out;
}

}  // namespace support
