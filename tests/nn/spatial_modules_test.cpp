// The convolution, pooling and normalisation modules beyond their torch fixtures
// (spatial_layers_test.cpp): printed as torch prints them, parameters shaped and initialised as
// torch's, bad constructor arguments refused naming the layer, channel dropout, and a LeNet on
// the way to the bundled digits.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <limits>

namespace dc = descent;
namespace nn = descent::nn;
using Catch::Contains;

TEST_CASE("spatial modules print as torch prints them", "[nn][spatial][print]") {
    nn::Sequential model{
        nn::Conv2d(1, 6, 5),
        nn::Conv2d(3, 4, dc::Extents{3, 2},
                   {.padding = 1, .dilation = {1, 2}, .padding_mode = dc::PadMode::reflect}),
        nn::Conv1d(3, 5, 3, {.groups = 1, .bias = false}),
        nn::Conv2d(2, 4, 3, {.padding = "same", .groups = 2}),
        nn::ConvTranspose2d(4, 6, 3, {.stride = 2, .padding = 1, .output_padding = 1}),
        nn::MaxPool2d(2),
        nn::AvgPool2d(3, {.stride = 2, .padding = 1}),
        nn::AdaptiveAvgPool2d({3, 4}),
        nn::BatchNorm2d(3),
        nn::GroupNorm(2, 6),
        nn::InstanceNorm2d(3),
        nn::Dropout2d(0.25)};
    const std::string text = nn::to_string(model);
    CHECK_THAT(text, Contains("(0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))  # weight "
                              "[6,1,5,5], bias [6]"));
    CHECK_THAT(text, Contains("(1): Conv2d(3, 4, kernel_size=(3, 2), stride=(1, 1), padding=(1, "
                              "1), dilation=(1, 2), padding_mode=reflect)"));
    CHECK_THAT(text, Contains("(2): Conv1d(3, 5, kernel_size=(3,), stride=(1,), bias=False)"));
    CHECK_THAT(text, Contains("(3): Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, "
                              "groups=2)  # weight [4,1,3,3]"));
    CHECK_THAT(text, Contains("(4): ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), "
                              "padding=(1, 1), output_padding=(1, 1))  # weight [4,6,3,3]"));
    CHECK_THAT(text, Contains("(5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                              "ceil_mode=False)"));
    CHECK_THAT(text, Contains("(6): AvgPool2d(kernel_size=3, stride=2, padding=1)"));
    CHECK_THAT(text, Contains("(7): AdaptiveAvgPool2d(output_size=(3, 4))"));
    CHECK_THAT(text, Contains("(8): BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, "
                              "track_running_stats=True)"));
    CHECK_THAT(text, Contains("(9): GroupNorm(2, 6, eps=1e-05, affine=True)"));
    CHECK_THAT(text, Contains("(10): InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, "
                              "track_running_stats=False)"));
    CHECK_THAT(text, Contains("(11): Dropout2d(p=0.25)"));
}

TEST_CASE("conv parameters are initialised as torch's", "[nn][spatial][init]") {
    dc::manual_seed(0);
    nn::Conv2d conv(8, 16, 3, {.groups = 2});
    // fan_in = 8/2 · 3·3 = 36: weight and bias ~ U(±1/6), Kaiming-uniform with a = √5
    const double bound = 1.0 / 6.0;
    for (const double w : conv.weight().to_vector()) CHECK(std::abs(w) <= bound);
    for (const double b : conv.bias().to_vector()) CHECK(std::abs(b) <= bound);
    // 576 draws of U(±1/6): standard deviation 1/(6√3) ≈ 0.0962; within 10 % at 576 samples
    // (the sample sd's relative error is about 1/√(2·576) ≈ 3 %)
    const dc::Tensor w = conv.weight().to(dc::float64);
    const double sd = std::sqrt(((w - w.mean()) * (w - w.mean())).mean().item());
    CHECK(sd == Approx(bound / std::sqrt(3.0)).epsilon(0.1));
    CHECK(nn::ConvTranspose2d(4, 6, 3, {.groups = 2}).weight().shape() == dc::Shape{4, 3, 3, 3});
}

TEST_CASE("spatial modules refuse bad arguments naming the layer", "[nn][spatial][hostile]") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(nn::Conv2d(0, 4, 3), Contains("Conv2d") && Contains("in_channels"));
    CHECK_THROWS_WITH(nn::Conv2d(4, -1, 3), Contains("Conv2d") && Contains("out_channels"));
    CHECK_THROWS_WITH(nn::Conv2d(4, 6, 3, {.groups = 4}), Contains("Conv2d") && Contains("groups"));
    CHECK_THROWS_WITH(nn::Conv2d(4, 6, 0), Contains("Conv2d") && Contains("kernel_size"));
    CHECK_THROWS_WITH(nn::Conv2d(4, 6, {3, 3, 3}), Contains("Conv2d") && Contains("kernel_size"));
    CHECK_THROWS_WITH(nn::Conv2d(4, 6, 3, {.stride = 0}), Contains("stride"));
    CHECK_THROWS_WITH(nn::Conv2d(4, 6, 3, {.padding = -2}), Contains("padding"));
    CHECK_THROWS_WITH(nn::Conv1d(4, 6, 3, {.stride = 2, .padding = "same"}), Contains("same"));
    CHECK_THROWS_WITH(nn::Conv2d(1 << 20, 1 << 20, 1 << 12), Contains("Conv2d"));
    CHECK_THROWS_WITH(nn::ConvTranspose2d(4, 6, 3, {.output_padding = 1}),
                      Contains("ConvTranspose2d") && Contains("output_padding"));
    CHECK_THROWS_WITH(nn::GroupNorm(4, 6), Contains("GroupNorm") && Contains("divide"));
    CHECK_THROWS_WITH(nn::GroupNorm(0, 6), Contains("GroupNorm"));
    CHECK_THROWS_WITH(nn::InstanceNorm2d(3, nan), Contains("InstanceNorm2d") && Contains("eps"));
    CHECK_THROWS_WITH(nn::Dropout2d(1.5), Contains("Dropout2d"));
    nn::BatchNorm2d bn(3);
    CHECK_THROWS_WITH(bn(dc::zeros({4, 3, 5})), Contains("BatchNorm2d") && Contains("4-D"));
    nn::GroupNorm gn(2, 6);
    CHECK_THROWS_WITH(gn(dc::zeros({2, 4, 3})), Contains("GroupNorm"));
    nn::InstanceNorm2d in(3);
    CHECK_THROWS_WITH(in(dc::zeros({2, 5, 4, 4})),
                      Contains("InstanceNorm2d") && Contains("channels"));
    nn::Conv2d conv(3, 4, 3);
    CHECK_THROWS_WITH(conv(dc::zeros({2, 4, 8, 8})), Contains("conv2d") && Contains("channels"));
    CHECK_THROWS_WITH(conv(dc::zeros({2, 3, 2, 8})), Contains("conv2d"));
}

