// Loading data: CSV tables (header detection, delimiters, class names, every malformed case a
// FormatError naming file, line and column), the bundled data sets, seeded and stratified
// splits, metrics on edge cases, and the Standardizer's saved state.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <filesystem>
#include <fstream>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
using Catch::Contains;

namespace {
std::string format_error(const std::string& text, data::CsvOptions options = {}) {
    try {
        data::parse_csv(text, options, "table.csv");
    } catch (const dc::FormatError& e) {
        return e.what();
    }
    FAIL("expected a FormatError");
    return {};
}
}  // namespace

TEST_CASE("read_csv: numbers, header detected, target last", "[data][csv]") {
    const auto t = data::parse_csv("a,b,label\n1.5,2,0\n-3,4e2,1\n\n5,+6,1\n");
    CHECK(t.header == std::vector<std::string>{"a", "b", "label"});
    CHECK(t.features.shape() == dc::Shape{3, 2});
    CHECK(t.features.dtype() == dc::float32);
    CHECK(t.features.to_vector() == std::vector<double>{1.5, 2, -3, 400, 5, 6});
    CHECK(t.targets.to_int_vector() == std::vector<std::int64_t>{0, 1, 1});
}

TEST_CASE("read_csv: options", "[data][csv]") {
    const auto semi = data::parse_csv("1;2;3\r\n4;5;6\r\n", {.delimiter = ';', .target_column = 0});
    CHECK(semi.header.empty());
    CHECK(semi.features.to_vector() == std::vector<double>{2, 3, 5, 6});
    CHECK(semi.targets.to_int_vector() == std::vector<std::int64_t>{1, 4});
    const auto values = data::parse_csv("x,y\n1,0.5\n2,1.5\n",
                                        {.target = data::TargetKind::values, .dtype = dc::float64});
    CHECK(values.targets.dtype() == dc::float64);
    CHECK(values.targets.to_vector() == std::vector<double>{0.5, 1.5});
    const auto none = data::parse_csv("1,2\n3,4\n", {.target = data::TargetKind::none});
    CHECK(none.features.shape() == dc::Shape{2, 2});
    CHECK_FALSE(none.targets.defined());
    const auto forced = data::parse_csv("1,2\n3,4\n", {.header = true});
    CHECK(forced.header == std::vector<std::string>{"1", "2"});
    CHECK(forced.features.shape() == dc::Shape{1, 1});
}

TEST_CASE("read_csv: class names become indices in order of appearance", "[data][csv]") {
    const auto t = data::parse_csv("f,species\n1,\"setosa\"\n2,virginica\n3,setosa\n");
    CHECK(t.classes == std::vector<std::string>{"setosa", "virginica"});
    CHECK(t.targets.to_int_vector() == std::vector<std::int64_t>{0, 1, 0});
}

TEST_CASE("read_csv: quoted fields", "[data][csv]") {
    const auto t =
        data::parse_csv("\"a,b\",\"say \"\"hi\"\"\"\n1,2\n", {.target = data::TargetKind::none});
    CHECK(t.header == std::vector<std::string>{"a,b", "say \"hi\""});
    CHECK_THAT(format_error("\"open,1\n1,2\n"), Contains("line 1") && Contains("quote"));
}

TEST_CASE("read_csv: malformed files name the file, line and column", "[data][csv]") {
    CHECK_THAT(format_error("a,b,c\n1,2,0\n3,,1\n"),
               Catch::StartsWith("table.csv: line 3, column 2 (b): missing value"));
    CHECK_THAT(format_error("a,b,c\n1,x2,0\n"), Contains("table.csv") && Contains("line 2") &&
                                                    Contains("column 2 (b)") && Contains("'x2'"));
    CHECK_THAT(format_error("a,b\n1,\n"), Contains("line 2") && Contains("missing class"));
    CHECK_THAT(format_error("1,2,0\n3,nan,1\n"),
               Contains("line 2") && Contains("not a finite number"));
    CHECK_THAT(format_error("1,2,0\n-inf,3,1\n"), Contains("line 2") && Contains("column 1"));
    CHECK_THAT(format_error("1,2,3\n4,5\n"), Contains("line 2 has 2 fields, 3 expected"));
    CHECK_THAT(format_error("1,2\n3,1.5\n"), Contains("line 2") && Contains("not an integer"));
    CHECK_THAT(format_error("a,b\n1,\n"), Contains("missing"));
    CHECK_THAT(format_error(""), Contains("no rows"));
    CHECK_THAT(format_error("\n \n"), Contains("no rows"));
    CHECK_THROWS_AS(data::parse_csv("1,2\n", {.target_column = 5}), dc::IndexError);
    CHECK_THROWS_AS(data::parse_csv("1,2\n", {.delimiter = '"'}), dc::Error);
    CHECK_THROWS_AS(data::parse_csv("1,2\n", {.skip_lines = -1}), dc::Error);
    CHECK(data::parse_csv("preamble\n1,2\n", {.skip_lines = 1}).features.shape() ==
          dc::Shape{1, 1});
}

