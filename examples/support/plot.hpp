#pragma once
// Figures for the examples, drawn by gnuplot: a grid of panels, each with curves (optionally a
// second y axis) and optionally contour lines of a function on a grid underneath. draw() writes
// a self-contained gnuplot script next to the PNG (rerun it to restyle) and, when gnuplot is
// installed, the PNG itself.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace support {

struct Curve {
    std::string title{};
    std::vector<double> x{}, y{};  ///< non-finite y values leave a gap
    std::string style = "lines";   ///< gnuplot's "with": lines, linespoints, points, steps
};

/// z(x, y) sampled on a grid, drawn as contour lines at the given levels.
struct Contours {
    std::vector<double> xs{}, ys{};
    std::vector<double> z{};  ///< z[j·xs.size() + i] = f(xs[i], ys[j])
    std::vector<double> levels{};
};

/// f on an n × n grid over the ranges, with `count` contour levels spaced geometrically from
/// fmin + lo to fmin + hi (fmin: the function's minimum, so that levels crowd around it).
Contours contour_grid(const std::function<double(double, double)>& f,
                      std::pair<double, double> x_range, std::pair<double, double> y_range,
                      double fmin, double lo, double hi, int count, int n = 121);

struct Panel {
    std::string title{}, xlabel{}, ylabel{};
    std::vector<Curve> curves{};
    std::vector<Curve> right{};  ///< curves on a second y axis (labelled y2label)
    std::string y2label{};
    std::optional<Contours> contours{};
    bool log_x = false, log_y = false;
    std::optional<std::pair<double, double>> x_range{}, y_range{};
    bool equal_axes = false;   ///< one unit is as long on both axes (contour plots)
    bool key_outside = false;  ///< the legend right of the panel, for many curves
    std::string key{};  ///< else where the legend goes (gnuplot's "set key"), e.g. "right center"
};

struct Figure {
    std::string title{};
    std::vector<Panel> panels{};
    int columns = 1;  ///< panels per row
    int width = 1100, height = 650;
};

/// Writes `png` with its extension replaced by .gp and, if gnuplot is found, runs it to make
/// `png`. Says "plot: <png>" on stdout when the PNG was written, and why not on stderr
/// otherwise; returns whether it was.
bool draw(const Figure& figure, const std::filesystem::path& png);

/// Whether the gnuplot program is on the PATH.
bool gnuplot_available();

}  // namespace support
