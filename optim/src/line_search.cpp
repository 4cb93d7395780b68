// The strong Wolfe line search (line_search.hpp), step for step as torch 1.13's _strong_wolfe.

#include "line_search.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace descent::optim::detail {

double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds) {
    const double lo = bounds ? bounds->first : std::min(x1, x2);
    const double hi = bounds ? bounds->second : std::max(x1, x2);
    // d₁ = f₁′ + f₂′ − 3(f₁ − f₂)/(x₁ − x₂),  d₂ = √(d₁² − f₁′f₂′)
    const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
    const double d2_square = d1 * d1 - g1 * g2;
    if (!(d2_square >= 0)) return (lo + hi) / 2;
    const double d2 = std::sqrt(d2_square);
    const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                    : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return std::min(std::max(min_pos, lo), hi);
}

namespace {
/// One end of the bracket: a step and f, g, gᵀd there.
struct Point {
    double t, f;
    Eigen::VectorXd g;
    double gtd;
};
}  // namespace

LineSearchResult strong_wolfe(const Directional& phi, double t, const Eigen::VectorXd& d, double f,
                              const Eigen::VectorXd& g, double gtd) {
    constexpr double c1 = 1e-4, c2 = 0.9, tolerance_change = 1e-9;
    constexpr std::int64_t max_ls = 25;
    const double d_norm = d.cwiseAbs().maxCoeff();
    auto [f_new, g_new] = phi(t);
    std::int64_t evaluations = 1;
    double gtd_new = g_new.dot(d);
    Point prev{0, f, g, gtd};
    std::vector<Point> bracket;
    bool done = false;
    std::int64_t ls_iter = 0;
    // bracketing: find an interval holding a point that satisfies the conditions
    while (ls_iter < max_ls) {
        if (f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= prev.f)) {
            bracket = {prev, {t, f_new, g_new, gtd_new}};
            break;
        }
        if (std::abs(gtd_new) <= -c2 * gtd) {
            bracket = {{t, f_new, g_new, gtd_new}};
            done = true;
            break;
        }
        if (gtd_new >= 0) {
            bracket = {prev, {t, f_new, g_new, gtd_new}};
            break;
        }
        const double min_step = t + 0.01 * (t - prev.t), max_step = t * 10;
        const double next = cubic_interpolate(prev.t, prev.f, prev.gtd, t, f_new, gtd_new,
                                              std::pair(min_step, max_step));
        prev = {t, f_new, g_new, gtd_new};
        t = next;
        std::tie(f_new, g_new) = phi(t);
        ++evaluations;
        gtd_new = g_new.dot(d);
        ++ls_iter;
    }
    if (ls_iter == max_ls) bracket = {{0, f, g, gtd}, {t, f_new, g_new, gtd_new}};

    // zoom: shrink the bracket until a point satisfies both conditions
    bool insufficient_progress = false;
    std::size_t low = 0, high = 1;
    if (bracket.size() == 2 && bracket[0].f > bracket[1].f) std::swap(low, high);
    while (!done && ls_iter < max_ls) {
        if (std::abs(bracket[1].t - bracket[0].t) * d_norm < tolerance_change) break;
        t = cubic_interpolate(bracket[0].t, bracket[0].f, bracket[0].gtd, bracket[1].t,
                              bracket[1].f, bracket[1].gtd);
        const double top = std::max(bracket[0].t, bracket[1].t);
        const double bottom = std::min(bracket[0].t, bracket[1].t);
        const double eps = 0.1 * (top - bottom);
        if (std::min(top - t, t - bottom) < eps) {  // too close to an end: move away from it
            if (insufficient_progress || t >= top || t <= bottom) {
                t = std::abs(t - top) < std::abs(t - bottom) ? top - eps : bottom + eps;
                insufficient_progress = false;
            } else {
                insufficient_progress = true;
            }
        } else {
            insufficient_progress = false;
        }
        std::tie(f_new, g_new) = phi(t);
        ++evaluations;
        gtd_new = g_new.dot(d);
        ++ls_iter;
        if (f_new > f + c1 * t * gtd || f_new >= bracket[low].f) {
            bracket[high] = {t, f_new, g_new, gtd_new};
            low = bracket[0].f <= bracket[1].f ? 0 : 1;
            high = 1 - low;
        } else {
            if (std::abs(gtd_new) <= -c2 * gtd) {
                done = true;
            } else if (gtd_new * (bracket[high].t - bracket[low].t) >= 0) {
                bracket[high] = bracket[low];
            }
            bracket[low] = {t, f_new, g_new, gtd_new};
        }
    }
    const Point& best = bracket[bracket.size() == 1 ? 0 : low];
    return {best.f, best.g, best.t, evaluations};
}

}  // namespace descent::optim::detail
