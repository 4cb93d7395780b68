// The README's data and training-state snippets, as written there (keep the two in step).

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <descent/optim.hpp>
#include <filesystem>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
namespace opt = descent::optim;

TEST_CASE("README: data in, metrics out, one checkpoint", "[readme]") {
    const auto dir = std::filesystem::temp_directory_path() / "descent_readme_test";
    std::filesystem::create_directories(dir);
    const auto old = std::filesystem::current_path();
    std::filesystem::current_path(dir);
    std::filesystem::create_directories("data");
    std::filesystem::copy_file(data::data_directory() / "wine.csv", "data/wine.csv",
                               std::filesystem::copy_options::overwrite_existing);

    dc::manual_seed(0);
    nn::Sequential model{nn::Linear(4, 16), nn::ReLU(), nn::Linear(16, 3)};
    auto iris = data::iris();  // also digits(), wine(); data/README.md
    auto table =
        data::read_csv("data/wine.csv", {.skip_lines = 1});  // features [178,13], targets int64
    CHECK(table.features.shape() == dc::Shape{178, 13});
    auto parts = data::train_val_test_split(
        iris.features, iris.labels, {.validation = 0.1, .test = 0.2, .stratify = true, .seed = 7});
    data::Standardizer scaler;
    auto x_train = scaler.fit_transform(parts.x_train);  // fitted on training rows only
    data::DataLoader loader(x_train, parts.y_train, {.batch_size = 16});
    opt::Adam optimizer(model.parameters(), {.lr = 0.05});
    opt::LRScheduler schedule(optimizer, opt::cosine(100));
    for (int epoch = 0; epoch < 15; ++epoch) {
        for (auto& [x, y] : loader) {
            const dc::Tensor loss = nn::cross_entropy(model(x), y);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            schedule.step();
        }
    }
    auto report = data::classification_report(model(scaler.transform(parts.x_test)), parts.y_test);
    CHECK(report.accuracy > 0.85);
    CHECK(report.f1.size() == 3);

    std::int64_t step = 0;
    std::vector<double> losses{0.9, 0.5};  // the run's own values, by reference
    std::string settings = "adamw, cosine, seed 0";
    data::TrainingState state;
    state.add("model", model)
        .add("optimizer", optimizer)
        .add("scheduler", schedule)
        .add("loader", loader)
        .add("scaler", scaler)
        .add_generator()
        .add("step", step)
        .add("losses", losses)
        .add("settings", settings);
    state.save("run.safetensors");  // keys "<component>.<key>": "model.0.weight",
    losses.clear();
    settings.clear();
    state.load("run.safetensors");  // "optimizer.state.0.0.exp_avg", ...
    CHECK(std::filesystem::exists("run.safetensors"));
    CHECK(losses == std::vector<double>{0.9, 0.5});
    CHECK(settings == "adamw, cosine, seed 0");

    std::filesystem::current_path(old);
    std::filesystem::remove_all(dir);
}
