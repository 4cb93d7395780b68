// The data helpers: mini-batch loader, standardisation, curriculum ordering.

#include <algorithm>
#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;

TEST_CASE("the loader covers every row once per epoch, reshuffled, seeded", "[nn][data]") {
    const dc::Tensor x = dc::arange(0, 10).reshape({10, 1});
    const dc::Tensor y = dc::arange(0, 10, 1, {.dtype = dc::int64});
    data::DataLoader loader(x, y, {.batch_size = 4, .seed = 9});
    CHECK(loader.batches() == 3);
    std::vector<std::vector<double>> epochs;
    for (int epoch = 0; epoch < 2; ++epoch) {
        std::vector<double> seen;
        std::vector<std::int64_t> sizes;
        for (auto& [xb, yb] : loader) {
            sizes.push_back(xb.size(0));
            CHECK(xb.reshape({-1}).to_vector() == yb.to_vector());  // rows stay paired
            for (const double v : xb.to_vector()) seen.push_back(v);
        }
        CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
        epochs.push_back(seen);
        std::sort(seen.begin(), seen.end());
        CHECK(seen == dc::arange(0, 10).to_vector());
    }
    CHECK(epochs[0] != epochs[1]);  // a new order each epoch
    data::DataLoader again(x, y, {.batch_size = 4, .seed = 9});
    std::vector<double> first;
    for (auto& [xb, yb] : again) {
        for (const double v : xb.to_vector()) first.push_back(v);
    }
    CHECK(first == epochs[0]);  // same seed, same order
}

TEST_CASE("the loader without shuffling, and drop_last", "[nn][data]") {
    const dc::Tensor x = dc::arange(0, 7).reshape({7, 1});
    data::DataLoader plain(x, x, {.batch_size = 3, .shuffle = false, .drop_last = true});
    std::vector<double> seen;
    for (auto& batch : plain) {
        for (const double v : batch.x.to_vector()) seen.push_back(v);
    }
    CHECK(seen == std::vector<double>{0, 1, 2, 3, 4, 5});
    CHECK_THROWS_WITH(data::DataLoader(x, dc::ones({6}), {}),
                      Catch::Contains("[7,1]") && Catch::Contains("[6]"));
}

TEST_CASE("standardisation is fitted on training data only", "[nn][data]") {
    const dc::Tensor train = dc::tensor({1, 5, 3, 5, 5, 5}, {3, 2}, {.dtype = dc::float64});
    data::Standardizer scaler;
    const dc::Tensor z = scaler.fit_transform(train);
    CHECK(scaler.mean().to_vector() == std::vector<double>{3, 5});
    CHECK(scaler.std().at({0}) == Approx(std::sqrt(8.0 / 3)).epsilon(1e-15));
    CHECK(scaler.std().at({1}) == 1.0);  // constant feature: scale 1, value 0
    CHECK(z.mean({0}).to_vector()[0] == Approx(0.0).margin(1e-15));
    CHECK(z.var({0}, false).at({0}) == Approx(1.0).epsilon(1e-14));
    CHECK(z.at({0, 1}) == 0.0);
    const dc::Tensor test = dc::tensor({3, 7}, {1, 2}, {.dtype = dc::float64});
    CHECK(scaler.transform(test).to_vector() == std::vector<double>{0, 2});  // train's statistics
    CHECK_THROWS_AS(data::Standardizer().transform(test), dc::Error);
    CHECK_THROWS_AS(scaler.transform(dc::ones({2, 3}, {.dtype = dc::float64})), dc::ShapeError);
}

TEST_CASE("curriculum order and growing subsets", "[nn][data]") {
    const dc::Tensor difficulty = dc::tensor({0.9, 0.1, 0.5, 0.1, 0.7}, {5});
    const dc::Tensor order = data::curriculum_order(difficulty);
    CHECK(order.to_int_vector() == std::vector<std::int64_t>{1, 3, 2, 4, 0});
    CHECK(data::curriculum_subset(order, 0, 4, 0.4).numel() == 2);
    CHECK(data::curriculum_subset(order, 2, 4, 0.4).numel() == 4);  // 0.7 · 5 = 3.5 → 4
    CHECK(data::curriculum_subset(order, 4, 4, 0.4).numel() == 5);
    CHECK(data::curriculum_subset(order, 9, 4, 0.4).to_int_vector() == order.to_int_vector());
}
