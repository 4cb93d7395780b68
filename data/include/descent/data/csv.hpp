#pragma once
// Reading a table of numbers from a CSV file into features and a target column: int64 class
// labels (all integers, or all names mapped to indices in order of first appearance) or values.
// Lines end with \n, \r\n or \r; a UTF-8 byte-order mark is skipped. A file in scikit-learn's
// layout (a first line "rows,features,class names...") reads with its class names. A malformed
// file — a missing or non-numeric value, "+-2", a row of another length, a fractional class
// label, a name among numeric labels, a value the features' dtype cannot hold (1e39 as float32,
// 1.5 as int64) — is a FormatError naming the file, the line, the column and the option that
// would read it.
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
    /// Whether the first line is a header; unset: it is when a field of it is no number where
    /// the line below has a number.
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
