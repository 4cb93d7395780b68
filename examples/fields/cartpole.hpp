#pragma once
// The cart-pole of Barto, Sutton & Anderson 1983, as OpenAI Gym's CartPole-v1 simulates it: a
// pole hinged on a cart that a force of ±10 N pushes left or right every 0.02 s (explicit Euler
// steps). An episode ends when the cart leaves |x| ≤ 2.4 or the pole |θ| ≤ 12°, or after 500
// steps; every step, the last included, earns a reward of 1.

#include <array>

#include <descent/random.hpp>

namespace fields {

class CartPole {
  public:
    static constexpr int max_steps = 500;

    /// A new episode: x, ẋ, θ, θ̇ each uniform in [−0.05, 0.05].
    void reset(descent::Generator& gen);
    /// Pushes right (action 1) or left (0) for one step; returns whether the episode is over.
    bool step(int action);
    /// x, ẋ, θ, θ̇.
    const std::array<double, 4>& state() const { return s_; }

  private:
    std::array<double, 4> s_{};
    int steps_ = 0;
};

}  // namespace fields