TEST_CASE("Dropout2d zeroes whole channels and keeps the mean", "[nn][spatial][dropout]") {
    dc::manual_seed(11);
    nn::Dropout2d drop(0.25);
    const dc::Tensor x = dc::ones({64, 16, 3, 3}, {.dtype = dc::float64});
    const dc::Tensor y = drop(x);
    const std::vector<double> v = y.to_vector();
    std::int64_t dropped = 0;
    for (std::size_t channel = 0; channel < v.size() / 9; ++channel) {
        const double first = v[channel * 9];
        CHECK((first == 0.0 || first == 1.0 / 0.75));
        for (std::size_t i = 1; i < 9; ++i) CHECK(v[channel * 9 + i] == first);  // whole channel
        dropped += first == 0.0;
    }
    // 1024 channels at p = 0.25: 256 expected, sd √(1024·0.25·0.75) ≈ 13.9; within 4 sd
    CHECK(std::abs(static_cast<double>(dropped) - 256.0) < 4 * 13.9);
    drop.eval();
    CHECK(drop(x).is_same(x));
    // unbatched (C, H, W): one draw per channel
    drop.train();
    const std::vector<double> u = drop(dc::ones({8, 2, 2}, {.dtype = dc::float64})).to_vector();
    for (std::size_t c = 0; c < 8; ++c) CHECK(u[c * 4] == u[c * 4 + 3]);
}

TEST_CASE("a LeNet trains on a batch of digits-sized images", "[nn][spatial]") {
    dc::manual_seed(1);
    nn::Sequential lenet{nn::Conv2d(1, 6, 3, {.padding = 1}),
                         nn::ReLU(),
                         nn::MaxPool2d(2),
                         nn::Conv2d(6, 16, 3),
                         nn::BatchNorm2d(16),
                         nn::ReLU(),
                         nn::Flatten(),
                         nn::Linear(16 * 2 * 2, 10)};
    const dc::Tensor x = dc::randn({32, 1, 8, 8});
    const dc::Tensor y = dc::randint(0, 10, {32});
    CHECK(lenet(x).shape() == dc::Shape{32, 10});
    // plain gradient descent memorises 32 random labels: the loss falls steadily
    double first = 0.0, last = 0.0;
    for (int step = 0; step < 60; ++step) {
        for (auto& p : lenet.parameters()) p.set_grad({});
        const dc::Tensor loss = nn::cross_entropy(lenet(x), y);
        loss.backward();
        for (auto& p : lenet.parameters()) {
            const dc::NoGradGuard no_grad;
            p.sub_(p.grad(), 0.1);
        }
        (step == 0 ? first : last) = loss.item();
    }
    CHECK(last < 0.5 * first);
}
