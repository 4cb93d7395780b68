// CSV tables of numbers (csv.hpp): fields split by the delimiter (a field in double quotes may
// hold it, "" is a quote), spaces around fields ignored, blank lines skipped, numbers parsed by
// std::from_chars (finite only).

#include "descent/data/csv.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>

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
    std::vector<Row> rows;
    std::int64_t number = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find('\n', at);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(at, end - at);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        ++number;
        at = end + 1;
        if (number > skip && !trim(line).empty()) {
            rows.push_back({number, split_fields(line, delimiter, source, number)});
        }
    }
    return rows;
}

/// The field as a finite number, if it is one.
std::optional<double> number_of(std::string_view field) {
    if (!field.empty() && field.front() == '+') field.remove_prefix(1);
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
        fail(source, "line {}, {}: missing value", row.line, column_name(c, header));
    }
    const auto value = number_of(field);
    if (!value) {
        fail(source, "line {}, {}: '{}' is not a finite number", row.line, column_name(c, header),
             field.size() > 40 ? field.substr(0, 40) + "..." : field);
    }
    return *value;
}

}  // namespace

CsvTable parse_csv(std::string_view text, CsvOptions options, std::string_view source) {
    if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
        throw Error(fmt::format("read_csv: '{}' cannot be the delimiter", options.delimiter));
    }
    check_count(options.skip_lines, 0, "read_csv", "skip_lines");
    std::vector<Row> rows = split_rows(text, options.delimiter, options.skip_lines, source);
    if (rows.empty()) fail(source, "no rows");
    CsvTable table;
    bool has_header = options.header.value_or(false);
    if (!options.header) {
        for (const auto& field : rows.front().fields) has_header = has_header || !number_of(field);
    }
    if (has_header) {
        table.header = rows.front().fields;
        rows.erase(rows.begin());
    }
    const std::size_t columns = has_header     ? table.header.size()
                                : rows.empty() ? 0
                                               : rows.front().fields.size();
    for (const Row& row : rows) {
        if (row.fields.size() != columns) {
            fail(source, "line {} has {} fields, {} expected", row.line, row.fields.size(),
                 columns);
        }
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
            if (static_cast<std::int64_t>(c) != target)
                x.push_back(parse_value(row, c, table.header, source));
        }
    }
    table.features = tensor(x, {n, features}, {.dtype = options.dtype});
    if (!with_target) return table;

    const auto t = static_cast<std::size_t>(target);
    if (options.target == TargetKind::values) {
        std::vector<double> y;
        for (const Row& row : rows) y.push_back(parse_value(row, t, table.header, source));
        table.targets = tensor(y, {n}, {.dtype = options.dtype});
        return table;
    }
    bool numeric = true;
    for (const Row& row : rows) numeric = numeric && number_of(row.fields[t]).has_value();
    std::vector<std::int64_t> labels;
    if (numeric) {
        for (const Row& row : rows) {
            const double v = *number_of(row.fields[t]);
            if (v != std::trunc(v) || !(std::abs(v) < 0x1p62)) {
                fail(source, "line {}, {}: class label '{}' is not an integer", row.line,
                     column_name(t, table.header), row.fields[t]);
            }
            labels.push_back(static_cast<std::int64_t>(v));
        }
    } else {  // class names, numbered in order of first appearance
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
