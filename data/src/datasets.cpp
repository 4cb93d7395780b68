// The bundled data sets (datasets.hpp): digits.csv has no header; iris.csv and wine.csv keep
// scikit-learn's first line "rows,features,class names...".

#include "descent/data/datasets.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "descent/data/csv.hpp"
#include "descent/error.hpp"

namespace descent::data {
namespace {

/// A bundled file; with scikit-learn's first line "rows,features,class names..." when
/// `sklearn_layout`, which names the classes.
Dataset load(std::string name, const std::string& file, bool sklearn_layout) {
    const std::filesystem::path path = data_directory() / file;
    CsvTable table = read_csv(path, {.skip_lines = sklearn_layout ? 1 : 0, .header = false});
    Dataset d{std::move(name), std::move(table.features), std::move(table.targets), {}};
    if (sklearn_layout) {  // "rows,features,name,name,..."
        std::ifstream in(path);
        std::string line, field;
        std::getline(in, line);
        std::istringstream fields(line);
        for (int k = 0; std::getline(fields, field, ','); ++k) {
            if (k >= 2) d.class_names.push_back(field);
        }
    }
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
    return load("digits", "digits.csv", false);
}

Dataset iris() {
    return load("iris", "iris.csv", true);
}

Dataset wine() {
    return load("wine", "wine.csv", true);
}

}  // namespace descent::data
