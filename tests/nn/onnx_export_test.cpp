// export_onnx: every supported layer and several Sequential models are exported into
// DESCENT_ONNX_DIR with an input of another batch size than the example's and descent's output
// for it (raw little-endian files, and a manifest <name>.json per model). ONNX Runtime
// (tools/onnx_runtime_check.mjs) and ONNX's checker (tools/onnx_checker.py) read them in the
// ctest tests onnx_runtime_check and onnx_checker. Then what export_onnx refuses.

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <descent/autograd.hpp>
#include <descent/nn.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dc = descent;
namespace nn = descent::nn;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = DESCENT_ONNX_DIR;

/// Writes bytes to path through a temporary and a rename (the ctest run may export the same
/// model from two processes at once).
void write_atomically(const fs::path& path, const std::string& bytes) {
    const fs::path temp = path.string() + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(temp, std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        REQUIRE(out.good());
    }
    fs::rename(temp, path);
}

nlohmann::json tensor_file(const fs::path& path, const dc::Tensor& t) {
    const std::size_t element = t.dtype() == dc::float32 ? 4 : 8;
    write_atomically(path, std::string(static_cast<const char*>(t.raw_data()),
                                       static_cast<std::size_t>(t.numel()) * element));
    return {{"file", path.filename().string()},
            {"dtype", dc::dtype_name(t.dtype())},
            {"shape", t.shape()}};
}

/// Exports model at example's batch size; saves `check` (another batch size) and descent's
/// output for it, and the manifest naming all three.
/// ort_lacks: the kernel ONNX Runtime's CPU build is known to lack for this model ("Conv(11)":
/// Conv in float64), which the runtime check then expects it to name.
void export_case(const std::string& name, nn::Module& model, const dc::Tensor& example,
                 const dc::Tensor& check, const std::string& ort_lacks = {}) {
    fs::create_directories(kDir);
    const fs::path file = kDir / (name + ".onnx");
    const bool training = model.is_training();
    const dc::Tensor reference = nn::export_onnx(model, example, file);
    CHECK(model.is_training() == training);  // restored
    CHECK(fs::is_regular_file(file));
    CHECK(reference.defined());
    model.eval();
    dc::Tensor out;
    {
        const dc::NoGradGuard no_grad;
        if (auto* lstm = dynamic_cast<nn::LSTM*>(&model)) {
            out = lstm->forward(check).output;
        } else if (auto* gru = dynamic_cast<nn::GRU*>(&model)) {
            out = gru->forward(check).output;
        } else if (auto* rnn = dynamic_cast<nn::RNN*>(&model)) {
            out = rnn->forward(check).output;
        } else {
            out = model(check);
        }
    }
    model.train(training);
    nlohmann::json manifest = {{"name", name},
                               {"model", file.filename().string()},
                               {"input", tensor_file(kDir / (name + ".input.bin"), check)},
                               {"output", tensor_file(kDir / (name + ".output.bin"), out)}};
    if (!ort_lacks.empty()) manifest["onnxruntime_lacks"] = ort_lacks;
    write_atomically(kDir / (name + ".json"), manifest.dump(2));
}

/// Batch norm's running statistics moved away from 0 and 1 by a few training batches.
void warm_up(nn::Module& model, const dc::Shape& shape, dc::Dtype dtype = dc::float32) {
    if (dynamic_cast<nn::RecurrentLayer*>(&model)) return;  // no statistics
    model.train();
    const dc::NoGradGuard no_grad;
    for (int k = 0; k < 3; ++k) {
        (void)model(dc::randn(shape, {.dtype = dtype}) * 2.0 + 0.5);
    }
}

dc::Shape with_batch(dc::Shape s, std::int64_t n) {
    s[0] = n;
    return s;
}

void export_randn(const std::string& name, nn::Module& model, const dc::Shape& shape,
                  dc::Dtype dtype = dc::float32, const std::string& ort_lacks = {}) {
    warm_up(model, shape, dtype);
    export_case(name, model, dc::randn(shape, {.dtype = dtype}),
                dc::randn(with_batch(shape, shape[0] + 2), {.dtype = dtype}), ort_lacks);
}

std::size_t files_in(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

struct Custom : nn::Module {
    dc::Tensor forward(const dc::Tensor& x) override { return x * 2.0; }
};

}  // namespace

