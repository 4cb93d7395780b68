// The README's autograd snippets, as written there (keep the two in step): they compile, run and
// give what the README says.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>

namespace dc = descent;

namespace {
struct Softsign : dc::Function<Softsign> {  // y = x / (1 + |x|)
    static constexpr const char* name = "Softsign";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});  // any code here: Eigen, loops (grad mode off)
        return x / (dc::abs(x) + 1.0);
    }
    static std::vector<dc::Tensor> backward(dc::FunctionContext& ctx,
                                            const std::vector<dc::Tensor>& grads) {
        const dc::Tensor d = dc::abs(ctx.saved()[0]) + 1.0;
        return {grads[0] / (d * d)};  // descent ops: double backward works too
    }
};
}  // namespace

TEST_CASE("README: checking gradients and a custom function", "[readme]") {
    dc::manual_seed(0);
    auto a = dc::randn({3, 4}, {.dtype = dc::float64}).requires_grad_();
    auto b = dc::randn({4, 2}, {.dtype = dc::float64}).requires_grad_();
    auto c = dc::randn({3, 2}, {.dtype = dc::float64}).requires_grad_();
    auto f = [](const std::vector<dc::Tensor>& in) {
        return (dc::matmul(in[0], in[1]).tanh() * in[2]).sum();
    };
    dc::gradcheck(f, {a, b, c});                      // throws an AutogradError on a mismatch
    dc::gradgradcheck(f, {a, b, c});                  // the same for second derivatives
    auto report = dc::check_gradients(f, {a, b, c});  // non-throwing: report.ok, report.message
    CHECK(report.ok);

    auto y = Softsign::apply(a);  // on the tape as "Softsign"
    CHECK(y.grad_fn_name() == "Softsign");
    const dc::GradcheckScalarFn g = [](const std::vector<dc::Tensor>& in) {
        return Softsign::apply(in[0]).sum();
    };
    CHECK(dc::check_gradients(g, {a}).ok);
    CHECK(dc::check_second_gradients(g, {a}).ok);
}

TEST_CASE("README: the tour", "[readme]") {
    dc::manual_seed(0);                                 // same numbers on every machine
    dc::Tensor w = dc::randn({3, 2}).requires_grad_();  // float32 by default
    dc::Tensor b = dc::zeros({2}, {.requires_grad = true});
    dc::Tensor x = dc::tensor({1, 2, 3, 4, 5, 6}, {2, 3});

    dc::Tensor loss = (dc::matmul(x, w) + b).tanh().pow(2.0).mean();  // broadcasting as NumPy
    loss.backward();  // accumulates into w.grad(), b.grad()
    CHECK(w.grad().shape() == dc::Shape{3, 2});
    {  // a gradient-descent step: in-place updates run without recording
        dc::NoGradGuard no_grad;
        w.sub_(w.grad(), 0.1);
        b.sub_(b.grad(), 0.1);
    }
    w.set_grad({});  // zero_grad
    CHECK_FALSE(w.grad().defined());

    auto x2 = dc::tensor({1.0, -2.0}, {2}, {.dtype = dc::float64, .requires_grad = true});
    auto f = (x2 * x2 * x2).sum();
    auto g = dc::grad({f}, {x2}, {}, {.create_graph = true});  // ∇f = 3x², itself on the tape
    auto v = dc::tensor({1.0, 0.0}, {2}, {.dtype = dc::float64});
    auto hv = dc::grad({(g[0] * v).sum()}, {x2});  // H·v = 6x ⊙ v
    CHECK(hv[0].to_vector() == std::vector<double>{6.0, 0.0});
}

TEST_CASE("README: second order", "[readme]") {
    auto rosen = [](const dc::Tensor& p) {  // (1 − x)² + 100(y − x²)²
        auto x = p.slice(0, 0, 1), y = p.slice(0, 1, 2);
        return ((1.0 - x) * (1.0 - x) + (y - x * x) * (y - x * x) * 100.0).sum();
    };
    auto p = dc::tensor({-1.5, 2.0}, {2}, {.dtype = dc::float64});
    auto H = dc::hessian(rosen, p);  // [2,2]; jacobian, vjp, jvp likewise
    auto Hv = dc::hvp(rosen, p, dc::ones({2}, {.dtype = dc::float64}));  // H·v, never forming H
    // H = [[1200x² − 400y + 2, −400x], [−400x, 200]] at (−1.5, 2)
    CHECK(H.to_vector() == std::vector<double>{1902, 600, 600, 200});
    CHECK(Hv.to_vector() == std::vector<double>{2502, 800});
}

TEST_CASE("README: threads", "[readme]") {
    const int before = dc::get_num_threads();
    dc::set_num_threads(1);  // process-wide, every later product; dc::get_num_threads() reads it
    CHECK(dc::get_num_threads() == 1);
    CHECK(dc::parallel_threshold() == std::int64_t{1} << 21);  // the documented default
    dc::set_num_threads(before);
}
