// Custom autograd functions: forward in plain loops, backward in descent ops (so double backward
// works), checked by gradcheck/gradgradcheck; a deliberately wrong backward is caught with a
// message naming the function; once_differentiable, mark_non_differentiable, several outputs,
// saved tensors checked against in-place changes, anomaly mode naming the function.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/eigen.hpp>

namespace dc = descent;
using Catch::Contains;
using Tensors = std::vector<dc::Tensor>;

namespace {

dc::Tensor input(std::vector<double> v) {
    const auto n = static_cast<std::int64_t>(v.size());
    return dc::tensor(v, {n}, {.dtype = dc::float64, .requires_grad = true});
}

/// y = log(1 + eˣ) in its stable form, computed element by element.
dc::Tensor log1pexp_values(const dc::Tensor& x) {
    dc::Tensor y = dc::zeros_like(x);
    const double* in = x.data<double>();
    double* out = y.mutable_data<double>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
        out[i] = std::max(in[i], 0.0) + std::log1p(std::exp(-std::abs(in[i])));
    }
    return y;
}

struct Log1pExp : dc::Function<Log1pExp> {
    static constexpr const char* name = "Log1pExp";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        return log1pexp_values(x);
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * dc::sigmoid(ctx.saved()[0])};  // ∂/∂x log(1 + eˣ) = σ(x)
    }
};

/// The derivative forgets a factor: σ(x)/2.
struct WrongLog1pExp : dc::Function<WrongLog1pExp> {
    static constexpr const char* name = "WrongLog1pExp";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        return log1pexp_values(x);
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * dc::sigmoid(ctx.saved()[0]) * 0.5};
    }
};

/// Right first derivative, wrong second: the saved input is detached in backward.
struct FlatSecond : dc::Function<FlatSecond> {
    static constexpr const char* name = "FlatSecond";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        return log1pexp_values(x);
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * dc::sigmoid(ctx.saved()[0].detach())};
    }
};

/// The straight-through estimator: round in forward, the identity in backward.
struct StraightThrough : dc::Function<StraightThrough> {
    static dc::Tensor forward(dc::FunctionContext&, const dc::Tensor& x) {
        dc::Tensor y = x.clone();
        for (auto& v : y.mutable_map<double>()) v = std::round(v);
        return y;
    }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) { return {grads[0]}; }
};

/// eˣ, saving its output (the saved output is re-attached to the graph in backward).
struct Exp : dc::Function<Exp> {
    static constexpr const char* name = "Exp";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        dc::Tensor y = x.clone();
        for (auto& v : y.mutable_map<double>()) v = std::exp(v);
        ctx.save_for_backward({y});
        return y;
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * ctx.saved()[0]};
    }
};

/// a·b + scale·a, with a non-tensor argument.
struct ScaledProduct : dc::Function<ScaledProduct> {
    static constexpr const char* name = "ScaledProduct";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& a, const dc::Tensor& b,
                              double scale) {
        ctx.save_for_backward({a, b});
        ctx.saved_data["scale"] = scale;
        ctx.saved_data["needs"] =
            std::vector<bool>{ctx.needs_input_grad(0), ctx.needs_input_grad(1)};
        return a * b + a * scale;
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        const auto saved = ctx.saved();
        const double scale = std::any_cast<double>(ctx.saved_data.at("scale"));
        const dc::Tensor ga =
            ctx.needs_input_grad(0) ? grads[0] * (saved[1] + scale) : dc::Tensor{};
        const dc::Tensor gb = ctx.needs_input_grad(1) ? grads[0] * saved[0] : dc::Tensor{};
        return {ga, gb};
    }
};

/// x², with a backward that cannot be differentiated.
struct OnceSquare : dc::Function<OnceSquare> {
    static constexpr const char* name = "OnceSquare";
    static constexpr bool once_differentiable = true;
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        return x * x;
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * ctx.saved()[0] * 2.0};
    }
};

