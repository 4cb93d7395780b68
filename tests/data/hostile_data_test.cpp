// Hostile input, round 2, for the data library: counts and sizes (splits of 0, 1 or a few rows,
// shares that round past the rows, huge labels), metrics that are never silently wrong (a
// binary model's one score per sample, labels out of range, no samples, NaN scores), and loader
// iterators that do not disturb each other.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

#include <limits>
#include <set>

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::set<std::int64_t> rows_of(const dc::Tensor& t) {
    const std::vector<std::int64_t> v = t.to_int_vector();
    return {v.begin(), v.end()};
}
}  // namespace

TEST_CASE("hostile data: splits of 0, 1 and a few rows end, and say which part is empty",
          "[hostile][data][split]") {
    CHECK_THROWS_WITH(data::split_indices(0, {.validation = 0.1, .test = 0.2}),
                      Contains("0 rows leave the training part empty"));
    CHECK_THROWS_WITH(data::split_indices(1, {.validation = 0.1, .test = 0.2}),
                      Contains("training part empty"));
    CHECK_THROWS_WITH(data::split_indices(2, {.validation = 0.1, .test = 0.2}),
                      Contains("2 rows leave the training part empty after 1 test rows"));
    const data::SplitIndices three = data::split_indices(3, {.validation = 0.1, .test = 0.2});
    CHECK(three.train.numel() == 1);
    CHECK(three.validation.numel() == 1);
    CHECK(three.test.numel() == 1);
    // shares whose rounded parts exceed the rows: refused, never written past the end
    CHECK_THROWS_WITH(data::split_indices(3, {.validation = 0.5, .test = 0.49}),
                      Contains("training part empty"));
    const dc::Tensor one_row = dc::int_tensor({4}, {1});
    CHECK_THROWS_AS(data::split_indices(one_row, {.test = 0.2, .stratify = true}), dc::Error);
    CHECK_THROWS_AS(data::train_val_test_split(dc::zeros({1, 2}), one_row), dc::Error);
    CHECK_THROWS_AS(data::split_indices(-1), dc::Error);
    CHECK_THROWS_WITH(data::split_indices(kMax / 2, {.test = 0.2}), Contains("split"));
    // no test part asked for: none made
    const data::SplitIndices all = data::split_indices(1, {.validation = 0, .test = 0});
    CHECK(all.train.numel() == 1);
    CHECK(all.test.numel() == 0);
}

