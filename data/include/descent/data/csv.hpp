#pragma once
// Reading a table of numbers from a CSV file into float features and a target column: int64
// class labels (integers, or names mapped to indices in order of first appearance) or float
// values. A malformed file — a missing or non-numeric value, a row of another length, a
// fractional class label — is a FormatError naming the file, the line and the column.
//
//   auto table = descent::data::read_csv("data/iris.csv");   // header detected, last column target
//   // table.features: [150, 4] float32, table.targets: [150] int64

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::data {

enum class TargetKind { classes, values, none };

struct CsvOptions {
    char delimiter = ',';
    /// Lines skipped before anything else (a preamble), blank or not.
    std::int64_t skip_lines = 0;
    /// Whether the first line is a header; unset: it is when one of its fields is not a number.
    std::optional<bool> header{};
    /// The target's column; negative counts from the end (−1: the last).
    std::int64_t target_column = -1;
    /// Class labels (int64), values (the features' dtype), or no target column at all.
    TargetKind target = TargetKind::classes;
    Dtype dtype = Dtype::float32;  ///< of the features (and value targets)
};

struct CsvTable {
    Tensor features;                   ///< [rows, columns − 1] (all columns without a target)
    Tensor targets;                    ///< [rows]; undefined with TargetKind::none
    std::vector<std::string> header;   ///< the header's fields, if it had one
    std::vector<std::string> classes;  ///< class names, where the labels were not numbers
};

CsvTable read_csv(const std::filesystem::path& path, CsvOptions options = {});
/// The same from text in memory; `source` names it in messages.
CsvTable parse_csv(std::string_view text, CsvOptions options = {},
                   std::string_view source = "<memory>");

}  // namespace descent::data
