// Two ops defined by their own forward and backward (descent::Function), checked by finite
// differences, then used to train:
//   Log1pExp        y = log(1 + eˣ), computed in a loop in its stable form; y' = σ(x), written
//                   with descent ops, so its second derivative (gradgradcheck) works too;
//   StraightThrough y = round(x) forward, the identity backward (Bengio, Léonard & Courville
//                   2013): weights rounded to a grid in the forward pass still get gradients.
// Then a logistic regression on two Gaussian blobs, loss log(1 + eᶻ) − y·z through Log1pExp,
// with its weights quantized to steps of 1/4 through the straight-through estimator.

#include <fmt/format.h>

#include <cmath>
#include <descent/autograd.hpp>
#include <descent/eigen.hpp>
#include <descent/format.hpp>
#include <descent/optim.hpp>
#include <vector>

namespace dc = descent;
using Tensors = std::vector<dc::Tensor>;

namespace {

/// y[i] = f(x[i]) for a float32 or float64 tensor, in a plain loop.
template <class F>
dc::Tensor map_values(const dc::Tensor& x, F f) {
    dc::Tensor y = x.detach().clone();
    if (y.dtype() == dc::float64) {
        for (auto& v : y.mutable_map<double>()) v = f(v);
    } else {
        for (auto& v : y.mutable_map<float>()) v = static_cast<float>(f(v));
    }
    return y;
}

struct Log1pExp : dc::Function<Log1pExp> {
    static constexpr const char* name = "Log1pExp";
    static dc::Tensor forward(dc::FunctionContext& ctx, const dc::Tensor& x) {
        ctx.save_for_backward({x});
        // log(1 + eˣ) = max(x, 0) + log1p(e^−|x|): no overflow for large x
        return map_values(
            x, [](double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); });
    }
    static Tensors backward(dc::FunctionContext& ctx, const Tensors& grads) {
        return {grads[0] * dc::sigmoid(ctx.saved()[0])};  // y' = σ(x)
    }
};

struct StraightThrough : dc::Function<StraightThrough> {
    static constexpr const char* name = "StraightThrough";
    static dc::Tensor forward(dc::FunctionContext&, const dc::Tensor& x) {
        return map_values(x, [](double v) { return std::round(v); });
    }
    static Tensors backward(dc::FunctionContext&, const Tensors& grads) {
        return {grads[0]};  // the identity: round's zero derivative ignored
    }
};

/// Weights on a grid of steps of 1/4, still trainable.
dc::Tensor quantized(const dc::Tensor& w) {
    return StraightThrough::apply(w * 4.0) / 4.0;
}

void check(const char* what, const dc::GradcheckReport& report) {
    fmt::print("{:<36} {}\n", what, report.ok ? "ok" : report.message);
}

}  // namespace

int main() {
    // 1. Finite differences agree with both backward formulas (float64).
    const dc::Tensor x = dc::tensor({-30.0, -2.0, -0.3, 0.0, 0.8, 5.0, 40.0}, {7},
                                    {.dtype = dc::float64, .requires_grad = true});
    const dc::GradcheckFn log1pexp = [](const Tensors& in) {
        return Tensors{Log1pExp::apply(in[0])};
    };
    check("gradcheck Log1pExp:", dc::check_gradients(log1pexp, {x}));
    check("gradgradcheck Log1pExp:", dc::check_second_gradients(log1pexp, {x}));
    const dc::Tensor grid =
        dc::tensor({0.1, 0.6, -1.3}, {3}, {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor q = quantized(grid);
    q.sum().backward();
    fmt::print("straight-through: round(4x)/4 of {} is {}, gradient {}\n", grid.detach(),
               q.detach(), grid.grad());

    // 2. Train with them: two Gaussian blobs in 2-D, labels 0 and 1.
    dc::manual_seed(0);
    const std::int64_t n = 400;
    const dc::Tensor labels = dc::randint(0, 2, {n, 1}).to(dc::float32);
    const dc::Tensor points = dc::randn({n, 2}) + (labels * 2.0 - 1.0) * 1.5;
    dc::Tensor w = dc::zeros({2, 1}, {.requires_grad = true});
    dc::Tensor b = dc::zeros({1}, {.requires_grad = true});
    dc::optim::Adam adam({w, b}, {.lr = 0.05});
    double loss_value = 0.0;
    for (int step = 0; step < 200; ++step) {
        const dc::Tensor z = dc::matmul(points, quantized(w)) + b;
        const dc::Tensor loss = (Log1pExp::apply(z) - labels * z).mean();  // logistic loss
        adam.zero_grad();
        loss.backward();
        adam.step();
        loss_value = loss.item();
        if (step % 50 == 0) fmt::print("step {:3d}  loss {:.4f}\n", step, loss_value);
    }
    const dc::NoGradGuard no_grad;
    const dc::Tensor predicted = (dc::matmul(points, quantized(w)) + b) > 0.0;
    const double accuracy = dc::eq(predicted, labels > 0.5).to(dc::float32).mean().item();
    fmt::print("final loss {:.4f}, accuracy {:.3f}, quantized weights {}\n", loss_value, accuracy,
               quantized(w).reshape({2}));
    return accuracy > 0.9 ? 0 : 1;
}