TEST_CASE("export_onnx: an MLP with every activation", "[onnx]") {
    dc::manual_seed(1);
    nn::Sequential mlp{nn::Linear(8, 16),
                       nn::ReLU(),
                       nn::Dropout(0.3),
                       nn::Linear(16, 16),
                       nn::Tanh(),
                       nn::Linear(16, 16, false),
                       nn::Sigmoid(),
                       nn::LeakyReLU(0.2),
                       nn::Linear(16, 12),
                       nn::GELU(),
                       nn::Softplus(2.0, 1.0),
                       nn::Identity(),
                       nn::GELU(dc::GeluApproximation::tanh),
                       nn::Linear(12, 4)};
    export_randn("mlp", mlp, {3, 8});
}

TEST_CASE("export_onnx: a float64 MLP with batch and layer norm", "[onnx]") {
    dc::manual_seed(2);
    nn::Sequential mlp{nn::Linear(6, 10),   nn::BatchNorm1d(10), nn::ReLU(),
                       nn::LayerNorm({10}), nn::Linear(10, 3),   nn::Tanh()};
    mlp.to(dc::float64);
    export_randn("mlp_float64", mlp, {4, 6}, dc::float64);
}

TEST_CASE("export_onnx: a float64 CNN", "[onnx]") {
    dc::manual_seed(13);
    nn::Sequential cnn{nn::Conv2d(2, 4, 3, {.padding = 1}),
                       nn::BatchNorm2d(4),
                       nn::ReLU(),
                       nn::MaxPool2d(2),
                       nn::GroupNorm(2, 4),
                       nn::AdaptiveAvgPool2d(1),
                       nn::Flatten(),
                       nn::Linear(4, 3)};
    cnn.to(dc::float64);
    // Valid ONNX (the checker passes it), but ONNX Runtime's CPU Conv is float32 only.
    export_randn("cnn_float64", cnn, {2, 2, 8, 8}, dc::float64, "Conv(11)");
    // What ONNX Runtime's CPU build runs in float64 (it has no float64 AveragePool,
    // GlobalMaxPool, Erf or Softplus either).
    nn::Sequential pools{nn::MaxPool2d(2),      nn::GroupNorm(2, 4), nn::MaxPool2d(2),
                         nn::InstanceNorm2d(4), nn::Sigmoid(),       nn::MaxPool2d(2),
                         nn::Flatten(),         nn::LeakyReLU(),     nn::Linear(4, 3)};
    pools.to(dc::float64);
    export_randn("norms_float64", pools, {2, 4, 8, 8}, dc::float64);
}

TEST_CASE("export_onnx: linear layers and layer norm over [N, T, F]", "[onnx]") {
    dc::manual_seed(3);
    nn::Sequential model{nn::Linear(5, 8),
                         nn::GELU(),
                         nn::LayerNorm({8}),
                         nn::Linear(8, 8, false),
                         nn::LayerNorm({4, 8}, 1e-3, false),
                         nn::Flatten(1, 2),
                         nn::Linear(32, 2)};
    export_randn("sequence_mlp", model, {2, 4, 5});
}

TEST_CASE("export_onnx: a LeNet-like CNN with batch norm and pooling", "[onnx]") {
    dc::manual_seed(4);
    nn::Sequential lenet{nn::Conv2d(1, 6, 5, {.padding = 2}),
                         nn::BatchNorm2d(6),
                         nn::ReLU(),
                         nn::MaxPool2d(2),
                         nn::Conv2d(6, 16, 5),
                         nn::BatchNorm2d(16),
                         nn::ReLU(),
                         nn::AvgPool2d(2),
                         nn::Flatten(),
                         nn::Linear(16 * 2 * 2, 32),
                         nn::BatchNorm1d(32),
                         nn::ReLU(),
                         nn::Dropout(0.5),
                         nn::Linear(32, 10)};
    export_randn("lenet", lenet, {3, 1, 16, 16});
}

TEST_CASE("export_onnx: a depthwise-separable block, nested", "[onnx]") {
    dc::manual_seed(5);
    nn::Sequential block{nn::Conv2d(8, 8, 3, {.padding = "same", .groups = 8, .bias = false}),
                         nn::BatchNorm2d(8),
                         nn::ReLU(),
                         nn::Conv2d(8, 16, 1, {.bias = false}),
                         nn::BatchNorm2d(16),
                         nn::ReLU()};
    nn::Sequential model{nn::Conv2d(3, 8, 3, {.stride = 2, .padding = 1}),
                         nn::ReLU(),
                         std::move(block),
                         nn::Dropout2d(0.2),
                         nn::AdaptiveAvgPool2d(1),
                         nn::Flatten(),
                         nn::Linear(16, 5)};
    export_randn("depthwise_separable", model, {2, 3, 12, 12});
}