/// The largest element of each row and its index (an int64 output, never differentiable).
struct RowMax : dc::Function<RowMax> {
    static constexpr const char* name = "RowMax";
    static Tensors forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        const dc::Tensor index = x.argmax(1, true);
        ctx.save_for_backward({index});
        ctx.saved_data["shape"] = x.shape();
        return {x.gather(1, index).reshape({x.size(0)}), index.reshape({x.size(0)})};
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        // the index gets no gradient: zeros of its shape and dtype, as function.hpp says
        CHECK(grads[1].dtype() == dc::int64);
        CHECK(grads[1].shape() == dc::Shape{ctx.saved()[0].size(0)});
        CHECK(grads[1].to_int_vector() == std::vector<std::int64_t>(grads[1].numel(), 0));
        const dc::Tensor index = ctx.saved()[0];
        const auto shape = std::any_cast<dc::Shape>(ctx.saved_data.at("shape"));
        dc::Tensor g = dc::zeros(shape, {.dtype = grads[0].dtype()});
        // scatter the row gradients back to the winners: a one-hot of the index times g
        const dc::Tensor hot =
            dc::eq(dc::arange(0, static_cast<double>(shape[1]), 1, {.dtype = dc::int64})
                       .reshape({1, shape[1]}),
                   index)
                .to(grads[0].dtype());
        return {hot * grads[0].reshape({shape[0], 1})};
    }
};

/// Two differentiable outputs: (2x, x·x).
struct TwoOutputs : dc::Function<TwoOutputs> {
    static constexpr const char* name = "TwoOutputs";
    static Tensors forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        return {x * 2.0, x * x};
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * 2.0 + grads[1] * ctx.saved()[0] * 2.0};
    }
};

/// Saves one of its two outputs without being once_differentiable: refused.
struct SavesAnOutput : dc::Function<SavesAnOutput> {
    static constexpr const char* name = "SavesAnOutput";
    static Tensors forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        dc::Tensor y = x * 2.0;
        ctx.save_for_backward({y});
        return {y, x * 3.0};
    }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) { return {grads[0]}; }
};

/// Returns one gradient too many.
struct TooManyGrads : dc::Function<TooManyGrads> {
    static constexpr const char* name = "TooManyGrads";
    static dc::Tensor forward(dc::FunctionContext&, const dc::Tensor& x) { return x * 1.0; }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) {
        return {grads[0], grads[0]};
    }
};

/// Returns a gradient of the wrong shape.
struct WrongShape : dc::Function<WrongShape> {
    static constexpr const char* name = "WrongShape";
    static dc::Tensor forward(dc::FunctionContext&, const dc::Tensor& x) { return x * 1.0; }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) { return {grads[0].sum()}; }
};

/// Returns its input itself.
struct Identity : dc::Function<Identity> {
    static dc::Tensor forward(dc::FunctionContext&, const dc::Tensor& x) { return x; }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) { return {grads[0]}; }
};

/// log(x): NaN for negative inputs in forward.
struct Log : dc::Function<Log> {
    static constexpr const char* name = "CustomLog";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        return dc::log(x);
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] / ctx.saved()[0]};
    }
};

/// √x: finite at 0, its derivative 1/(2√x) is not.
struct Sqrt : dc::Function<Sqrt> {
    static constexpr const char* name = "CustomSqrt";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        dc::Tensor y = dc::sqrt(x);
        ctx.save_for_backward({y});
        return y;
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] / (ctx.saved()[0] * 2.0)};
    }
};

}  // namespace

TEST_CASE("custom function: gradcheck and gradgradcheck pass", "[function]") {
    const dc::Tensor x = input({-3.0, -0.5, 0.0, 0.7, 4.0});
    const dc::GradcheckScalarFn f = [](const Tensors& in) { return Log1pExp::apply(in[0]).sum(); };
    CHECK_NOTHROW(dc::gradcheck(f, {x}));
    CHECK_NOTHROW(dc::gradgradcheck(f, {x}));
    const dc::Tensor y = Log1pExp::apply(x);
    CHECK(y.grad_fn_name() == "Log1pExp");
    CHECK(y.to_vector()[4] == Approx(std::log1p(std::exp(4.0))));
}

