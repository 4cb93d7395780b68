#pragma once
// The data sets bundled in data/bundled/ (UCI, CC BY 4.0; its README.md names their creators), each
// loaded with one call: features as float32 [N, F], labels as int64 [N].
//
//   auto iris = descent::data::iris();   // 150 × 4, classes setosa, versicolor, virginica

#include <filesystem>
#include <string>
#include <vector>

#include "descent/tensor.hpp"

namespace descent::data {

struct Dataset {
    std::string name;
    Tensor features;  ///< float32 [N, F]
    Tensor labels;    ///< int64 [N], in [0, classes)
    std::vector<std::string> class_names;
};

/// Where the files are: $DESCENT_DATA_DIR if set, else descent's source tree's data/bundled/,
/// else the installed share/descent/data.
std::filesystem::path data_directory();

/// Optical Recognition of Handwritten Digits (Alpaydin & Kaynak 1998, its test part): 1797 × 64
/// pixel intensities 0–16 of 8×8 images, labels 0–9.
Dataset digits();
/// Iris (Fisher 1936): 150 × 4 measurements in cm, 3 species.
Dataset iris();
/// Wine (Forina et al. 1991): 178 × 13 chemical measurements, 3 cultivars.
Dataset wine();

}  // namespace descent::data