TEST_CASE("export_onnx: convolution options", "[onnx]") {
    dc::manual_seed(6);
    nn::Sequential model{
        nn::Conv2d(3, 4, {3, 2}, {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}}),
        nn::Conv2d(4, 4, 3, {.padding = 1, .padding_mode = dc::PadMode::reflect}),
        nn::Conv2d(4, 6, 3,
                   {.padding = "same",
                    .dilation = 2,
                    .groups = 2,
                    .padding_mode = dc::PadMode::replicate}),
        nn::Conv2d(6, 2, 4, {.padding = "same"}),  // even kernel: the odd pad on the right
        nn::ReLU()};
    export_randn("conv2d_options", model, {2, 3, 11, 9});
}

TEST_CASE("export_onnx: 1-d convolution and pooling", "[onnx]") {
    dc::manual_seed(7);
    nn::Sequential model{nn::Conv1d(4, 6, 3, {.padding = 1}),
                         nn::BatchNorm1d(6),
                         nn::ReLU(),
                         nn::MaxPool1d(3, {.stride = 2, .padding = 1, .ceil_mode = true}),
                         nn::Conv1d(6, 6, 3, {.dilation = 2, .groups = 3}),
                         nn::MaxPool1d(2, {.dilation = 2}),
                         nn::AvgPool1d(2, {.stride = 1}),
                         nn::AdaptiveMaxPool1d(1),
                         nn::Flatten(),
                         nn::Linear(6, 3)};
    export_randn("conv1d", model, {3, 4, 20});
}

TEST_CASE("export_onnx: pooling options", "[onnx]") {
    dc::manual_seed(8);
    nn::Sequential model{
        nn::MaxPool2d(3, {.stride = 2, .padding = 1, .ceil_mode = true}),
        nn::AvgPool2d(3,
                      {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}),
        nn::AvgPool2d({2, 1}, {.padding = {1, 0}}),
        nn::MaxPool2d(2, {.stride = 1, .dilation = 2}),
        nn::AdaptiveAvgPool2d({2, 1}),
        nn::AdaptiveMaxPool2d(1)};
    export_randn("pooling", model, {2, 3, 25, 22});
    nn::Sequential ceil{
        nn::MaxPool2d(3, {.stride = 2, .padding = 1, .ceil_mode = true}),
        nn::AvgPool2d(3,
                      {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}),
        nn::AvgPool2d(2, {.stride = 2, .padding = 1, .ceil_mode = true})};
    export_randn("pooling_ceil_mode", ceil, {2, 3, 21, 18});
    nn::Sequential adaptive{nn::AdaptiveAvgPool2d({3, 2}), nn::AdaptiveMaxPool2d({3, 1})};
    export_randn("adaptive_pooling", adaptive, {2, 2, 9, 8});
}

TEST_CASE("export_onnx: transposed convolution, group and instance norm", "[onnx]") {
    dc::manual_seed(9);
    nn::Sequential model{
        nn::ConvTranspose2d(4, 6, 3, {.stride = 2, .padding = 1, .output_padding = 1}),
        nn::GroupNorm(3, 6),
        nn::ReLU(),
        nn::ConvTranspose2d(6, 4, {2, 3}, {.stride = {1, 2}, .groups = 2, .dilation = {2, 1}}),
        nn::InstanceNorm2d(4, 1e-5, 0.1, true),
        nn::GroupNorm(1, 4, 1e-5, false)};
    export_randn("conv_transpose2d", model, {2, 4, 5, 6});
    nn::Sequential seq{nn::ConvTranspose1d(3, 4, 3, {.stride = 3, .bias = false}),
                       nn::InstanceNorm1d(4, 1e-5, 0.1, false, true), nn::Tanh()};
    export_randn("conv_transpose1d", seq, {2, 3, 7});
}

TEST_CASE("export_onnx: an embedding model with int64 input", "[onnx]") {
    dc::manual_seed(10);
    nn::Sequential model{nn::Embedding(20, 8), nn::LayerNorm({8}), nn::Flatten(),
                         nn::Linear(48, 4)};
    export_case("embedding", model, dc::randint(0, 20, {3, 6}), dc::randint(0, 20, {7, 6}));
}

TEST_CASE("export_onnx: recurrent layers", "[onnx]") {
    dc::manual_seed(11);
    nn::LSTM lstm(5, 7, {.num_layers = 2, .batch_first = true, .bidirectional = true});
    export_randn("lstm", lstm, {3, 6, 5});
    nn::LSTM plain(4, 6);  // time-major: the batch is dim 1
    export_case("lstm_time_major", plain, dc::randn({5, 2, 4}), dc::randn({5, 4, 4}));
    nn::GRU gru(5, 6, {.num_layers = 2, .batch_first = true});
    export_randn("gru", gru, {3, 4, 5});
    nn::GRU bigru(3, 4, {.bias = false, .bidirectional = true});
    export_case("gru_bidirectional", bigru, dc::randn({6, 2, 3}), dc::randn({6, 5, 3}));
    nn::RNN rnn(4, 5,
                {.num_layers = 2,
                 .nonlinearity = nn::Nonlinearity::relu,
                 .batch_first = true,
                 .bidirectional = true});
    export_randn("rnn_relu", rnn, {2, 5, 4});
}

