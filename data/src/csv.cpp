// CSV tables of numbers (csv.hpp): lines ended by \n, \r\n or a lone \r, a UTF-8 byte-order
// mark ignored, fields split by the delimiter (a field in double quotes may hold it, "" is a
// quote), spaces around fields ignored, blank lines skipped, numbers parsed by std::from_chars
// (finite only, one optional sign).

#include "descent/data/csv.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "descent/check.hpp"
#include "descent/error.hpp"
#include "posix_file.hpp"

namespace descent::data {
namespace {

struct Row {
    std::int64_t line;  // 1-based, for messages
    std::vector<std::string> fields;
};

template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> what, Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::vector<std::string> split_fields(std::string_view line, char delimiter,
                                      std::string_view source, std::int64_t number) {
    std::vector<std::string> fields;
    std::size_t i = 0;
    for (;;) {
        std::string field;
        const std::size_t start = i;
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i < line.size() && line[i] == '"') {  // quoted: up to the closing quote
            ++i;
            for (;;) {
                if (i >= line.size()) fail(source, "line {}: a quote is not closed", number);
                if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                    field += '"';
                    i += 2;
                } else if (line[i] == '"') {
                    ++i;
                    break;
                } else {
                    field += line[i++];
                }
            }
            while (i < line.size() && line[i] != delimiter) {
                if (line[i] != ' ' && line[i] != '\t') {
                    fail(source, "line {}: text after the closing quote of field {}", number,
                         fields.size() + 1);
                }
                ++i;
            }
        } else {
            const std::size_t end = line.find(delimiter, i);
            field = trim(line.substr(start, end == std::string_view::npos ? end : end - start));
            i = end == std::string_view::npos ? line.size() : end;
        }
        fields.push_back(std::move(field));
        if (i >= line.size()) return fields;
        ++i;  // past the delimiter
    }
}

std::vector<Row> split_rows(std::string_view text, char delimiter, std::int64_t skip,
                            std::string_view source) {
    constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
    if (text.starts_with(kByteOrderMark)) text.remove_prefix(kByteOrderMark.size());
    std::vector<Row> rows;
    std::int64_t number = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find_first_of("\r\n", at);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(at, end - at);
        at = end + 1;
        if (end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n') ++at;  // \r\n
        ++number;
        if (number > skip && !trim(line).empty()) {
            rows.push_back({number, split_fields(line, delimiter, source, number)});
        }
    }
    return rows;
}

/// The field as a finite number, if it is one (one optional sign: "+-2" is none).
std::optional<double> number_of(std::string_view field) {
    if (field.size() > 1 && field.front() == '+' && field[1] != '-' && field[1] != '+') {
        field.remove_prefix(1);
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size()) return {};
    if (!std::isfinite(value)) return {};
    return value;
}

/// "column 3 (petal_width)" or "column 3".
std::string column_name(std::size_t c, const std::vector<std::string>& header) {
    if (c < header.size() && !header[c].empty())
        return fmt::format("column {} ({})", c + 1, header[c]);
    return fmt::format("column {}", c + 1);
}

double parse_value(const Row& row, std::size_t c, const std::vector<std::string>& header,
                   std::string_view source) {
    const std::string& field = row.fields[c];
    if (field.empty()) {
        fail(source, "line {}, {}: missing value (fill it in: missing values are not read)",
             row.line, column_name(c, header));
    }
    const auto value = number_of(field);
    if (!value) {
        fail(source,
             "line {}, {}: '{}' is not a finite number (if it names a class, make this the "
             "target column: .target_column)",
             row.line, column_name(c, header),
             field.size() > 40 ? field.substr(0, 40) + "..." : field);
    }
    return *value;
}

/// The value as the features' dtype takes it exactly, or a FormatError naming the option.
void check_representable(double v, Dtype dtype, const Row& row, std::size_t c,
                         const std::vector<std::string>& header, std::string_view source) {
    switch (dtype) {
        case Dtype::float32:
            if (std::abs(v) > std::numeric_limits<float>::max()) {
                fail(source, "line {}, {}: {} is beyond float32 (read it as .dtype = float64)",
                     row.line, column_name(c, header), row.fields[c]);
            }
            return;
        case Dtype::float64:
            return;
        case Dtype::int64:
            if (v != std::trunc(v) || !(std::abs(v) < 0x1p63)) {
                fail(source, "line {}, {}: {} is not an int64 (read it as .dtype = float32)",
                     row.line, column_name(c, header), row.fields[c]);
            }
            return;
        case Dtype::boolean:
            if (v != 0 && v != 1) {
                fail(source, "line {}, {}: {} is not a bool, 0 or 1 (read it as .dtype = float32)",
                     row.line, column_name(c, header), row.fields[c]);
            }
            return;
    }
}

/// Whether the first row is a header: a field of it that is no number where the row below has
/// a number (a missing value is no sign of one, nor a class name over class names).
bool looks_like_header(const std::vector<Row>& rows) {
    const Row& first = rows.front();
    for (std::size_t c = 0; c < first.fields.size(); ++c) {
        if (first.fields[c].empty() || number_of(first.fields[c])) continue;
        if (rows.size() == 1) return true;
        const Row& second = rows[1];
        if (c < second.fields.size() && number_of(second.fields[c])) return true;
        if (c >= second.fields.size()) return true;
    }
    return false;
}

