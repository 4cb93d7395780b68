// Sweeps the op table: every primitive has samples, and every sample of every op passes
// gradcheck and gradgradcheck in float64 (default tolerances unless the sample states others).

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/eigen.hpp>
#include <descent/testing/op_table.hpp>

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
        const auto report = dc::check_op(op);
        INFO(report.message);
        CHECK(report.ok);
    }
}

namespace {
/// A user's op: softsign x/(1 + |x|), forward in a loop, backward 1/(1 + |x|)² in descent ops.
struct Softsign : dc::Function<Softsign> {
    static constexpr const char* name = "Softsign";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        dc::Tensor y = x.clone();
        for (auto& v : y.mutable_map<double>()) v = v / (1.0 + std::abs(v));
        return y;
    }
    static std::vector<dc::Tensor> backward(dc::FunctionContext& ctx,
                                            const std::vector<dc::Tensor>& grads) {
        const dc::Tensor d = dc::abs(ctx.saved()[0]) + 1.0;
        return {grads[0] / (d * d)};
    }
};
/// The same with a wrong derivative, 1/(1 + |x|).
struct BadSoftsign : dc::Function<BadSoftsign> {
    static constexpr const char* name = "BadSoftsign";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        return Softsign::forward(ctx, x);
    }
    static std::vector<dc::Tensor> backward(dc::FunctionContext& ctx,
                                            const std::vector<dc::Tensor>& grads) {
        return {grads[0] / (dc::abs(ctx.saved()[0]) + 1.0)};
    }
};

template <class F>
dc::OpInfo softsign_entry(std::string name) {
    return {
        std::move(name), [] {
            const dc::Tensor x = dc::tensor({-2.0, -0.4, 0.3, 1.7}, {2, 2},
                                            {.dtype = dc::float64, .requires_grad = true});
            return std::vector<dc::OpSample>{{"[2,2]",
                                              [](const std::vector<dc::Tensor>& in) {
                                                  return std::vector<dc::Tensor>{F::apply(in[0])};
                                              },
                                              {x}}};
        }};
}
}  // namespace

TEST_CASE("a user's function joins the op table and its sweep", "[op_table][function]") {
    dc::register_op(softsign_entry<Softsign>("softsign"));
    CHECK_THROWS_AS(dc::register_op(softsign_entry<Softsign>("softsign")), dc::Error);
    CHECK_THROWS_AS(dc::register_op(softsign_entry<Softsign>("add")), dc::Error);
    CHECK_THROWS_AS(dc::register_op({"no_samples", {}}), dc::Error);
    const auto table = dc::op_table();
    const auto it = std::find_if(table.begin(), table.end(),
                                 [&](const dc::OpInfo& op) { return op.name == "softsign"; });
    REQUIRE(it != table.end());
    CHECK(dc::check_op(*it).ok);
    // the wrong one is checked the same way (not registered: the sweep above must stay green)
    const auto report = dc::check_op(softsign_entry<BadSoftsign>("bad_softsign"));
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.message, Catch::Contains("bad_softsign") && Catch::Contains("BadSoftsign") &&
                                   Catch::Contains("input element"));
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
