// Interoperability with PyTorch (fixtures by tools/make_nn_fixtures.py): a torch state_dict
// written as safetensors loads into the same descent model, which then gives the same outputs
// and gradients in eval mode; BatchNorm's running statistics follow torch's batch by batch.
// Tolerances: 1e-6 relative in float32 (a few roundings of ~6e-8 through 4 layers), 1e-12 in
// float64, relative to the largest magnitude of each compared tensor.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <filesystem>
#include <map>

namespace dc = descent;
namespace nn = descent::nn;

namespace {
std::string fixture(const std::string& name) {
    return std::string(DESCENT_FIXTURE_DIR) + "/nn/" + name;
}

std::map<std::string, dc::Tensor> load_map(const std::string& name) {
    std::map<std::string, dc::Tensor> out;
    for (auto& [key, t] : nn::load(fixture(name))) out[key] = t;
    return out;
}

/// max|a − b| ≤ tol·max(max|b|, tiny)
void check_close(const dc::Tensor& a, const dc::Tensor& b, double tol, const std::string& what) {
    INFO(what);
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector(), vb = b.to_vector();
    double scale = 1e-30, diff = 0.0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        scale = std::max(scale, std::abs(vb[i]));
        diff = std::max(diff, std::abs(va[i] - vb[i]));
    }
    CHECK(diff <= tol * scale);
}

nn::Sequential make_mlp() {
    return nn::Sequential{nn::Linear(6, 16),  nn::LayerNorm({16}), nn::ReLU(), nn::Dropout(0.3),
                          nn::Linear(16, 16), nn::BatchNorm1d(16), nn::Tanh(), nn::Linear(16, 4)};
}
}  // namespace

TEST_CASE("a PyTorch checkpoint gives the same outputs and gradients", "[nn][interop]") {
    for (const auto& [dtype, suffix, tol] :
         {std::tuple{dc::float32, "float32", 1e-6}, std::tuple{dc::float64, "float64", 1e-12}}) {
        INFO(suffix);
        nn::Sequential model = make_mlp();
        model.to(dtype);
        model.load_state_dict(nn::load(fixture(std::string("mlp_") + suffix + ".safetensors")));
        model.eval();
        auto io = load_map(std::string("mlp_io_") + suffix + ".safetensors");
        dc::Tensor x = io.at("input").detach().requires_grad_();
        const dc::Tensor y = model(x);
        check_close(y, io.at("output"), tol, "output");
        (y * io.at("weight")).sum().backward();
        check_close(x.grad(), io.at("grad.input"), tol, "grad.input");
        for (const auto& [name, p] : model.named_parameters()) {
            check_close(p.grad(), io.at("grad." + name), tol, "grad." + name);
        }
    }
}

TEST_CASE("a checkpoint written by descent loads back bit for bit", "[nn][interop]") {
    nn::Sequential model = make_mlp();
    model.load_state_dict(nn::load(fixture("mlp_float32.safetensors")));
    const auto path =
        std::filesystem::temp_directory_path() / "descent_interop_roundtrip.safetensors";
    nn::save(model.state_dict(), path, {{"format", "pt"}});
    nn::Sequential again = make_mlp();
    again.load_state_dict(nn::load(path));
    const auto a = model.state_dict(), b = again.state_dict();
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(a[i].second.to_vector() == b[i].second.to_vector());
    }
    std::filesystem::remove(path);
}

TEST_CASE("BatchNorm1d running statistics follow PyTorch batch by batch",
          "[nn][interop][batchnorm]") {
    auto f = load_map("batchnorm_stats.safetensors");
    struct Case {
        std::string key;
        nn::BatchNorm1d bn;
    };
    std::vector<Case> cases{{"bn0", nn::BatchNorm1d(5, 1e-5, 0.1)},
                            {"bn1", nn::BatchNorm1d(3, 1e-3, 0.3)}};
    for (auto& [key, bn] : cases) {
        INFO(key);
        bn.to(dc::float64);
        for (int i = 0; i < 4; ++i) {
            const std::string k = key + ".";
            const dc::Tensor out = bn(f.at(k + "batch" + std::to_string(i)));
            check_close(out, f.at(k + "out" + std::to_string(i)), 1e-12, "output");
            const auto state = bn.state_dict();
            const std::string after = k + "after" + std::to_string(i) + ".";
            check_close(state[2].second, f.at(after + "running_mean"), 1e-12, "running_mean");
            check_close(state[3].second, f.at(after + "running_var"), 1e-12, "running_var");
            CHECK(state[4].second.item() == f.at(after + "num_batches_tracked").item());
        }
    }
}
