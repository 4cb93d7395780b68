// Convolution and normalisation layers against PyTorch (tools/make_nn_fixtures.py writes
// tests/fixtures/nn/spatial_layers.safetensors): each torch layer's state_dict loads into the
// descent layer of the same constructor, key for key (so names and layouts are torch's), and
// one training-mode step gives the same output, parameter and input gradients, and running
// statistics. Tolerance 1e-12 relative to each tensor's largest magnitude: float64 on both
// sides, differing only in summation order (a few ulps through a normalisation's sums).

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <functional>
#include <map>
#include <memory>

#include "torch_fixture.hpp"

namespace dc = descent;
namespace nn = descent::nn;

namespace {
using descent::testing::check_close;

const descent::testing::TorchFixture& fixture() {
    static const descent::testing::TorchFixture f("nn/spatial_layers.safetensors");
    return f;
}

dc::StateDict group_of(const std::string& case_name, const std::string& group) {
    return fixture().group(case_name, group);
}

/// The descent layer of each fixture case, built from the same constructor arguments.
const std::map<std::string, std::function<std::shared_ptr<nn::Module>()>>& layers() {
    static const std::map<std::string, std::function<std::shared_ptr<nn::Module>()>> table = {
        {"conv2d_groups",
         [] {
             return std::make_shared<nn::Conv2d>(
                 4, 6, 3, nn::ConvLayerOptions{.stride = 2, .padding = 1, .groups = 2});
         }},
        {"conv2d_reflect",
         [] {
             return std::make_shared<nn::Conv2d>(
                 3, 4, dc::Extents{3, 2},
                 nn::ConvLayerOptions{
                     .padding = 1, .dilation = {1, 2}, .padding_mode = dc::PadMode::reflect});
         }},
        {"conv2d_same_circular",
         [] {
             return std::make_shared<nn::Conv2d>(
                 2, 3, 4,
                 nn::ConvLayerOptions{.padding = "same", .padding_mode = dc::PadMode::circular});
         }},
        {"conv1d_replicate",
         [] {
             return std::make_shared<nn::Conv1d>(
                 3, 5, 3,
                 nn::ConvLayerOptions{.stride = 2,
                                      .padding = 2,
                                      .bias = false,
                                      .padding_mode = dc::PadMode::replicate});
         }},
        {"conv_transpose2d",
         [] {
             return std::make_shared<nn::ConvTranspose2d>(
                 4, 6, 3,
                 nn::ConvTransposeLayerOptions{
                     .stride = 2, .padding = 1, .output_padding = 1, .groups = 2});
         }},
        {"conv_transpose1d",
         [] {
             return std::make_shared<nn::ConvTranspose1d>(
                 3, 2, 4, nn::ConvTransposeLayerOptions{.stride = 3, .dilation = 2});
         }},
        {"batch_norm2d", [] { return std::make_shared<nn::BatchNorm2d>(3, 1e-5, 0.2); }},
        {"group_norm", [] { return std::make_shared<nn::GroupNorm>(2, 6); }},
        {"instance_norm2d",
         [] { return std::make_shared<nn::InstanceNorm2d>(3, 1e-5, 0.1, true, true); }},
        {"instance_norm1d", [] { return std::make_shared<nn::InstanceNorm1d>(4); }},
    };
    return table;
}
}  // namespace

TEST_CASE("spatial layers: every fixture case has a descent layer", "[nn][spatial][interop]") {
    for (const auto& [key, t] : fixture().all()) {
        const std::string case_name = key.substr(0, key.find('.'));
        INFO(key);
        CHECK(layers().count(case_name) == 1);
    }
}

TEST_CASE("spatial layers: torch state_dicts load, and one step matches torch",
          "[nn][spatial][interop]") {
    for (const auto& [case_name, make] : layers()) {
        INFO(case_name);
        const std::shared_ptr<nn::Module> layer = make();
        layer->to(dc::float64);
        layer->load_state_dict(group_of(case_name, "state"));  // strict: torch's keys exactly
        layer->train();
        const dc::Tensor x = fixture().at(case_name + ".input").detach().requires_grad_();
        const dc::Tensor y = (*layer)(x);
        check_close(y, fixture().at(case_name + ".output"), "output");
        (y * fixture().at(case_name + ".weight")).sum().backward();
        const dc::StateDict grads = group_of(case_name, "grad");
        check_close(x.grad(), grads.at("input"), "grad.input");
        for (const auto& [name, p] : layer->named_parameters()) {
            check_close(p.grad(), grads.at(name), "grad." + name);
        }
        for (const auto& [name, b] : group_of(case_name, "after")) {
            const dc::StateDict state = layer->state_dict();
            if (b.dtype() == dc::int64) {
                CHECK(state.at(name).to_int_vector() == b.to_int_vector());
            } else {
                check_close(state.at(name), b, "after." + name);
            }
        }
    }
}
