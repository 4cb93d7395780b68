#pragma once
// Seeded train/validation/test splits: row indices drawn from a generator of their own (the
// global stream is untouched), optionally stratified so that every class keeps its share in
// each part; or the tensors themselves.
//
//   auto parts = descent::data::train_val_test_split(x, y, {.validation = 0.1, .test = 0.2,
//                                                        .stratify = true, .seed = 7});

#include <cstdint>

#include "descent/tensor.hpp"

namespace descent::data {

struct SplitOptions {
    double validation = 0.0;  ///< the share of rows in the validation part, in [0, 1)
    double test = 0.2;        ///< the share in the test part; the rest is training
    bool stratify = false;    ///< keep each class's share in every part (needs labels)
    std::uint64_t seed = 0;
};

/// int64 row indices of each part, ascending. A part of share s holds ⌈s·n⌉ rows (stratified:
/// each class's rows divided by the largest remainders, so the totals are the same).
struct SplitIndices {
    Tensor train, validation, test;
};

/// A random split of `rows` rows.
SplitIndices split_indices(std::int64_t rows, SplitOptions options = {});
/// A split of the rows of int64 labels [N]; stratified when options.stratify.
SplitIndices split_indices(const Tensor& labels, SplitOptions options = {});

struct DataSplit {
    Tensor x_train, y_train, x_validation, y_validation, x_test, y_test;
};
/// The rows of x and y in each part (y: the labels when stratifying).
DataSplit train_val_test_split(const Tensor& x, const Tensor& y, SplitOptions options = {});

}  // namespace descent::data