/// scikit-learn's layout: a first line "rows,features,class name,..." over `rows` lines of
/// `features` values and an integer label last. Its class names (no numbers among them), if the
/// rows fit it.
std::optional<std::vector<std::string>> sklearn_classes(const std::vector<Row>& rows) {
    const std::vector<std::string>& first = rows.front().fields;
    if (first.size() < 2) return {};
    const auto count = number_of(first[0]), features = number_of(first[1]);
    if (!count || !features || *count != static_cast<double>(rows.size() - 1)) return {};
    for (std::size_t r = 1; r < rows.size(); ++r) {
        if (static_cast<double>(rows[r].fields.size()) != *features + 1) return {};
    }
    std::vector<std::string> names(first.begin() + 2, first.end());
    if (names.empty()) return {};
    for (const auto& name : names) {
        if (name.empty() || number_of(name)) return {};  // names, not numbers
    }
    return names;
}

}  // namespace

CsvTable parse_csv(std::string_view text, CsvOptions options, std::string_view source) {
    if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
        throw Error(fmt::format("read_csv: '{}' cannot be the delimiter", options.delimiter));
    }
    check_count(options.skip_lines, 0, "read_csv", "skip_lines");
    std::vector<Row> rows = split_rows(text, options.delimiter, options.skip_lines, source);
    if (rows.empty()) fail(source, "no rows (after .skip_lines = {})", options.skip_lines);
    CsvTable table;
    if (!options.header && options.target == TargetKind::classes && options.target_column == -1) {
        if (auto names = sklearn_classes(rows)) {  // "rows,features,class names"
            table.classes = std::move(*names);
            rows.erase(rows.begin());
        }
    }
    const bool has_header =
        table.classes.empty() && options.header.value_or(looks_like_header(rows));
    if (has_header) {
        table.header = rows.front().fields;
        rows.erase(rows.begin());
    }
    const std::size_t columns = has_header     ? table.header.size()
                                : rows.empty() ? 0
                                               : rows.front().fields.size();
    for (const Row& row : rows) {
        if (row.fields.size() == columns) continue;
        const char* hint = row.fields.size() == 1          ? " (another delimiter? .delimiter)"
                           : row.line == rows.front().line ? ""
                           : has_header
                               ? " (is line 1 data? .header = false; a preamble? .skip_lines)"
                               : " (a preamble? .skip_lines)";
        fail(source, "line {} has {} fields, {} expected{}", row.line, row.fields.size(), columns,
             hint);
    }
    const bool with_target = options.target != TargetKind::none;
    const auto width = static_cast<std::int64_t>(columns);
    std::int64_t target =
        options.target_column < 0 ? options.target_column + width : options.target_column;
    if (with_target && (target < 0 || target >= width)) {
        throw IndexError(fmt::format("read_csv: target column {} out of range for {} columns in {}",
                                     options.target_column, columns, source));
    }
    if (!with_target) target = -1;

    const auto n = static_cast<std::int64_t>(rows.size());
    const std::int64_t features = width - (with_target ? 1 : 0);
    std::vector<double> x;
    x.reserve(static_cast<std::size_t>(n * features));
    for (const Row& row : rows) {
        for (std::size_t c = 0; c < columns; ++c) {
            if (static_cast<std::int64_t>(c) == target) continue;
            x.push_back(parse_value(row, c, table.header, source));
            check_representable(x.back(), options.dtype, row, c, table.header, source);
        }
    }
    table.features = tensor(x, {n, features}, {.dtype = options.dtype});
    if (!with_target) return table;

    const auto t = static_cast<std::size_t>(target);
    if (options.target == TargetKind::values) {
        std::vector<double> y;
        for (const Row& row : rows) {
            y.push_back(parse_value(row, t, table.header, source));
            check_representable(y.back(), options.dtype, row, t, table.header, source);
        }
        table.targets = tensor(y, {n}, {.dtype = options.dtype});
        return table;
    }
    const Row* numeric = nullptr;  // a row whose label is a number, and one whose is not
    const Row* named = nullptr;
    for (const Row& row : rows) {
        (number_of(row.fields[t]) ? numeric : named) = &row;
    }
    if (numeric && named) {
        fail(source,
             "line {}, {}: class '{}' among numeric labels (line {}: '{}'): labels are all "
             "integers or all names; a missing label is not read",
             named->line, column_name(t, table.header), named->fields[t], numeric->line,
             numeric->fields[t]);
    }
    std::vector<std::int64_t> labels;
    if (!named) {
        for (const Row& row : rows) {
            const double v = *number_of(row.fields[t]);
            if (v != std::trunc(v) || !(std::abs(v) < 0x1p62)) {
                fail(source,
                     "line {}, {}: class label '{}' is not an integer (a value to regress? "
                     ".target = TargetKind::values)",
                     row.line, column_name(t, table.header), row.fields[t]);
            }
            labels.push_back(static_cast<std::int64_t>(v));
        }
    } else {  // class names, numbered in order of first appearance
        if (!table.classes.empty()) {
            fail(source, "line {}, {}: class '{}': scikit-learn's layout has integer labels",
                 named->line, column_name(t, table.header), named->fields[t]);
        }
        std::map<std::string, std::int64_t> index;
        for (const Row& row : rows) {
            const std::string& name = row.fields[t];
            if (name.empty())
                fail(source, "line {}, {}: missing class", row.line, column_name(t, table.header));
            auto [it, fresh] =
                index.try_emplace(name, static_cast<std::int64_t>(table.classes.size()));
            if (fresh) table.classes.push_back(name);
            labels.push_back(it->second);
        }
    }
    table.targets = int_tensor(labels, {n});
    return table;
}

CsvTable read_csv(const std::filesystem::path& path, CsvOptions options) {
    const std::string source = nn::printable_path(path);
    return parse_csv(nn::read_regular_file(path, source), options, source);
}

}  // namespace descent::data
