// load_fashion_mnist (fashion_mnist.hpp): two IDX files read by read_idx and checked to be one
// data set.

#include "descent/data/fashion_mnist.hpp"

#include <fmt/format.h>

#include "descent/data/idx.hpp"
#include "descent/error.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "posix_file.hpp"

namespace descent::data {

const std::vector<std::string>& fashion_mnist_classes() {
    static const std::vector<std::string> names{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};
    return names;
}

ImageDataset load_fashion_mnist(Split split, const std::filesystem::path& directory) {
    const std::string prefix = split == Split::train ? "train" : "t10k";
    const std::filesystem::path images_path = directory / (prefix + "-images-idx3-ubyte.gz");
    const std::filesystem::path labels_path = directory / (prefix + "-labels-idx1-ubyte.gz");
    const NoGradGuard no_grad;
    const Tensor pixels = read_idx(images_path, Dtype::float32);  // bytes 0..255
    const Tensor labels = read_idx(labels_path, Dtype::int64);
    const auto where = [](const std::filesystem::path& p) { return nn::printable_path(p); };
    if (pixels.dim() != 3 || pixels.size(1) != 28 || pixels.size(2) != 28) {
        throw FormatError(fmt::format("load_fashion_mnist: {}: images of {}, expected [N, 28, 28]",
                                      where(images_path), shape_str(pixels.shape())));
    }
    if (labels.dim() != 1 || labels.size(0) != pixels.size(0)) {
        throw FormatError(fmt::format(
            "load_fashion_mnist: {}: labels of {} do not match the {} images of {}",
            where(labels_path), shape_str(labels.shape()), pixels.size(0), where(images_path)));
    }
    const std::int64_t* y = labels.data<std::int64_t>();
    const auto classes = static_cast<std::int64_t>(fashion_mnist_classes().size());
    for (std::int64_t i = 0; i < labels.numel(); ++i) {
        if (y[i] < 0 || y[i] >= classes) {
            throw FormatError(
                fmt::format("load_fashion_mnist: {}: label {} of sample {} is not in [0, {})",
                            where(labels_path), y[i], i, classes));
        }
    }
    // x = byte / 255, as torchvision's ToTensor
    Tensor images = (pixels / 255.0).reshape({pixels.size(0), 1, 28, 28});
    return {"fashion-mnist", std::move(images), labels, fashion_mnist_classes()};
}

}  // namespace descent::data