TEST_CASE("export_onnx: transformer encoders", "[onnx]") {
    dc::manual_seed(14);
    nn::TransformerEncoderLayer layer(8, 2, {.dim_feedforward = 16, .batch_first = true});
    nn::Sequential model{nn::Embedding(11, 8), std::move(layer), nn::Flatten(),
                         nn::Linear(5 * 8, 3)};
    export_case("transformer_classifier", model, dc::randint(0, 11, {2, 5}),
                dc::randint(0, 11, {4, 5}));
    nn::TransformerEncoderLayer pre(
        8, 4,
        {.dim_feedforward = 12, .activation = nn::TransformerActivation::gelu, .norm_first = true});
    nn::TransformerEncoder encoder(pre, 2, nn::LayerNorm({8}));
    // time-major [L, N, E]: the batch is dim 1
    export_case("transformer_encoder", encoder, dc::randn({6, 2, 8}), dc::randn({6, 3, 8}));
    nn::TransformerEncoderLayer post(6, 3, {.dim_feedforward = 10, .bias = false});
    export_case("transformer_layer_post_norm", post, dc::randn({4, 2, 6}), dc::randn({4, 5, 6}));
}

TEST_CASE("export_onnx: the file maps onto the state_dict's names", "[onnx]") {
    dc::manual_seed(12);
    nn::Sequential model{nn::Linear(3, 4), nn::Sequential{nn::BatchNorm1d(4), nn::Linear(4, 2)}};
    const fs::path file = kDir / "names.onnx";
    fs::create_directories(kDir);
    nn::export_onnx(model, dc::randn({2, 3}), file);
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    for (const auto& [name, t] : model.state_dict()) {
        if (name.ends_with("num_batches_tracked")) continue;
        INFO(name);
        CHECK(bytes.find(name) != std::string::npos);
    }
    CHECK(bytes.find("batch") != std::string::npos);
}

TEST_CASE("export_onnx: a model in training mode is exported as eval and stays training",
          "[onnx]") {
    nn::Sequential model{nn::Linear(3, 4), nn::Dropout(0.9)};
    model.train();
    const fs::path file = kDir / "training.onnx";
    fs::create_directories(kDir);
    const dc::Tensor x = dc::randn({2, 3});
    const dc::Tensor y = nn::export_onnx(model, x, file);
    CHECK(model.is_training());
    // Each module's own flag comes back: a child in eval mode inside a training model too.
    model[1].eval();
    (void)nn::export_onnx(model, x, file);
    CHECK(model.is_training());
    CHECK_FALSE(model[1].is_training());
    CHECK(model[0].is_training());
    model.eval();
    const auto expected = model(x).to_vector();
    const auto got = y.to_vector();
    REQUIRE(got.size() == expected.size());
    for (std::size_t k = 0; k < got.size(); ++k) CHECK(got[k] == expected[k]);
}

