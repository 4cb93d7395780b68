#pragma once
// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, Zalando Research, MIT licence): 60,000 training
// and 10,000 test grey 28×28 images of ten kinds of clothing, read from its four gzip IDX files.
// Debian's package dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist
// (tools/setup-debian.sh installs it).
//
//   auto train = descent::data::load_fashion_mnist(descent::data::Split::train);
//   // train.images: float32 [60000, 1, 28, 28] in [0, 1]; train.labels: int64 [60000] in [0, 10)

#include <filesystem>
#include <string>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::data {

enum class Split { train, test };

/// Images with a class label each.
struct ImageDataset {
    std::string name;
    Tensor images;  ///< float32 [N, C, H, W], values in [0, 1]
    Tensor labels;  ///< int64 [N], in [0, class_names.size())
    std::vector<std::string> class_names;
};

/// Where Debian's dataset-fashion-mnist puts the files.
inline constexpr const char* kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

/// The ten class names in label order, as torchvision's FashionMNIST names them ("T-shirt/top",
/// "Trouser", ..., "Ankle boot").
const std::vector<std::string>& fashion_mnist_classes();

/// The training (train-*-ubyte.gz) or test (t10k-*-ubyte.gz) part from `directory`: each pixel
/// byte b as b / 255 (torchvision's ToTensor). A missing or malformed file, or images and
/// labels that do not match (counts, 28×28, labels beyond 9), is an Error naming the file.
ImageDataset load_fashion_mnist(Split split = Split::train,
                                const std::filesystem::path& directory = kFashionMnistDirectory);

}  // namespace descent::data
