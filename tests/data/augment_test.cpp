// Image augmentation: exact results (the identity crop, flips with p = 1 and 0, every crop a
// window of the image padded by descent's pad(), torch's padding), per-sample draws, a flip
// rate within its binomial bound, bit-identical batches after a mid-epoch save and restore,
// and clear Errors for bad options and inputs.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

#include <cmath>
#include <limits>
#include <set>

#include "../nn/checkpoint_files.hpp"

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;
using descent::test::TempDir;

static_assert(dc::Stateful<data::RandomCrop>);
static_assert(dc::Stateful<data::RandomHorizontalFlip>);
static_assert(dc::Stateful<data::Compose>);

namespace {
/// A batch [n, c, h, w] of distinct values.
dc::Tensor batch(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                 dc::Dtype dtype = dc::float32) {
    return dc::arange(0, static_cast<double>(n * c * h * w), 1, {.dtype = dtype})
        .reshape({n, c, h, w});
}

bool same(const dc::Tensor& a, const dc::Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector() == b.to_vector();
}
}  // namespace

TEST_CASE("RandomCrop of the image's size without padding is the identity",
          "[data-images][augment]") {
    const dc::Tensor x = batch(5, 3, 6, 7);
    data::RandomCrop crop({6, 7}, {.seed = 3});
    CHECK(same(crop(x), x));
    const dc::Tensor ints = batch(2, 1, 4, 4, dc::int64);
    CHECK(same(data::RandomCrop(4, {.seed = 1})(ints), ints));
    CHECK(data::RandomCrop(4, {.padding = 2})(batch(0, 3, 4, 4)).shape() == dc::Shape{0, 3, 4, 4});
}

TEST_CASE("RandomCrop: every crop is a window of the image padded as pad() pads it",
          "[data-images][augment]") {
    const dc::Tensor x = batch(16, 2, 5, 6, dc::float64);
    const std::pair<data::PaddingMode, dc::PadMode> modes[] = {
        {data::PaddingMode::zeros, dc::PadMode::constant},
        {data::PaddingMode::reflect, dc::PadMode::reflect},
        {data::PaddingMode::replicate, dc::PadMode::replicate}};
    for (const auto& [mode, pad_mode] : modes) {
        data::RandomCrop crop({4, 5}, {.padding = 3, .padding_mode = mode, .seed = 11});
        const dc::Tensor out = crop(x);
        REQUIRE(out.shape() == dc::Shape{16, 2, 4, 5});
        const dc::Tensor padded = dc::pad(x, {3, 3, 3, 3}, pad_mode);  // [16, 2, 11, 12]
        std::set<std::pair<std::int64_t, std::int64_t>> corners;
        for (std::int64_t n = 0; n < 16; ++n) {
            const dc::Tensor sample = out.slice(0, n, n + 1);
            bool found = false;
            for (std::int64_t top = 0; top <= 7 && !found; ++top) {
                for (std::int64_t left = 0; left <= 7 && !found; ++left) {
                    const dc::Tensor window =
                        padded.slice(0, n, n + 1).slice(2, top, top + 4).slice(3, left, left + 5);
                    if (same(window, sample)) {
                        found = true;
                        corners.insert({top, left});
                    }
                }
            }
            CHECK(found);
        }
        CHECK(corners.size() > 4);  // per-sample draws: the 16 samples are not cropped alike
    }
}

TEST_CASE("RandomHorizontalFlip: p = 1 flips every sample, p = 0 none", "[data-images][augment]") {
    const dc::Tensor x = batch(4, 3, 2, 5);
    data::RandomHorizontalFlip always(1.0, 7);
    CHECK(same(always(x), dc::flip(x, {3})));
    data::RandomHorizontalFlip never(0.0, 7);
    CHECK(same(never(x), x));
    CHECK(data::RandomHorizontalFlip(0.5, 1)(batch(0, 3, 2, 2)).shape() == dc::Shape{0, 3, 2, 2});
}

TEST_CASE("RandomHorizontalFlip: at p = 0.5 the flips are binomial, per sample",
          "[data-images][augment]") {
    // 10000 one-pixel-wide-distinct samples: a sample is flipped iff its first column changed.
    // The count is Binomial(10000, 0.5): mean 5000, σ = 50; with seed 2024 it must lie within
    // 4σ (a fair generator falls outside with probability 6e-5).
    const std::int64_t n = 10000;
    const dc::Tensor x = dc::arange(0, 2, 1).reshape({1, 1, 1, 2}).expand({n, 1, 1, 2}).clone();
    data::RandomHorizontalFlip flip(0.5, 2024);
    const std::vector<double> out = flip(x).to_vector();
    std::int64_t flipped = 0, runs = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const bool f = out[static_cast<std::size_t>(2 * i)] == 1.0;
        flipped += f;
        if (i > 0) runs += f != (out[static_cast<std::size_t>(2 * i - 2)] == 1.0);
    }
    CHECK(std::abs(flipped - 5000) <= 200);
    // independent draws change state about every other sample: runs ≈ 4999.5 ± 50
    CHECK(std::abs(runs - 5000) <= 200);
}