TEST_CASE("export_onnx: unsupported modules are named, and nothing is written", "[onnx]") {
    // Per process: ctest runs this case both alone and in onnx_export, maybe at once.
    const fs::path dir = kDir / ("refused." + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path file = dir / "m.onnx";
    nn::Sequential model{
        nn::Linear(3, 4),
        nn::Sequential{nn::ReLU(), nn::Lambda([](const dc::Tensor& x) { return x; })}};
    CHECK_THROWS_WITH(
        nn::export_onnx(model, dc::randn({2, 3}), file),
        Catch::Contains("export_onnx") && Catch::Contains("1.1") && Catch::Contains("Lambda"));
    nn::Sequential custom{nn::Linear(3, 3), Custom{}};
    CHECK_THROWS_WITH(nn::export_onnx(custom, dc::randn({2, 3}), file),
                      Catch::Contains("1 (Custom)"));
    Custom root;
    CHECK_THROWS_WITH(nn::export_onnx(root, dc::randn({2, 3}), file),
                      Catch::Contains("(the model) (Custom)"));
    nn::Sequential circular{
        nn::Conv2d(1, 1, 3, {.padding = 1, .padding_mode = dc::PadMode::circular})};
    CHECK_THROWS_WITH(nn::export_onnx(circular, dc::randn({1, 1, 5, 5}), file),
                      Catch::Contains("0 (Conv2d)") && Catch::Contains("circular"));
    nn::Sequential untracked{nn::Linear(2, 3), nn::BatchNorm1d(3, 1e-5, 0.1, true, false)};
    CHECK_THROWS_WITH(nn::export_onnx(untracked, dc::randn({4, 2}), file),
                      Catch::Contains("1 (BatchNorm1d)") && Catch::Contains("track_running_stats"));
    nn::Sequential odd{nn::AdaptiveAvgPool2d(3)};
    CHECK_THROWS_WITH(nn::export_onnx(odd, dc::randn({1, 1, 7, 7}), file),
                      Catch::Contains("multiple"));
    nn::Sequential divisor{nn::AvgPool2d(2, {.divisor_override = 3})};
    CHECK_THROWS_WITH(nn::export_onnx(divisor, dc::randn({1, 1, 4, 4}), file),
                      Catch::Contains("divisor_override"));
    nn::LSTM projected(3, 4, {.proj_size = 2});
    CHECK_THROWS_WITH(nn::export_onnx(projected, dc::randn({2, 1, 3}), file),
                      Catch::Contains("proj_size"));
    nn::MultiheadAttention mha(4, 2);
    CHECK_THROWS_AS(nn::export_onnx(mha, dc::randn({2, 3, 4}), file), dc::Error);
    nn::Sequential encoder{nn::TransformerEncoder(
        nn::TransformerEncoderLayer(4, 2, {.dim_feedforward = 8, .batch_first = true}), 1)};
    CHECK_NOTHROW(nn::export_onnx(encoder, dc::randn({2, 3, 4}), dir / "ok.onnx"));
    fs::remove(dir / "ok.onnx");
    nn::TransformerEncoderLayer time_major(4, 2, {.dim_feedforward = 8});
    nn::Sequential inside{nn::Linear(4, 4), time_major};
    CHECK_THROWS_WITH(
        nn::export_onnx(inside, dc::randn({2, 3, 4}), file),
        Catch::Contains("1 (TransformerEncoderLayer)") && Catch::Contains("batch must be dim 1"));
    CHECK(files_in(dir) == 0);  // no file, no temporary
    fs::remove_all(dir);
}

TEST_CASE("export_onnx: bad inputs and paths", "[onnx]") {
    const fs::path dir = kDir / ("bad." + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    nn::Sequential model{nn::Linear(3, 2)};
    // The model must run on the example.
    CHECK_THROWS_WITH(nn::export_onnx(model, dc::randn({2, 4}), dir / "m.onnx"),
                      Catch::Contains("export_onnx") && Catch::Contains("example"));
    CHECK_THROWS_AS(nn::export_onnx(model, dc::Tensor{}, dir / "m.onnx"), dc::Error);
    CHECK_THROWS_AS(nn::export_onnx(model, dc::randn({0, 3}), dir / "m.onnx"), dc::ShapeError);
    nn::LSTM lstm(3, 2);  // time-major: an empty batch is dim 1
    CHECK_THROWS_WITH(nn::export_onnx(lstm, dc::randn({4, 0, 3}), dir / "m.onnx"),
                      Catch::Contains("[4,0,3] is empty"));
    CHECK_THROWS_AS(nn::export_onnx(model, dc::tensor({1.0}, {}), dir / "m.onnx"), dc::ShapeError);
    CHECK(files_in(dir) == 0);
    // NaN in the example is no shape problem: exported (the runtime computes NaN as descent).
    CHECK_NOTHROW(nn::export_onnx(model, dc::full({2, 3}, std::nan("")), dir / "nan.onnx"));
    CHECK(fs::remove(dir / "nan.onnx"));
    // Paths: a directory, a FIFO, a missing directory, /proc.
    CHECK_THROWS_WITH(
        nn::export_onnx(model, dc::randn({2, 3}), dir),
        Catch::Contains("export_onnx: cannot write") && Catch::Contains(dir.string()));
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(nn::export_onnx(model, dc::randn({2, 3}), fifo),
                      Catch::Contains("fifo") && Catch::Contains("FIFO"));
    CHECK_THROWS_WITH(nn::export_onnx(model, dc::randn({2, 3}), dir / "missing" / "m.onnx"),
                      Catch::Contains("missing"));
    CHECK_THROWS_WITH(nn::export_onnx(model, dc::randn({2, 3}), "/proc/m.onnx"),
                      Catch::Contains("/proc/m.onnx"));
    CHECK(files_in(dir) == 1);  // the FIFO alone
    fs::remove_all(dir);
}
