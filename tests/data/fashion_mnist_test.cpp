// load_fashion_mnist on Debian's dataset-fashion-mnist (tools/setup-debian.sh installs it; the
// test warns and skips where it is absent), and its checks on files that do not make one data
// set. The reference numbers were computed once, independently of descent, by Python's gzip
// module over the raw files:
//   img = gzip.open(".../train-images-idx3-ubyte.gz").read()[16:]; sum(img), sum(img)/len(img)/255
//   lab = gzip.open(".../train-labels-idx1-ubyte.gz").read()[8:]; lab[:10], lab.count(bytes([c]))
// (and the same for t10k-*): train bytes sum to 3431114169 (mean pixel 0.2860405969887955), test
// bytes to 573469082; every class has 6000 training and 1000 test images.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

#include <filesystem>

#include "../nn/checkpoint_files.hpp"
#include "byte_files.hpp"

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;
using descent::test::idx_bytes;
using descent::test::TempDir;
using descent::test::write_bytes;

namespace {
bool installed() {
    std::error_code ec;
    if (std::filesystem::exists(data::kFashionMnistDirectory, ec)) return true;
    WARN("skipped: Fashion-MNIST is not installed in "
         << data::kFashionMnistDirectory << " (apt-get install dataset-fashion-mnist)");
    return false;
}

std::vector<std::int64_t> class_counts(const dc::Tensor& labels) {
    std::vector<std::int64_t> counts(10, 0);
    for (const std::int64_t y : labels.to_int_vector()) ++counts.at(static_cast<std::size_t>(y));
    return counts;
}
}  // namespace

TEST_CASE("Fashion-MNIST: 60000 training images, as Python reads the files",
          "[data-images][fashion-mnist]") {
    if (!installed()) return;
    const data::ImageDataset train = data::load_fashion_mnist(data::Split::train);
    CHECK(train.name == "fashion-mnist");
    CHECK(train.images.dtype() == dc::float32);
    CHECK(train.images.shape() == dc::Shape{60000, 1, 28, 28});
    CHECK(train.labels.dtype() == dc::int64);
    CHECK(train.labels.shape() == dc::Shape{60000});
    CHECK(train.images.min().item() == 0.0);
    CHECK(train.images.max().item() == 1.0);
    CHECK(class_counts(train.labels) == std::vector<std::int64_t>(10, 6000));
    CHECK(train.labels.slice(0, 0, 10).to_int_vector() ==
          std::vector<std::int64_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
    // the mean pixel: the float32 sum's rounding is far below 1e-6
    CHECK(train.images.to(dc::float64).mean().item() == Approx(0.2860405969887955).epsilon(1e-6));
    // row 14 of image 0, as bytes: exact
    const dc::Tensor row = train.images.slice(0, 0, 1).slice(2, 14, 15).reshape({28}) * 255.0;
    const std::vector<double> bytes{0,   0,   1,   4,   6,   7,   2,   0,   0,   0,
                                    0,   0,   237, 226, 217, 223, 222, 219, 222, 221,
                                    216, 223, 229, 215, 218, 255, 77,  0};
    const std::vector<double> got = row.to_vector();
    for (std::size_t j = 0; j < 28; ++j) CHECK(std::round(got[j]) == bytes[j]);
    // the raw bytes' sum, exact in int64
    const auto dir = std::filesystem::path(data::kFashionMnistDirectory);
    CHECK(
        data::read_idx(dir / "train-images-idx3-ubyte.gz", dc::int64).sum().item<std::int64_t>() ==
        3431114169LL);
    CHECK(train.class_names.size() == 10);
    CHECK(train.class_names.front() == "T-shirt/top");
    CHECK(train.class_names.back() == "Ankle boot");
}

TEST_CASE("Fashion-MNIST: 10000 test images", "[data-images][fashion-mnist]") {
    if (!installed()) return;
    const data::ImageDataset test = data::load_fashion_mnist(data::Split::test);
    CHECK(test.images.shape() == dc::Shape{10000, 1, 28, 28});
    CHECK(test.labels.shape() == dc::Shape{10000});
    CHECK(test.labels.min().item() == 0);
    CHECK(test.labels.max().item() == 9);
    CHECK(class_counts(test.labels) == std::vector<std::int64_t>(10, 1000));
    CHECK(test.labels.slice(0, 0, 10).to_int_vector() ==
          std::vector<std::int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
    const auto dir = std::filesystem::path(data::kFashionMnistDirectory);
    CHECK(data::read_idx(dir / "t10k-images-idx3-ubyte.gz", dc::int64).sum().item<std::int64_t>() ==
          573469082LL);
}

TEST_CASE("load_fashion_mnist: files that make no data set are refused, naming the file",
          "[data-images][fashion-mnist][hostile]") {
    TempDir dir;
    CHECK_THROWS_WITH(data::load_fashion_mnist(data::Split::test, dir.path),
                      Contains("t10k-images-idx3-ubyte.gz") && Contains("cannot open"));
    const std::string image(2 * 28 * 28, '\x10');
    const auto images = dir.path / "t10k-images-idx3-ubyte.gz";  // plain IDX reads as well
    const auto labels = dir.path / "t10k-labels-idx1-ubyte.gz";
    write_bytes(images, idx_bytes(0x08, {2, 28, 28}, image));
    write_bytes(labels, idx_bytes(0x08, {3}, std::string{1, 2, 3}));
    CHECK_THROWS_WITH(
        data::load_fashion_mnist(data::Split::test, dir.path),
        Contains("load_fashion_mnist") && Contains("labels of [3] do not match the 2"));
    write_bytes(labels, idx_bytes(0x08, {2}, std::string{1, 10}));
    CHECK_THROWS_WITH(data::load_fashion_mnist(data::Split::test, dir.path),
                      Contains("label 10 of sample 1 is not in [0, 10)"));
    write_bytes(images, idx_bytes(0x08, {2, 14, 56}, image));
    CHECK_THROWS_WITH(data::load_fashion_mnist(data::Split::test, dir.path),
                      Contains("images of [2,14,56], expected [N, 28, 28]"));
    write_bytes(images, idx_bytes(0x08, {2, 28, 28}, image));
    write_bytes(labels, idx_bytes(0x08, {2}, std::string{1, 9}));
    const data::ImageDataset ok = data::load_fashion_mnist(data::Split::test, dir.path);
    CHECK(ok.images.shape() == dc::Shape{2, 1, 28, 28});
    CHECK(ok.images.max().item() == Approx(16.0 / 255.0).epsilon(1e-7));
    CHECK(ok.labels.to_int_vector() == std::vector<std::int64_t>{1, 9});
}
