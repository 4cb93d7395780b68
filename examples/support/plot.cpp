// gnuplot scripts for support::Figure: every data set is an inline data block, contour lines
// are computed by gnuplot itself (splot into a table) before the panels are drawn.

#include "plot.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace support {
namespace {

/// A gnuplot double-quoted string.
std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

/// A POSIX shell single-quoted word.
std::string shell_word(const std::string& s) {
    std::string out = "'";
    for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string number(double v) {
    return std::isfinite(v) ? fmt::format("{}", v) : "NaN";
}

void data_block(std::ostream& out, const std::string& name, const Curve& c) {
    out << '$' << name << " << EOD\n";
    for (std::size_t i = 0; i < c.x.size() && i < c.y.size(); ++i)
        out << number(c.x[i]) << ' ' << number(c.y[i]) << '\n';
    out << "EOD\n";
}

/// The grid as a data block and its contour lines as a table named cont<p>.
void contour_table(std::ostream& out, std::size_t p, const Contours& c) {
    out << "$grid" << p << " << EOD\n";
    for (std::size_t j = 0; j < c.ys.size(); ++j) {
        for (std::size_t i = 0; i < c.xs.size(); ++i)
            out << number(c.xs[i]) << ' ' << number(c.ys[j]) << ' '
                << number(c.z[j * c.xs.size() + i]) << '\n';
        out << '\n';
    }
    out << "EOD\n";
    std::string levels;
    for (const double l : c.levels) {
        if (!levels.empty()) levels += ',';
        levels += number(l);
    }
    out << "set contour base\nunset surface\nset view map\n"
        << "set cntrparam levels discrete " << levels << '\n'
        << "set table $cont" << p << "\nsplot $grid" << p << " using 1:2:3 with lines\n"
        << "unset table\nunset contour\nset surface\n";
}

void panel(std::ostream& out, std::size_t p, const Panel& panel) {
    out << "unset logscale\nunset y2tics\nunset y2label\nset ytics mirror\nset autoscale\n"
        << "set size noratio\nset key default\nset grid\n"
        << "set format x \"%g\"\nset format y \"%g\"\nset format y2 \"%g\"\n";
    out << "set title " << quoted(panel.title) << "\nset xlabel " << quoted(panel.xlabel)
        << "\nset ylabel " << quoted(panel.ylabel) << '\n';
    if (panel.log_x) out << "set logscale x\n";
    if (panel.log_y) out << "set logscale y\n";
    if (panel.x_range)
        out << "set xrange [" << number(panel.x_range->first) << ':'
            << number(panel.x_range->second) << "]\n";
    if (panel.y_range)
        out << "set yrange [" << number(panel.y_range->first) << ':'
            << number(panel.y_range->second) << "]\n";
    if (panel.equal_axes) out << "set size ratio -1\n";
    if (panel.key_outside)
        out << "set key outside right top\n";
    else if (!panel.key.empty())
        out << "set key " << panel.key << '\n';
    if (!panel.right.empty())
        out << "set ytics nomirror\nset y2tics\nset y2label " << quoted(panel.y2label) << '\n';
    std::vector<std::string> items;
    if (panel.contours)
        items.push_back(fmt::format("$cont{} with lines lc rgb \"#b0b0b0\" notitle", p));
    for (std::size_t i = 0; i < panel.curves.size(); ++i)
        items.push_back(fmt::format("$c{}_{} with {} title {}", p, i, panel.curves[i].style,
                                    quoted(panel.curves[i].title)));
    for (std::size_t i = 0; i < panel.right.size(); ++i)
        items.push_back(fmt::format("$r{}_{} axes x1y2 with {} title {}", p, i,
                                    panel.right[i].style, quoted(panel.right[i].title)));
    out << "plot ";
    for (std::size_t i = 0; i < items.size(); ++i) out << (i ? ", \\\n     " : "") << items[i];
    out << '\n';
}

}  // namespace

Contours contour_grid(const std::function<double(double, double)>& f,
                      std::pair<double, double> x_range, std::pair<double, double> y_range,
                      double fmin, double lo, double hi, int count, int n) {
    Contours c;
    const auto at = [n](std::pair<double, double> r, int i) {
        return r.first + (r.second - r.first) * i / (n - 1);
    };
    for (int i = 0; i < n; ++i) c.xs.push_back(at(x_range, i)), c.ys.push_back(at(y_range, i));
    for (const double y : c.ys)
        for (const double x : c.xs) c.z.push_back(f(x, y));
    for (int k = 0; k < count; ++k)
        c.levels.push_back(fmin + lo * std::pow(hi / lo, static_cast<double>(k) / (count - 1)));
    return c;
}

bool gnuplot_available() {
    return std::system("command -v gnuplot > /dev/null 2>&1") == 0;
}

bool draw(const Figure& figure, const std::filesystem::path& png) {
    std::filesystem::path script = png;
    script.replace_extension(".gp");
    std::ostringstream out;
    std::string output;
    for (const char c : png.string()) output += c == '\'' ? std::string("''") : std::string(1, c);
    out << "# " << figure.title << " (written by descent's examples; run: gnuplot "
        << script.filename().string() << ")\n"
        << "set terminal pngcairo size " << figure.width << ',' << figure.height
        << " noenhanced font \",10\"\nset output '" << output << "'\n";
    for (std::size_t p = 0; p < figure.panels.size(); ++p) {
        const Panel& pn = figure.panels[p];
        if (pn.contours) contour_table(out, p, *pn.contours);
        for (std::size_t i = 0; i < pn.curves.size(); ++i)
            data_block(out, fmt::format("c{}_{}", p, i), pn.curves[i]);
        for (std::size_t i = 0; i < pn.right.size(); ++i)
            data_block(out, fmt::format("r{}_{}", p, i), pn.right[i]);
    }
    const std::size_t columns = static_cast<std::size_t>(std::max(1, figure.columns));
    const std::size_t rows = (figure.panels.size() + columns - 1) / columns;
    out << "set multiplot layout " << rows << ',' << columns << " title " << quoted(figure.title)
        << '\n';
    for (std::size_t p = 0; p < figure.panels.size(); ++p) panel(out, p, figure.panels[p]);
    out << "unset multiplot\nset output\n";

    std::ofstream file(script);
    file << out.str();
    file.close();
    if (!file) {
        std::cerr << "plot: cannot write " << script.string() << '\n';
        return false;
    }
    if (!gnuplot_available()) {
        std::cerr << "plot: gnuplot not found (apt-get install gnuplot-nox); wrote "
                  << script.string() << " only\n";
        return false;
    }
    const int status = std::system(("gnuplot " + shell_word(script.string())).c_str());
    if (status != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::cerr << "plot: gnuplot failed on " << script.string() << '\n';
        return false;
    }
    std::cout << "plot: " << png.string() << std::endl;
    return true;
}

}  // namespace support