TEST_CASE("hostile data: stratified splits of tiny classes cover every row once",
          "[hostile][data][split]") {
    for (std::int64_t n = 3; n < 12; ++n) {
        std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
        for (std::int64_t i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = i % 3 == 0;
        const data::SplitIndices s = data::split_indices(
            dc::int_tensor(labels, {n}), {.validation = 0.2, .test = 0.3, .stratify = true});
        std::set<std::int64_t> seen;
        for (const dc::Tensor* part : {&s.train, &s.validation, &s.test}) {
            for (const std::int64_t r : rows_of(*part)) CHECK(seen.insert(r).second);
        }
        CHECK(static_cast<std::int64_t>(seen.size()) == n);
        CHECK(s.train.numel() >= 1);
    }
}

TEST_CASE("hostile data: a binary model's one score per sample is thresholded, not argmaxed",
          "[hostile][data][metrics]") {
    const dc::Tensor y = dc::int_tensor({1, 0, 1, 1, 0}, {5});
    // logits [N, 1]: class 1 where the logit is above 0 (the tutorial logistic model)
    const dc::Tensor logits = dc::tensor({2.5, -1.0, 0.3, 4.0, -0.2}, {5, 1});
    CHECK(data::accuracy(logits, y) == 1.0);
    CHECK(data::predicted_classes(logits).to_int_vector() ==
          std::vector<std::int64_t>{1, 0, 1, 1, 0});
    // probabilities [N]: class 1 above 0.5
    const dc::Tensor probabilities = dc::tensor({0.9, 0.1, 0.6, 0.51, 0.5});
    CHECK(data::accuracy(probabilities, y) == 1.0);
    const data::ClassificationReport r = data::classification_report(logits, y);
    CHECK(r.recall.size() == 2);
    CHECK(r.accuracy == 1.0);
    CHECK(data::confusion_matrix(probabilities, y).to_int_vector() ==
          std::vector<std::int64_t>{2, 0, 0, 3});
    // a binary model against labels that are not 0 or 1
    CHECK_THROWS_AS(data::accuracy(logits, dc::int_tensor({2, 0, 1, 1, 0}, {5})), dc::Error);
    CHECK_THROWS_WITH(data::accuracy(dc::tensor({0.3, kNaN}), dc::int_tensor({0, 1}, {2})),
                      Contains("accuracy: the score of sample 1 is NaN"));
}

TEST_CASE("hostile data: metrics of no samples, bad labels or no classes are errors",
          "[hostile][data][metrics]") {
    const dc::Tensor none = dc::int_tensor({}, {0});
    CHECK_THROWS_WITH(data::accuracy(none, none), Contains("accuracy: no samples"));
    CHECK_THROWS_WITH(data::confusion_matrix(none, none), Contains("confusion_matrix: no samples"));
    CHECK_THROWS_AS(data::classification_report(dc::zeros({0, 3}), none), dc::Error);
    CHECK_THROWS_WITH(data::mean_squared_error(dc::zeros({0}), dc::zeros({0})),
                      Contains("mean_squared_error: no values"));
    CHECK_THROWS_AS(data::mean_absolute_error(dc::zeros({0, 2}), dc::zeros({0, 2})), dc::Error);
    CHECK_THROWS_WITH(data::accuracy(dc::zeros({3, 0}), dc::int_tensor({0, 0, 0}, {3})),
                      Contains("accuracy: scores [3,0] have no classes"));
    const dc::Tensor p = dc::int_tensor({0, 1}, {2});
    CHECK_THROWS_WITH(data::accuracy(p, dc::int_tensor({0, -1}, {2})),
                      Contains("accuracy: class -1 out of range"));
    CHECK_THROWS_WITH(data::confusion_matrix(p, dc::int_tensor({0, 5}, {2}), 3),
                      Contains("class 5 out of range for 3 classes"));
    CHECK_THROWS_AS(data::confusion_matrix(p, p, -2), dc::Error);
    // a huge label: the matrix would not fit; refused, never overflowed
    CHECK_THROWS_WITH(data::confusion_matrix(p, dc::int_tensor({0, 10'000'000'000}, {2})),
                      Contains("pass the number of classes"));
    CHECK_THROWS_WITH(data::confusion_matrix(p, dc::int_tensor({0, kMax}, {2})),
                      Contains("out of range"));
    CHECK_THROWS_AS(data::classification_report(p, dc::int_tensor({0, kMax - 1}, {2})), dc::Error);
    CHECK_THROWS_AS(data::accuracy(dc::int_tensor({0, 1, 1}, {3, 1}), p), dc::Error);
}

TEST_CASE(
    "hostile data: a pass over a loader inside its own pass neither reshuffles nor cuts "
    "the outer one",
    "[hostile][data][loader]") {
    const dc::Tensor x = dc::arange(0, 20).reshape({20, 1});
    const dc::Tensor y = dc::arange(0, 20, 1, {.dtype = dc::int64});
    for (const bool own_generator : {true, false}) {
        data::DataLoader loader(
            x, y,
            {.batch_size = 3,
             .shuffle = true,
             .seed = own_generator ? std::optional<std::uint64_t>(4) : std::nullopt});
        std::set<std::int64_t> outer_rows;
        std::int64_t outer_batches = 0, inner_passes = 0;
        for (auto& [xb, yb] : loader) {
            ++outer_batches;
            for (const std::int64_t r : rows_of(yb)) CHECK(outer_rows.insert(r).second);
            if (outer_batches % 3 == 1) {  // a whole pass, as an evaluation inside training
                std::set<std::int64_t> inner_rows;
                for (auto& [xi, yi] : loader) {
                    for (const std::int64_t r : rows_of(yi)) CHECK(inner_rows.insert(r).second);
                }
                CHECK(inner_rows.size() == 20);
                ++inner_passes;
            }
        }
        CHECK(outer_rows.size() == 20);
        CHECK(outer_batches == 7);
        CHECK(loader.epoch() == 1 + inner_passes);
    }
}

TEST_CASE("hostile data: CSV reads exactly what the file says, or says why not",
          "[hostile][data][csv]") {
    const auto error_of = [](std::string_view text, data::CsvOptions options = {}) {
        try {
            data::parse_csv(text, options, "t.csv");
        } catch (const dc::FormatError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    // beyond float32: refused, naming the option that reads it
    CHECK_THAT(error_of("1e39,0\n1,1\n"), Contains("line 1, column 1: 1e39 is beyond float32") &&
                                              Contains(".dtype = float64"));
    CHECK(data::parse_csv("1e39,0\n1,1\n", {.dtype = dc::float64}).features.to_vector()[0] == 1e39);
    // a byte-order mark before a file without a header: the first row is data
    const auto bom = data::parse_csv(
        "\xEF\xBB\xBF"
        "1,2,0\n3,4,1\n");
    CHECK(bom.header.empty());
    CHECK(bom.features.to_vector() == std::vector<double>{1, 2, 3, 4});
    // int64 and bool features take only what they hold exactly
    CHECK_THAT(error_of("1.5,0\n2,1\n", {.dtype = dc::int64}), Contains("1.5 is not an int64"));
    CHECK(data::parse_csv("7,0\n-2,1\n", {.dtype = dc::int64}).features.to_int_vector() ==
          std::vector<std::int64_t>{7, -2});
    CHECK_THAT(error_of("2,0\n1,1\n", {.dtype = dc::boolean}), Contains("2 is not a bool"));
    // one sign only
    CHECK_THAT(error_of("1,0\n+-2,1\n"), Contains("'+-2' is not a finite number"));
    CHECK(data::parse_csv("+2,0\n1,1\n").features.to_vector()[0] == 2);
    // lone carriage returns end lines too (old Mac files), and \r\n counts as one
    CHECK(data::parse_csv("1,2,0\r3,4,1\r").features.shape() == dc::Shape{2, 2});
    CHECK(data::parse_csv("1,2,0\r\n\r\n3,4,1\r\n").features.shape() == dc::Shape{2, 2});
    // a first row with a missing value is data (and its missing value an error), not a header
    CHECK_THAT(error_of("1,,0\n3,4,1\n"), Contains("line 1, column 2: missing value"));
    // one "NA" among numeric labels: an error, not classes renumbered in order of appearance
    CHECK_THAT(error_of("1,3\n2,NA\n3,1\n"),
               Contains("line 2, column 2: class 'NA' among numeric labels"));
    // the hints name the option
    CHECK_THAT(error_of("a,b\n1;2\n"), Contains(".delimiter"));
    CHECK_THAT(error_of("a,b,c\n1,2,3\n4,5\n"), Contains(".skip_lines"));
    CHECK_THAT(error_of("1,2\n3,1.5\n"), Contains("TargetKind::values"));
}

TEST_CASE("hostile data: scikit-learn's layout reads with its class names",
          "[hostile][data][csv]") {
    // breast cancer's shape: "rows,features,names" over rows of 30 values and a label
    std::string text = "3,30,malignant,benign\n";
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 30; ++c) text += std::to_string(r + c) + ",";
        text += std::to_string(r % 2) + "\n";
    }
    const data::CsvTable t = data::parse_csv(text);
    CHECK(t.classes == std::vector<std::string>{"malignant", "benign"});
    CHECK(t.features.shape() == dc::Shape{3, 30});
    CHECK(t.targets.to_int_vector() == std::vector<std::int64_t>{0, 1, 0});
    CHECK(t.header.empty());
    const data::Dataset iris = data::iris();
    CHECK(iris.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(data::read_csv(data::data_directory() / "wine.csv").classes.size() == 3);
}
