#pragma once
// Writing a whole file atomically: checkpoint_save.cpp's temporary-and-rename (its header
// comment has the rules), shared by save() and export_onnx().

#include <filesystem>
#include <string_view>

namespace descent::nn {

/// Writes `bytes` to `path` through a temporary beside it that is renamed onto it; on any
/// failure nothing is left behind and an Error "<label> <path>: <what went wrong>" is thrown.
void write_file_atomically(std::string_view bytes, const std::filesystem::path& path,
                           std::string_view label);

}  // namespace descent::nn
