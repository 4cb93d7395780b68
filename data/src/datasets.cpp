// The bundled data sets (datasets.hpp): digits.csv has no header; iris.csv and wine.csv keep
// scikit-learn's first line "rows,features,class names...".

#include "descent/data/datasets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "descent/data/csv.hpp"
#include "descent/error.hpp"

namespace descent::data {
namespace {

/// A bundled file: features, integer labels last, and — in scikit-learn's layout, a first line
/// "rows,features,class names..." that read_csv recognises — the classes' names.
Dataset load(std::string name, const std::string& file) {
    CsvTable table = read_csv(data_directory() / file);
    Dataset d{std::move(name), std::move(table.features), std::move(table.targets),
              std::move(table.classes)};
    if (d.class_names.empty()) {
        const std::vector<std::int64_t> labels = d.labels.to_int_vector();
        const std::int64_t classes =
            labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
        for (std::int64_t c = 0; c < classes; ++c) d.class_names.push_back(std::to_string(c));
    }
    return d;
}

}  // namespace

std::filesystem::path data_directory() {
    if (const char* env = std::getenv("DESCENT_DATA_DIR"); env != nullptr && *env != '\0')
        return env;
    for (const char* dir : {DESCENT_SOURCE_DATA_DIR, DESCENT_INSTALL_DATA_DIR}) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) return dir;
    }
    throw Error(
        fmt::format("datasets: no data directory: set DESCENT_DATA_DIR (looked in {} and {})",
                    DESCENT_SOURCE_DATA_DIR, DESCENT_INSTALL_DATA_DIR));
}

Dataset digits() {
    return load("digits", "digits.csv");
}

Dataset iris() {
    return load("iris", "iris.csv");
}

Dataset wine() {
    return load("wine", "wine.csv");
}

}  // namespace descent::data