TEST_CASE("custom function: a wrong backward is caught, naming the function", "[function]") {
    const dc::Tensor x = input({-1.0, 0.5, 2.0});
    const auto report = dc::check_gradients(
        [](const Tensors& in) { return Tensors{WrongLog1pExp::apply(in[0])}; }, {x});
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.message, Contains("WrongLog1pExp") && Contains("input 0") &&
                                   Contains("input element") && Contains("analytic"));
    CHECK_THROWS_WITH(
        dc::gradcheck([](const Tensors& in) { return (WrongLog1pExp::apply(in[0]) * 3.0).sum(); },
                      {x}),
        Contains("WrongLog1pExp"));
}

TEST_CASE("custom function: a wrong second derivative is caught by gradgradcheck", "[function]") {
    const dc::Tensor x = input({-1.0, 0.5, 2.0});
    const dc::GradcheckFn f = [](const Tensors& in) { return Tensors{FlatSecond::apply(in[0])}; };
    CHECK(dc::check_gradients(f, {x}).ok);
    const auto report = dc::check_second_gradients(f, {x});
    CHECK_FALSE(report.ok);
    CHECK_THAT(report.message, Contains("FlatSecond") && Contains("input 0"));
}

TEST_CASE("custom function: the straight-through estimator", "[function]") {
    const dc::Tensor x = input({0.2, 1.7, -2.6});
    const dc::Tensor y = StraightThrough::apply(x);
    CHECK(y.to_vector() == std::vector<double>{0, 2, -3});
    (y * dc::tensor({1, 2, 3}, {3}, {.dtype = dc::float64})).sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{1, 2, 3});
    CHECK_THAT(y.grad_fn_name(), Contains("StraightThrough"));  // the type's name by default
}

TEST_CASE("custom function: a saved output is re-attached for double backward", "[function]") {
    const dc::Tensor x = input({-1.0, 0.0, 1.5});
    const dc::GradcheckScalarFn f = [](const Tensors& in) { return Exp::apply(in[0]).sum(); };
    CHECK_NOTHROW(dc::gradcheck(f, {x}));
    CHECK_NOTHROW(dc::gradgradcheck(f, {x}));
}

TEST_CASE("custom function: non-tensor arguments and needs_input_grad", "[function]") {
    const dc::Tensor a = input({1.0, 2.0}), b = input({3.0, -1.0});
    const dc::GradcheckFn f = [](const Tensors& in) {
        return Tensors{ScaledProduct::apply(in[0], in[1], 0.5)};
    };
    CHECK_NOTHROW(dc::gradcheck(f, {a, b}));
    CHECK_NOTHROW(dc::gradgradcheck(f, {a, b}));
    const dc::Tensor constant = dc::tensor({3.0, -1.0}, {2}, {.dtype = dc::float64});
    const dc::Tensor y = ScaledProduct::apply(a, constant, 2.0);
    y.sum().backward();
    CHECK(a.grad().to_vector() == std::vector<double>{5.0, 1.0});
}

TEST_CASE("custom function: once_differentiable refuses double backward", "[function]") {
    const dc::Tensor x = input({1.0, -2.0});
    const dc::GradcheckScalarFn f = [](const Tensors& in) {
        return OnceSquare::apply(in[0]).sum();
    };
    CHECK_NOTHROW(dc::gradcheck(f, {x}));
    const dc::Tensor g = dc::grad({f({x})}, {x}, {.create_graph = true})[0];
    CHECK(g.to_vector() == std::vector<double>{2.0, -4.0});
    CHECK_THROWS_AS(dc::grad({g.sum()}, {x}), dc::AutogradError);
    CHECK_THROWS_WITH(dc::grad({g.sum()}, {x}),
                      Contains("OnceSquare") && Contains("once_differentiable"));
    CHECK_FALSE(
        dc::check_second_gradients([&](const Tensors& in) { return Tensors{f(in)}; }, {x}).ok);
}

