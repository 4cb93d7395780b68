// The cart-pole's equations of motion (Barto, Sutton & Anderson 1983; Florian 2007 corrects
// their friction terms, which Gym and this file leave out), with Gym CartPole-v1's constants.

#include "fields/cartpole.hpp"

#include <cmath>
#include <numbers>

namespace fields {

namespace {
constexpr double gravity = 9.8, mass_cart = 1.0, mass_pole = 0.1;
constexpr double total_mass = mass_cart + mass_pole;
constexpr double half_length = 0.5;  // Gym's "length": half the pole's
constexpr double pole_moment = mass_pole * half_length;
constexpr double force_mag = 10.0, tau = 0.02;  // N, s
constexpr double x_limit = 2.4, theta_limit = 12 * 2 * std::numbers::pi / 360;
}  // namespace

void CartPole::reset(descent::Generator& gen) {
    for (double& v : s_) v = -0.05 + 0.1 * gen.uniform();
    steps_ = 0;
}

bool CartPole::step(int action) {
    auto& [x, x_dot, theta, theta_dot] = s_;
    const double force = action == 1 ? force_mag : -force_mag;
    const double cos_t = std::cos(theta), sin_t = std::sin(theta);
    // temp = (F + m_p·l·θ̇²·sin θ) / (m_c + m_p)
    // θ̈ = (g·sin θ − cos θ·temp) / (l·(4/3 − m_p·cos²θ / (m_c + m_p)))
    // ẍ = temp − m_p·l·θ̈·cos θ / (m_c + m_p)
    const double temp = (force + pole_moment * theta_dot * theta_dot * sin_t) / total_mass;
    const double theta_acc = (gravity * sin_t - cos_t * temp) /
                             (half_length * (4.0 / 3.0 - mass_pole * cos_t * cos_t / total_mass));
    const double x_acc = temp - pole_moment * theta_acc * cos_t / total_mass;
    x += tau * x_dot;  // Euler: positions with the old velocities, then the velocities
    x_dot += tau * x_acc;
    theta += tau * theta_dot;
    theta_dot += tau * theta_acc;
    ++steps_;
    return std::abs(x) > x_limit || std::abs(theta) > theta_limit || steps_ >= max_steps;
}

}  // namespace fields
