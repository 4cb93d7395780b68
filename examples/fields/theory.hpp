#pragma once
// The theory experiment: Wilson, Roelofs, Stern, Srebro & Recht 2017, "The Marginal Value of
// Adaptive Gradient Methods in Machine Learning", §3.3 — a linearly separable least-squares
// problem with more features than samples where gradient descent, SGD and SGD with momentum
// (started from zero, they stay in the row space of X and find the minimum-norm solution)
// classify fresh samples perfectly, while AdaGrad, RMSProp and Adam converge to
// w ∝ sign(Xᵀy) and call every fresh sample positive: test error 1 − p, close to 1/2.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fields/protocol.hpp"

namespace fields {

struct TheoryProtocol {
    std::int64_t train_samples = 0;      ///< n; the features number d = 3 + 5n > n
    std::int64_t test_samples = 0;       ///< fresh samples for the test error
    double p = 0.0;                      ///< P(y = +1) > 1/2
    std::int64_t full_batch_steps = 0;   ///< GD, AdaGrad, RMSProp, Adam
    std::int64_t sgd_epochs = 0;         ///< SGD and SGD momentum, one sample per update
    std::vector<double> lr_grid{};       ///< every method's candidates
    std::uint64_t tuning_seed = 0;       ///< the data set the learning rate is chosen on
    std::vector<std::uint64_t> seeds{};  ///< the data sets the chosen rate is measured on
};
TheoryProtocol theory_protocol(Scale scale);

/// One method: its rate and, per seed, the measures at the end of training.
struct TheoryRow {
    std::string name;
    bool adaptive = false;
    double lr = 0.0;                   ///< chosen on the tuning seed by final training loss
    std::vector<double> train_loss{};  ///< (1/n)·‖Xw − y‖²
    std::vector<double> test_error{};  ///< on fresh samples
    std::vector<double> cosine{};      ///< cos(w, sign(Xᵀy))
    /// The mean over seeds after each recorded number of passes over the training set.
    std::vector<double> passes{}, curve_loss{}, curve_error{}, curve_cosine{};
};

struct TheoryResult {
    TheoryProtocol protocol;
    std::vector<TheoryRow> rows;      ///< GD, SGD, SGD momentum, AdaGrad, RMSProp, Adam
    std::vector<double> negatives{};  ///< per seed, the test samples' fraction with y = −1
};

/// How many training runs run_theory makes (for the progress bar).
std::int64_t theory_runs(const TheoryProtocol& protocol);
TheoryResult run_theory(const TheoryProtocol& protocol, Runs* runs = nullptr);

/// The table, one row per method: rate, training loss, test error, cosine (mean ± sd).
std::string theory_table(const TheoryResult& result);
/// Training loss, test error and cosine against passes over the data, one curve per method.
void draw_theory(const TheoryResult& result, const std::filesystem::path& png);

}  // namespace fields
