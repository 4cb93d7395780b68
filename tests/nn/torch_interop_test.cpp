// State dicts written by PyTorch (tools/make_interop_fixtures.py, torch 1.13): torch.save files
// and safetensors files with every dtype save_file writes load into descent's models by name,
// and the models then compute torch's outputs.

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <string>

#include "checkpoint_files.hpp"
#include "torch_fixture.hpp"

namespace dc = descent;
namespace nn = descent::nn;
using Catch::Contains;

namespace {

const std::string kDir = std::string(DESCENT_FIXTURE_DIR) + "/interop/";

struct LstmModel : nn::Module {
    nn::Embedding& embed = register_module("embed", nn::Embedding(20, 8));
    nn::LSTM& lstm = register_module("lstm", nn::LSTM(8, 16, {.batch_first = true}));
    nn::Linear& fc = register_module("fc", nn::Linear(16, 3));
    dc::Tensor forward(const dc::Tensor& x) override { return fc(lstm(embed(x)).output); }
};

struct TransformerModel : nn::Module {
    nn::TransformerEncoder& encoder = register_module(
        "encoder",
        nn::TransformerEncoder(
            nn::TransformerEncoderLayer(16, 2, {.dim_feedforward = 32, .batch_first = true}), 2));
    nn::Linear& fc = register_module("fc", nn::Linear(16, 4));
    dc::Tensor forward(const dc::Tensor& x) override { return fc(encoder(x)); }
};

/// Loads the model's .pt and .safetensors files (which must hold the same tensors), and checks
/// its eval-mode output on the fixture's input against torch's.
void check_parity(nn::Module& model, const std::string& name) {
    const dc::StateDict from_pt = nn::load_torch(kDir + name + ".pt");
    const dc::StateDict from_safetensors = nn::load(kDir + name + ".safetensors");
    REQUIRE(from_pt.size() == model.state_dict().size());
    for (const auto& [key, t] : from_pt) {
        INFO(key);
        CHECK(t.dtype() == (key.ends_with("num_batches_tracked") ? dc::int64 : dc::float32));
        REQUIRE(from_safetensors.contains(key));
        CHECK(dc::test::raw_bytes(t) == dc::test::raw_bytes(from_safetensors.at(key)));
    }
    model.eval();
    const dc::testing::TorchFixture io("interop/" + name + "_io.safetensors");
    for (const dc::StateDict* state : {&from_pt, &from_safetensors}) {
        model.load_state_dict(*state);  // strict: every key matches by name
        const dc::NoGradGuard no_grad;
        // float32 throughout, as torch: the two differ only in the order of float32 sums (a
        // few dozen terms per dot product, three to five layers deep), which moves results by
        // a few ulps; 1e-5 of the largest output magnitude is ~100 ulps, far below any
        // difference a wrong weight, layout or gate order would make.
        dc::testing::check_close(model(io.at("input")), io.at("output"), name, 1e-5);
    }
}

bool same_float(float a, float b) {
    return std::isnan(a) ? std::isnan(b)
                         : std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b);
}

}  // namespace

TEST_CASE("a CNN trained in PyTorch computes torch's outputs in descent", "[nn][interop]") {
    nn::Sequential model{nn::Conv2d(2, 4, 3, {.padding = 1}),
                         nn::BatchNorm2d(4),
                         nn::ReLU(),
                         nn::MaxPool2d(2),
                         nn::Flatten(),
                         nn::Linear(64, 5)};
    check_parity(model, "cnn");
}

TEST_CASE("an LSTM model trained in PyTorch computes torch's outputs", "[nn][interop]") {
    LstmModel model;
    check_parity(model, "lstm");
}

TEST_CASE("a transformer trained in PyTorch computes torch's outputs", "[nn][interop]") {
    TransformerModel model;
    check_parity(model, "transformer");
}

TEST_CASE("safetensors F16, BF16 and integer dtypes convert exactly", "[nn][interop]") {
    const dc::StateDict state = nn::load(kDir + "dtypes.safetensors");
    for (const std::string name : {"f16", "bf16"}) {
        INFO(name);
        const dc::Tensor& got = state.at(name);
        const dc::Tensor& expected = state.at("expected." + name);  // torch's .float()
        REQUIRE(got.dtype() == dc::float32);
        REQUIRE(got.shape() == expected.shape());
        for (std::int64_t i = 0; i < got.numel(); ++i) {  // bit for bit: subnormals, ±0, inf
            INFO("element " << i << ": " << got.data<float>()[i] << " vs "
                            << expected.data<float>()[i]);
            CHECK(same_float(got.data<float>()[i], expected.data<float>()[i]));
        }
    }
    for (const std::string name : {"i8", "u8", "i16", "i32"}) {
        INFO(name);
        CHECK(state.at(name).dtype() == dc::int64);
        CHECK(state.at(name).shape() == state.at("expected." + name).shape());
        CHECK(state.at(name).to_vector() == state.at("expected." + name).to_vector());
    }
    const dc::Tensor& flags = state.at("bool");
    CHECK(flags.dtype() == dc::boolean);
    CHECK(flags.shape() == dc::Shape{1, 3});
    CHECK(flags.to_vector() == std::vector<double>{1, 0, 1});
}

