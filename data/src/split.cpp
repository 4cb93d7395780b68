// Seeded, optionally stratified splits (split.hpp).

#include "descent/data/split.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <numeric>
#include <utility>

#include "descent/check.hpp"
#include "descent/grad_mode.hpp"
#include "descent/random.hpp"

namespace descent::data {
namespace {

void check_shares(const SplitOptions& o) {
    check_option(o.validation, {0, 1, false, true}, "split", "validation");
    check_option(o.test, {0, 1, false, true}, "split", "test");
    if (!(o.validation + o.test < 1)) {
        throw Error(fmt::format("split: validation {} and test {} leave no training rows",
                                o.validation, o.test));
    }
}

/// ⌈share·n⌉ (a share that rounds to a hair above an integer does not take one more row);
/// share in [0, 1), so the result is in [0, n].
std::int64_t rows_for(double share, std::int64_t n) {
    const double rows = std::ceil(share * static_cast<double>(n) - 1e-9);
    return std::clamp(static_cast<std::int64_t>(std::max(rows, 0.0)), std::int64_t{0}, n);
}

/// The rows of each part for n rows: every part asked for gets at least one row and training
/// keeps at least one, else an Error saying which part is left empty.
std::pair<std::int64_t, std::int64_t> part_rows(std::int64_t n, const SplitOptions& o) {
    const std::int64_t test = rows_for(o.test, n), validation = rows_for(o.validation, n);
    if (n - test - validation < 1) {
        throw Error(fmt::format(
            "split: {} rows leave the training part empty after {} test rows (test {}) and {} "
            "validation rows (validation {}): use more rows or smaller shares",
            n, test, o.test, validation, o.validation));
    }
    return {test, validation};
}

/// The groups' counts in one part: floor of each group's share, then one more row for the
/// groups with the largest remainders (ties: the earlier group) until the total is reached.
std::vector<std::int64_t> allocate(const std::vector<std::int64_t>& sizes, std::int64_t total,
                                   std::int64_t n) {
    std::vector<std::int64_t> counts(sizes.size());
    if (n == 0 || total == 0) return counts;
    std::vector<std::pair<double, std::size_t>> remainders;
    std::int64_t given = 0;
    for (std::size_t g = 0; g < sizes.size(); ++g) {
        const double exact =
            static_cast<double>(sizes[g]) * static_cast<double>(total) / static_cast<double>(n);
        counts[g] = static_cast<std::int64_t>(std::floor(exact));
        given += counts[g];
        remainders.push_back({exact - static_cast<double>(counts[g]), g});
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (bool progress = true; given < total && progress;) {
        progress = false;
        for (std::size_t k = 0; given < total && k < remainders.size(); ++k) {
            const std::size_t g = remainders[k].second;
            if (counts[g] < sizes[g]) {
                ++counts[g];
                ++given;
                progress = true;
            }
        }
    }
    return counts;
}

Tensor sorted_indices(std::vector<std::int64_t> rows) {
    std::sort(rows.begin(), rows.end());
    return int_tensor(rows, {static_cast<std::int64_t>(rows.size())});
}

/// Splits groups of row indices (each shuffled here) into the three parts.
SplitIndices split_groups(std::vector<std::vector<std::int64_t>> groups, std::int64_t n,
                          const SplitOptions& o) {
    Generator gen(o.seed);
    std::vector<std::int64_t> sizes;
    for (auto& rows : groups) {
        for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[gen.below(i)]);
        sizes.push_back(static_cast<std::int64_t>(rows.size()));
    }
    const auto [test_rows_wanted, validation_rows_wanted] = part_rows(n, o);
    const std::vector<std::int64_t> test = allocate(sizes, test_rows_wanted, n);
    std::vector<std::int64_t> left(sizes.size());
    for (std::size_t g = 0; g < sizes.size(); ++g) left[g] = sizes[g] - test[g];
    const std::vector<std::int64_t> validation =
        allocate(left, validation_rows_wanted,
                 n - std::accumulate(test.begin(), test.end(), std::int64_t{0}));
    std::vector<std::int64_t> train_rows, validation_rows, test_rows;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto& rows = groups[g];
        const auto t = static_cast<std::size_t>(test[g]),
                   v = static_cast<std::size_t>(validation[g]);
        test_rows.insert(test_rows.end(), rows.begin(), rows.begin() + t);
        validation_rows.insert(validation_rows.end(), rows.begin() + t, rows.begin() + t + v);
        train_rows.insert(train_rows.end(), rows.begin() + t + v, rows.end());
    }
    return {sorted_indices(train_rows), sorted_indices(validation_rows), sorted_indices(test_rows)};
}

}  // namespace

SplitIndices split_indices(std::int64_t rows, SplitOptions options) {
    check_shares(options);
    check_count(rows, 0, "split", "rows");
    part_rows(rows, options);  // before anything is allocated
    std::vector<std::int64_t> all;
    try {
        all.resize(static_cast<std::size_t>(rows));
    } catch (const std::exception&) {  // bad_alloc, length_error
        throw Error(fmt::format("split: {} rows do not fit in memory", rows));
    }
    std::iota(all.begin(), all.end(), 0);
    return split_groups({std::move(all)}, rows, options);
}

SplitIndices split_indices(const Tensor& labels, SplitOptions options) {
    check_shares(options);
    if (!labels.defined() || labels.dim() != 1) {
        throw ShapeError("split: labels must be one-dimensional");
    }
    const std::int64_t n = labels.size(0);
    if (!options.stratify) return split_indices(n, options);
    if (labels.dtype() != Dtype::int64) {
        throw DtypeError(fmt::format("split: stratifying needs int64 labels, got {}",
                                     dtype_name(labels.dtype())));
    }
    std::map<std::int64_t, std::vector<std::int64_t>> by_class;
    const std::vector<std::int64_t> values = labels.to_int_vector();
    for (std::int64_t i = 0; i < n; ++i) by_class[values[static_cast<std::size_t>(i)]].push_back(i);
    std::vector<std::vector<std::int64_t>> groups;
    for (auto& [label, rows] : by_class) groups.push_back(std::move(rows));
    return split_groups(std::move(groups), n, options);
}

DataSplit train_val_test_split(const Tensor& x, const Tensor& y, SplitOptions options) {
    if (!x.defined() || !y.defined() || x.dim() < 1 || y.dim() < 1 || x.size(0) != y.size(0)) {
        throw ShapeError("train_val_test_split: x and y need the same number of rows");
    }
    const SplitIndices parts =
        options.stratify ? split_indices(y, options) : split_indices(x.size(0), options);
    const NoGradGuard no_grad;
    auto rows = [](const Tensor& t, const Tensor& index) { return t.index_select(0, index); };
    return {rows(x, parts.train),      rows(y, parts.train), rows(x, parts.validation),
            rows(y, parts.validation), rows(x, parts.test),  rows(y, parts.test)};
}

}  // namespace descent::data
