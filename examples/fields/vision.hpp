#pragma once
// The vision experiment: a small CNN on a Fashion-MNIST subset (Xiao, Rasul & Vollgraf 2017),
// trained by SGD momentum with L2, Adam with L2, AdamW, SGDW and SWATS — the lecture's
// SGD-momentum row, with the fixes the literature proposes for Adam's generalization
// (decoupled decay: Loshchilov & Hutter 2019; switching to SGD: Keskar & Socher 2017).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fields/protocol.hpp"

namespace fields {

struct VisionProtocol {
    std::int64_t train_images = 0;     ///< the first images of the training split
    std::int64_t held_out_images = 0;  ///< the next ones: the fold that chooses the rate
    std::int64_t test_images = 0;      ///< the first images of the test split
    std::int64_t epochs = 0, batch = 0;
    std::vector<double> sgd_grid{}, adam_grid{};  ///< the SGD family's rates, the Adam family's
    std::uint64_t tuning_seed = 0;
    std::vector<std::uint64_t> seeds{};
};
VisionProtocol vision_protocol(Scale scale);

struct VisionRow {
    std::string name;  ///< the optimizer's name in support/choices.hpp
    std::string label;
    double weight_decay = 0.0;
    std::vector<double> grid{};
    double lr = 0.0;  ///< the grid's rate with the lowest final training loss on the held-out fold
    std::vector<double> train_loss{}, test_accuracy{};  ///< per seed, on the training fold
};

struct VisionResult {
    VisionProtocol protocol;
    std::vector<VisionRow> rows;
};

std::int64_t vision_runs(const VisionProtocol& protocol);
VisionResult run_vision(const VisionProtocol& protocol, Runs* runs = nullptr);
/// Rates, final training loss and test accuracy (mean ± sd), then the seed-level win rate of
/// each pair on test accuracy.
std::string vision_table(const VisionResult& result);
/// Test accuracy per seed and optimizer.
void draw_vision(const VisionResult& result, const std::filesystem::path& png);

}  // namespace fields
