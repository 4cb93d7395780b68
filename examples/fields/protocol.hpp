#pragma once
// What every experiment of optimizer_fields shares: the size of the run (the full protocol or
// the CI-sized one), the summary of a measure over seeds (mean ± sample sd, the seed-level win
// rate), one progress bar over all the runs, and the output directory's files. The protocols
// themselves (grids, seeds, budgets) are constants in each experiment's file.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/progress.hpp"  // stdout_is_terminal

namespace fields {

/// The full protocol, or the CI-sized one that runs in seconds.
enum class Scale { full, quick };

/// Mean and sample standard deviation (n − 1 in the denominator; 0 for one value).
struct Summary {
    double mean = 0.0, sd = 0.0;
    std::size_t n = 0;
};
Summary summarize(const std::vector<double>& values);

/// "0.123 ± 0.004" with `digits` decimals.
std::string format_pm(const Summary& s, int digits);

/// The fraction of seeds on which a beat b (a[i] > b[i]; a tie counts one half): the
/// seed-level win rate of a over b, paired by seed.
double win_rate(const std::vector<double>& a, const std::vector<double>& b);

/// One progress bar over every training run of the program (a run: one optimizer, one learning
/// rate, one seed), "theory [=====>     ] 12/80 runs  0:41 elapsed  1:02 left", redrawn in
/// place on a terminal and silent otherwise. The driver adds every experiment's runs first.
class Runs {
  public:
    explicit Runs(bool interactive = support::stdout_is_terminal());
    void add(std::int64_t runs) { total_ += runs; }
    /// One more run finished; `label` names the experiment under way.
    void done(const std::string& label);
    /// Clears the bar.
    void finish();
    /// Seconds since construction.
    double elapsed() const;

  private:
    bool interactive_;
    std::int64_t total_ = 0, done_ = 0;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Writes `text` to dir/name (an Error naming the path if it cannot); returns the path.
std::filesystem::path write_file(const std::filesystem::path& dir, const std::string& name,
                                 const std::string& text);

}  // namespace fields