TEST_CASE("read_csv: files, and what is not a regular file", "[data][csv]") {
    const auto dir = std::filesystem::temp_directory_path() / "descent_csv_test";
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(dir / "t.csv");
        out << "1,2,0\n3,4,1\n5,,1\n";
    }
    CHECK_THROWS_WITH(data::read_csv(dir / "t.csv"), Contains("t.csv") && Contains("line 3") &&
                                                         Contains("column 2") &&
                                                         Contains("missing"));
    CHECK_THROWS_AS(data::read_csv(dir / "absent.csv"), dc::FormatError);
    CHECK_THROWS_WITH(data::read_csv(dir), Contains("not a regular file"));
    CHECK_THROWS_AS(data::read_csv("/dev/null"), dc::FormatError);
    std::filesystem::remove_all(dir);
}

TEST_CASE("the bundled data sets load with one call each", "[data][datasets]") {
    const auto digits = data::digits();
    CHECK(digits.features.shape() == dc::Shape{1797, 64});
    CHECK(digits.labels.shape() == dc::Shape{1797});
    CHECK(digits.class_names.size() == 10);
    CHECK(digits.features.max().item() == 16.0);
    const auto iris = data::iris();
    CHECK(iris.features.shape() == dc::Shape{150, 4});
    CHECK(iris.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(data::confusion_matrix(iris.labels, iris.labels).to_int_vector() ==
          std::vector<std::int64_t>{50, 0, 0, 0, 50, 0, 0, 0, 50});
    const auto wine = data::wine();
    CHECK(wine.features.shape() == dc::Shape{178, 13});
    CHECK(wine.class_names.size() == 3);
    CHECK(wine.features.at({0, 12}) == 1065.0);
}

TEST_CASE("splits: seeded, disjoint, complete, of the asked sizes", "[data][split]") {
    const auto a = data::split_indices(100, {.validation = 0.1, .test = 0.25, .seed = 3});
    const auto b = data::split_indices(100, {.validation = 0.1, .test = 0.25, .seed = 3});
    const auto c = data::split_indices(100, {.validation = 0.1, .test = 0.25, .seed = 4});
    CHECK(a.test.to_int_vector() == b.test.to_int_vector());
    CHECK(a.test.to_int_vector() != c.test.to_int_vector());
    CHECK(a.train.numel() == 65);
    CHECK(a.validation.numel() == 10);
    CHECK(a.test.numel() == 25);
    std::vector<std::int64_t> all;
    for (const auto* part : {&a.train, &a.validation, &a.test}) {
        for (const auto i : part->to_int_vector()) all.push_back(i);
    }
    std::sort(all.begin(), all.end());
    std::vector<std::int64_t> expected(100);
    std::iota(expected.begin(), expected.end(), 0);
    CHECK(all == expected);
}

TEST_CASE("splits: stratified keeps each class's share", "[data][split]") {
    const auto iris = data::iris();
    const auto parts = data::train_val_test_split(
        iris.features, iris.labels, {.validation = 0.2, .test = 0.2, .stratify = true, .seed = 1});
    CHECK(parts.x_test.shape() == dc::Shape{30, 4});
    CHECK(parts.x_validation.shape() == dc::Shape{30, 4});
    CHECK(parts.x_train.shape() == dc::Shape{90, 4});
    for (const auto* y : {&parts.y_train, &parts.y_validation, &parts.y_test}) {
        const auto counts = data::confusion_matrix(*y, *y, 3).to_int_vector();
        CHECK(counts[0] == counts[4]);
        CHECK(counts[4] == counts[8]);
    }
    // uneven classes: 7 of class 0, 3 of class 1, test 30 %: 3 rows, 2 + 1 by largest remainder
    const dc::Tensor labels = dc::int_tensor({0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, {10});
    const auto s = data::split_indices(labels, {.test = 0.3, .stratify = true});
    const auto test = labels.index_select(0, s.test).to_int_vector();
    CHECK(std::count(test.begin(), test.end(), 0) == 2);
    CHECK(std::count(test.begin(), test.end(), 1) == 1);
}

TEST_CASE("splits: bad shares and labels", "[data][split]") {
    CHECK_THROWS_AS(data::split_indices(10, {.test = std::nan("")}), dc::Error);
    CHECK_THROWS_AS(data::split_indices(10, {.test = 1.0}), dc::Error);
    CHECK_THROWS_AS(data::split_indices(10, {.validation = 0.5, .test = 0.5}), dc::Error);
    CHECK_THROWS_AS(data::split_indices(-1), dc::Error);
    CHECK_THROWS_AS(data::split_indices(dc::ones({4}), {.stratify = true}), dc::DtypeError);
    CHECK_THROWS_AS(data::train_val_test_split(dc::ones({4, 2}), dc::ones({3})), dc::ShapeError);
}

TEST_CASE("metrics: accuracy, confusion matrix, per-class scores", "[data][metrics]") {
    const dc::Tensor target = dc::int_tensor({0, 0, 1, 1, 2, 2}, {6});
    const dc::Tensor predicted = dc::int_tensor({0, 1, 1, 1, 0, 0}, {6});
    CHECK(data::accuracy(predicted, target) == Approx(0.5));
    CHECK(data::confusion_matrix(predicted, target).to_int_vector() ==
          std::vector<std::int64_t>{1, 1, 0, 0, 2, 0, 2, 0, 0});
    const auto r = data::classification_report(predicted, target);
    // class 2 is never predicted: precision 0 (zero_division = 0), recall 0, F1 0
    CHECK(r.precision == std::vector<double>{1.0 / 3, 2.0 / 3, 0.0});
    CHECK(r.recall == std::vector<double>{0.5, 1.0, 0.0});
    CHECK(r.f1[0] == Approx(0.4));
    CHECK(r.f1[1] == Approx(0.8));
    CHECK(r.f1[2] == 0.0);
    CHECK(r.support == std::vector<std::int64_t>{2, 2, 2});
    CHECK(r.macro_f1 == Approx(0.4));
    CHECK(r.accuracy == Approx(0.5));
    // a class never present (4 classes asked): recall 0, support 0
    const auto four = data::classification_report(predicted, target, 4);
    CHECK(four.support.back() == 0);
    CHECK(four.f1.back() == 0.0);
}

TEST_CASE("metrics: logits, grad mode, misuse", "[data][metrics]") {
    const dc::Tensor logits = dc::tensor({2, 1, 0, 3, -1, 5}, {2, 3}, {.requires_grad = true});
    const dc::Tensor target = dc::int_tensor({0, 1}, {2});
    CHECK(data::accuracy(logits, target) == 0.5);
    {
        const dc::NoGradGuard no_grad;
        CHECK(data::accuracy(logits, target) == 0.5);
    }
    CHECK_THROWS_AS(data::accuracy(logits, dc::int_tensor({0, 1, 2}, {3})), dc::ShapeError);
    CHECK_THROWS_AS(data::confusion_matrix(dc::int_tensor({0, 5}, {2}), target, 3), dc::IndexError);
    CHECK_THROWS_AS(data::accuracy(logits, dc::ones({2})), dc::DtypeError);
    // no samples: an error, not 0 (hostile_data_test.cpp has the rest)
    CHECK_THROWS_AS(
        data::accuracy(dc::zeros({0}, {.dtype = dc::int64}), dc::zeros({0}, {.dtype = dc::int64})),
        dc::Error);
}

TEST_CASE("metrics: regression errors", "[data][metrics]") {
    const dc::Tensor p = dc::tensor({1, 2, 4}), t = dc::tensor({1, 3, 2});
    CHECK(data::mean_squared_error(p, t) == Approx(5.0 / 3));
    CHECK(data::mean_absolute_error(p, t) == Approx(1.0));
    CHECK_THROWS_AS(data::mean_squared_error(p, dc::tensor({1, 2})), dc::ShapeError);
}

TEST_CASE("Standardizer: state saved and restored", "[data]") {
    data::Standardizer s;
    CHECK(s.state_dict().empty());
    const dc::Tensor x = dc::tensor({1, 10, 3, 20, 5, 30}, {3, 2});
    s.fit(x);
    data::Standardizer t;
    t.load_state_dict(s.state_dict());
    CHECK(t.transform(x).to_vector() == s.transform(x).to_vector());
    dc::NamedTensors bad = s.state_dict();
    bad[1].second = dc::zeros({2});
    CHECK_THROWS_AS(t.load_state_dict(bad), dc::Error);
    bad = s.state_dict();
    bad.pop_back();
    CHECK_THROWS_AS(t.load_state_dict(bad), dc::Error);
    CHECK(t.transform(x).to_vector() == s.transform(x).to_vector());  // unchanged
    t.load_state_dict({});
    CHECK_FALSE(t.fitted());
}