TEST_CASE("half_to_float is exact for every float16 bit pattern", "[nn][interop]") {
    // Every one of the 65536 patterns through the loader, against float16's definition:
    // (−1)^s · 2^(e−15) · (1 + m/1024), subnormals 2^−14 · m/1024, e = 31 inf or NaN.
    std::string data;
    for (std::uint32_t bits = 0; bits < 65536; ++bits) {
        data += static_cast<char>(bits & 0xFF);
        data += static_cast<char>(bits >> 8);
    }
    std::string header = R"({"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}})";
    header.append((8 - header.size() % 8) % 8, ' ');
    std::string file(8, '\0');
    file[0] = static_cast<char>(header.size());
    const dc::Tensor t = nn::from_safetensors(file + header + data).tensors.at(0).second;
    for (std::uint32_t bits = 0; bits < 65536; ++bits) {
        const int sign = (bits >> 15) != 0 ? -1 : 1;
        const auto e = static_cast<int>((bits >> 10) & 0x1F);
        const auto m = static_cast<double>(bits & 0x3FF);
        const double expected = e == 31  ? (m == 0 ? sign * INFINITY : NAN)
                                : e == 0 ? sign * std::ldexp(m / 1024, -14)
                                         : sign * std::ldexp(1 + m / 1024, e - 15);
        const float got = t.data<float>()[bits];
        if (std::isnan(expected)
                ? !std::isnan(got)
                : (got != expected || std::signbit(got) != std::signbit(expected))) {
            FAIL("float16 0x" << std::hex << bits << " gave " << got << ", expected " << expected);
        }
    }
    SUCCEED("all 65536 float16 values are exact");
}

TEST_CASE("torch.save views, shared storages and every storage type load", "[nn][interop]") {
    const dc::StateDict got = nn::load_torch(kDir + "views.pt");
    const dc::StateDict expected = nn::load(kDir + "views_expected.safetensors");
    REQUIRE(got.size() == expected.size());
    for (const auto& [name, t] : got) {
        INFO(name);
        REQUIRE(expected.contains(name));
        const dc::Tensor& e = expected.at(name);
        CHECK(t.dtype() == e.dtype());
        CHECK(t.shape() == e.shape());
        CHECK(dc::test::raw_bytes(t) == dc::test::raw_bytes(e));  // gathered and converted exactly
    }
}

TEST_CASE("deflated entries and the zip64 end record are read", "[nn][interop]") {
    const dc::StateDict stored = nn::load_torch(kDir + "views.pt");
    const dc::StateDict deflated = nn::load_torch(kDir + "views_deflated.pt");
    dc::test::require_identical(deflated, stored);
    // torch writes a zip64 end record beside the classic one; saturate the classic one's
    // counts and offsets so that only the zip64 record can say where the directory is.
    std::string bytes = dc::test::read_file(kDir + "cnn.pt");
    const std::size_t end = bytes.size() - 22;
    for (std::size_t i = end + 8; i < end + 20; ++i) bytes[i] = '\xFF';
    dc::test::require_identical(nn::from_torch(bytes).tensors, nn::load_torch(kDir + "cnn.pt"));
}

TEST_CASE("load_state_dict converts between float32 and float64 as torch's copy_",
          "[nn][interop]") {
    nn::Sequential model{nn::Linear(3, 2), nn::BatchNorm1d(2)};
    dc::StateDict state = model.state_dict();
    for (auto& [name, t] : state) {
        if (dc::is_floating(t.dtype())) t = dc::full(t.shape(), 0.25, {.dtype = dc::float64});
    }
    model.load_state_dict(state);
    CHECK(model.state_dict().at("0.weight").dtype() == dc::float32);
    CHECK(model.state_dict().at("0.weight").to_vector() == std::vector<double>(6, 0.25));

    // Beyond float32's range a float64 value becomes inf, which no parameter may hold; an
    // int64 tensor in a float slot (or the other way round) is never converted. All problems
    // are listed in one error, with the missing and unexpected keys.
    state["0.weight"] = dc::full({2, 3}, 1e300, {.dtype = dc::float64});
    state["0.bias"] = dc::zeros({2}, {.dtype = dc::int64});
    state["1.num_batches_tracked"] = dc::scalar_tensor(0.0, {.dtype = dc::float64});
    state.erase("1.bias");
    state.emplace("2.weight", dc::zeros({1}));
    CHECK_THROWS_WITH(model.load_state_dict(state),
                      Contains("missing keys [1.bias]") && Contains("unexpected keys [2.weight]") &&
                          Contains("0.weight: element 0 is inf") &&
                          Contains("0.bias: checkpoint int64 [2]") &&
                          Contains("1.num_batches_tracked: checkpoint float64 []"));
}
