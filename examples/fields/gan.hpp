#pragma once
// The GAN experiment: the ring of 8 Gaussians of Metz, Poole, Pfau & Sohl-Dickstein 2017
// ("Unrolled Generative Adversarial Networks", §3.1: radius 2, sd 0.02), learned by an MLP
// generator against an MLP discriminator (no unrolling), trained by Adam with β₁ = 0.5 (the
// GAN practice the lecture's table stands on) and by SGD with momentum. Mode collapse shows as
// few modes covered; poor samples as few samples near any mode.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "fields/protocol.hpp"

namespace fields {

struct GanProtocol {
    std::int64_t steps = 0;          ///< updates of each network (one discriminator, one generator)
    std::int64_t batch = 0;          ///< real and generated samples per update
    std::int64_t noise = 0;          ///< dimension of the generator's input z ~ N(0, I)
    std::int64_t hidden = 0;         ///< width of the hidden layers
    double critic_rate = 0.0;        ///< the discriminator's rate over the generator's
    std::int64_t measure_every = 0;  ///< updates between measurements
    std::int64_t samples = 0;        ///< generated samples per measurement
    std::int64_t final_measures = 0;  ///< the last measurements the final numbers average
    std::vector<double> adam_grid{}, sgdm_grid{};
    std::uint64_t tuning_seed = 0;
    std::vector<std::uint64_t> seeds{};
};
GanProtocol gan_protocol(Scale scale);

/// One optimizer: its rate and, per seed, the measures at the end and over training.
struct GanRow {
    std::string name;
    double lr = 0.0;
    std::vector<double> modes{};    ///< modes covered at the end, per seed (0–8)
    std::vector<double> quality{};  ///< fraction of high-quality samples at the end, per seed
    // (both averaged over the protocol's final measurements)
    std::vector<double> steps{}, curve_modes{}, curve_quality{};  ///< means over seeds
    /// The first seed's samples at a few points of training (x, y pairs per snapshot).
    std::vector<std::int64_t> snapshot_steps{};
    std::vector<std::vector<double>> snapshot_x{}, snapshot_y{};
};

struct GanResult {
    GanProtocol protocol;
    std::vector<GanRow> rows;  ///< Adam, SGD momentum
};

std::int64_t gan_runs(const GanProtocol& protocol);
GanResult run_gan(const GanProtocol& protocol, Runs* runs = nullptr);
std::string gan_table(const GanResult& result);
/// Samples at the snapshots (a row per optimizer), then modes and quality over training.
void draw_gan(const GanResult& result, const std::filesystem::path& png);

}  // namespace fields
