// Sweeps the op table: every primitive has samples, and every sample of every op passes
// gradcheck and gradgradcheck in float64 (default tolerances unless the sample states others).

#include <algorithm>
#include <catch2/catch.hpp>
#include <descent/autograd.hpp>

namespace dc = descent;

TEST_CASE("every primitive op has samples in the op table", "[op_table]") {
    const auto& table = dc::op_table();
    for (const auto name : dc::primitive_op_names()) {
        INFO("primitive op: " << name);
        const auto it = std::find_if(table.begin(), table.end(),
                                     [&](const dc::OpInfo& op) { return op.name == name; });
        REQUIRE(it != table.end());
        CHECK_FALSE(it->samples().empty());
    }
}

TEST_CASE("op table entries have distinct names and samples", "[op_table]") {
    const auto& table = dc::op_table();
    for (std::size_t i = 0; i < table.size(); ++i) {
        INFO("op: " << table[i].name);
        CHECK_FALSE(table[i].samples().empty());
        for (std::size_t j = i + 1; j < table.size(); ++j) CHECK(table[i].name != table[j].name);
    }
}

TEST_CASE("every op passes gradcheck and gradgradcheck on every sample", "[op_table]") {
    for (const auto& op : dc::op_table()) {
        for (const auto& sample : op.samples()) {
            INFO("op " << op.name << ", sample " << sample.label);
            const auto first = dc::check_gradients(sample.fn, sample.inputs, sample.options);
            INFO(first.message);
            CHECK(first.ok);
            const auto second =
                dc::check_second_gradients(sample.fn, sample.inputs, sample.options);
            INFO(second.message);
            CHECK(second.ok);
        }
    }
}

TEST_CASE("gradcheck catches a wrong derivative", "[op_table][gradcheck]") {
    // A function whose recorded gradient is deliberately wrong: x·detach(x) has true gradient 2x
    // but backward sees only x (the detached factor is a constant).
    const dc::Tensor x =
        dc::tensor({0.5, -1.0, 2.0}, {3}, {.dtype = dc::float64, .requires_grad = true});
    const auto report = dc::check_gradients(
        [](const std::vector<dc::Tensor>& in) {
            return std::vector<dc::Tensor>{in[0] * in[0].detach()};
        },
        {x});
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.message, Catch::Contains("input 0") && Catch::Contains("analytic") &&
                                   Catch::Contains("numeric"));
    CHECK_THROWS_AS(
        dc::gradcheck(
            [](const std::vector<dc::Tensor>& in) { return (in[0] * in[0].detach()).sum(); }, {x}),
        dc::AutogradError);
}

TEST_CASE("gradcheck requires float64 inputs", "[op_table][gradcheck]") {
    const dc::Tensor x = dc::ones({2}, {.requires_grad = true});
    CHECK_THROWS_AS(
        dc::gradcheck([](const std::vector<dc::Tensor>& in) { return in[0].sum(); }, {x}),
        dc::DtypeError);
}