TEST_CASE("custom function: a non-differentiable int64 output", "[function]") {
    const dc::Tensor x =
        dc::tensor({1, 5, 2, 7, 0, 3}, {2, 3}, {.dtype = dc::float64, .requires_grad = true});
    const Tensors out = RowMax::apply(x);
    CHECK(out[0].to_vector() == std::vector<double>{5, 7});
    CHECK(out[1].dtype() == dc::int64);
    CHECK_FALSE(out[1].requires_grad());
    CHECK(out[0].requires_grad());
    out[0].sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{0, 1, 0, 1, 0, 0});
    CHECK_NOTHROW(
        dc::gradcheck([](const Tensors& in) { return Tensors{RowMax::apply(in[0])[0]}; }, {x}));
}

TEST_CASE("custom function: several differentiable outputs", "[function]") {
    const dc::Tensor x = input({0.5, -1.5, 2.0});
    const dc::GradcheckFn f = [](const Tensors& in) { return TwoOutputs::apply(in[0]); };
    CHECK_NOTHROW(dc::gradcheck(f, {x}));
    CHECK_NOTHROW(dc::gradgradcheck(f, {x}));
    const Tensors out = TwoOutputs::apply(x);
    out[1].sum().backward();  // only the second output gets a gradient: the first gets zeros
    CHECK(x.grad().to_vector() == std::vector<double>{1.0, -3.0, 4.0});
}

TEST_CASE("custom function: saving one of several outputs is refused", "[function]") {
    const dc::Tensor x = input({1.0});
    CHECK_THROWS_WITH(SavesAnOutput::apply(x), Contains("SavesAnOutput") && Contains("save"));
}

TEST_CASE("custom function: backward's results are checked", "[function]") {
    const dc::Tensor x = input({1.0, 2.0});
    CHECK_THROWS_WITH(TooManyGrads::apply(x).sum().backward(),
                      Contains("TooManyGrads") && Contains("2 gradients for 1 inputs"));
    CHECK_THROWS_WITH(WrongShape::apply(x).sum().backward(),
                      Contains("WrongShape") && Contains("[]") && Contains("[2]"));
}

TEST_CASE("custom function: a saved input modified in place is caught", "[function]") {
    dc::Tensor x = input({1.0, 2.0});
    const dc::Tensor y = Log1pExp::apply(x).sum();
    {
        const dc::NoGradGuard no_grad;
        x.add_(1.0);
    }
    CHECK_THROWS_WITH(y.backward(), Contains("Log1pExp") && Contains("modified in place"));
}

TEST_CASE("custom function: anomaly mode names the function", "[function]") {
    const dc::AnomalyGuard anomaly;
    CHECK_THROWS_WITH(Log::apply(input({-1.0})), Contains("CustomLog") && Contains("forward"));
    CHECK_NOTHROW(Log::apply(input({2.0})).sum().backward());
    CHECK_THROWS_WITH(Sqrt::apply(input({0.0, 1.0})).sum().backward(),
                      Contains("CustomSqrt") && Contains("backward"));
}

TEST_CASE("custom function: returning an input keeps the input a leaf", "[function]") {
    const dc::Tensor x = input({1.0, 2.0});
    const dc::Tensor y = Identity::apply(x);
    CHECK(x.is_leaf());
    CHECK_FALSE(y.is_leaf());
    (y * 3.0).sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{3.0, 3.0});
}

TEST_CASE("custom function: without grad mode nothing is recorded", "[function]") {
    const dc::Tensor x = input({1.0});
    const dc::NoGradGuard no_grad;
    const dc::Tensor y = Log1pExp::apply(x);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
}

TEST_CASE("custom function: float32 inputs", "[function]") {
    const dc::Tensor x = dc::tensor({1.0, -1.0}, {2}, {.requires_grad = true});
    TwoOutputs::apply(x)[0].sum().backward();
    CHECK(x.grad().to_vector() == std::vector<double>{2.0, 2.0});
    CHECK(x.grad().dtype() == dc::float32);
}