TEST_CASE("augmentation resumes bit-identically from a mid-epoch checkpoint",
          "[data-images][augment][state]") {
    const auto make = [](std::uint64_t seed) {
        return data::Compose(
            data::RandomCrop(
                6, {.padding = 2, .padding_mode = data::PaddingMode::reflect, .seed = seed}),
            data::RandomHorizontalFlip(0.5, seed + 1));
    };
    const dc::Tensor x = batch(8, 3, 6, 6);
    data::Compose run = make(42);
    for (int k = 0; k < 3; ++k) run(x);  // k batches
    TempDir dir;
    data::TrainingState state;
    state.add("augment", run);
    state.save(dir.path / "run.safetensors");
    std::vector<dc::Tensor> expected;
    for (int m = 0; m < 4; ++m) expected.push_back(run(x));  // m more

    data::Compose resumed = make(999);  // another seed: the state replaces it
    data::TrainingState load;
    load.add("augment", resumed);
    load.load(dir.path / "run.safetensors");
    for (int m = 0; m < 4; ++m) CHECK(same(resumed(x), expected[static_cast<std::size_t>(m)]));
    // and through state_dict directly, one transform at a time
    data::RandomCrop a(4, {.padding = 1, .seed = 5});
    a(x);
    data::RandomCrop b(4, {.padding = 1, .seed = 6});
    b.load_state_dict(a.state_dict());
    CHECK(same(a(x), b(x)));
    CHECK(!same(make(1)(x), make(2)(x)));  // the seed matters
}

TEST_CASE("augmentation: unseeded transforms draw their seeds from manual_seed",
          "[data-images][augment]") {
    const dc::Tensor x = batch(16, 1, 4, 4);
    dc::manual_seed(5);
    data::RandomCrop first(4, {.padding = 2});
    data::RandomCrop second(4, {.padding = 2});
    const dc::Tensor a = first(x), b = second(x);
    CHECK(!same(a, b));  // two transforms, two streams
    dc::manual_seed(5);
    data::RandomCrop again(4, {.padding = 2});
    CHECK(same(again(x), a));
}

TEST_CASE("augmentation: bad options, inputs and states are clear Errors",
          "[data-images][augment][hostile]") {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(data::RandomHorizontalFlip(nan),
                      Contains("RandomHorizontalFlip") && Contains("p"));
    CHECK_THROWS_WITH(data::RandomHorizontalFlip(1.5), Contains("RandomHorizontalFlip"));
    CHECK_THROWS_WITH(data::RandomHorizontalFlip(-0.1), Contains("RandomHorizontalFlip"));
    CHECK_THROWS_WITH(data::RandomCrop(4, {.padding = -1}),
                      Contains("RandomCrop") && Contains("padding"));
    CHECK_THROWS_WITH(data::RandomCrop(0), Contains("RandomCrop") && Contains("size"));
    CHECK_THROWS_WITH(data::RandomCrop({4, -2}), Contains("size (width)"));
    CHECK_THROWS_WITH(data::RandomCrop({1, 2, 3}), Contains("RandomCrop") && Contains("size"));

    data::RandomCrop crop(8, {.padding = 1});
    CHECK_THROWS_WITH(crop(batch(2, 1, 5, 9)),
                      Contains("RandomCrop: crop size [8, 8] is larger than the padded images") &&
                          Contains("[2,1,5,9]") && Contains("7, 11"));
    CHECK_THROWS_WITH(crop(batch(1, 3, 8, 8).reshape({3, 8, 8})),
                      Contains("RandomCrop") && Contains("[N, C, H, W]") && Contains("[3,8,8]"));
    CHECK_THROWS_WITH(crop(dc::Tensor{}), Contains("undefined"));
    CHECK_THROWS_WITH(crop(dc::zeros({2, 1, 0, 9})), Contains("without pixels"));
    data::RandomCrop reflect(3, {.padding = 3, .padding_mode = data::PaddingMode::reflect});
    CHECK_THROWS_WITH(reflect(batch(1, 1, 3, 5)),
                      Contains("reflect padding 3") && Contains("[1,1,3,5]"));
    // a padding so large that H + 2·padding overflows: zeros, never a wrapped size
    data::RandomCrop huge(2, {.padding = std::numeric_limits<std::int64_t>::max() / 2});
    CHECK(huge(batch(1, 1, 2, 2)).shape() == dc::Shape{1, 1, 2, 2});
    data::RandomHorizontalFlip flip;
    CHECK_THROWS_WITH(flip(dc::zeros({4, 4})),
                      Contains("RandomHorizontalFlip") && Contains("[4,4]"));

    // a state of another transform, or of another configuration, is refused
    CHECK_THROWS_WITH(flip.load_state_dict(crop.state_dict()), Contains("RandomHorizontalFlip"));
    CHECK_THROWS_WITH(data::RandomCrop(7, {.padding = 1}).load_state_dict(crop.state_dict()),
                      Contains("RandomCrop(size=[7, 7]"));
    data::Compose both(data::RandomCrop(4), data::RandomHorizontalFlip());
    data::Compose other(data::RandomHorizontalFlip(), data::RandomCrop(4));
    CHECK_THROWS_WITH(both.load_state_dict(other.state_dict()), Contains("Compose"));
    CHECK_THROWS_WITH(data::Compose(std::vector<std::shared_ptr<data::Transform>>{nullptr}),
                      Contains("Compose: transform 0 is null"));
    CHECK_THROWS_WITH(both[2], Contains("Compose: transform 2"));
    CHECK(both.config() ==
          "Compose(RandomCrop(size=[4, 4], padding=0, padding_mode=zeros), "
          "RandomHorizontalFlip(p=0.5))");
}
