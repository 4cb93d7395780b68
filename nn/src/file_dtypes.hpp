#pragma once
// The element types tensors have in files that PyTorch writes (safetensors dtypes, torch typed
// storages) and their conversion to descent's dtypes: F16/BF16 → float32 (exact), I8/U8/I16/I32
// → int64, BOOL → bool; F32, F64 and I64 are descent's own. Implemented in file_dtypes.cpp.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "descent/dtype.hpp"

namespace descent::nn {

enum class FileDtype : std::uint8_t { f16, bf16, f32, f64, i8, u8, i16, i32, i64, boolean };

/// Bytes per element in the file.
std::size_t file_dtype_size(FileDtype d);
/// The descent dtype a tensor of this file dtype loads as.
Dtype loaded_dtype(FileDtype d);
/// True when the file's bytes are already the loaded tensor's bytes (F32, F64, I64).
bool is_native(FileDtype d);

/// The safetensors code: "F16", "BF16", "F32", ..., "BOOL".
std::string_view safetensors_code(FileDtype d);
std::optional<FileDtype> from_safetensors_code(std::string_view code);
/// The safetensors code of a descent dtype the writer writes ("" for bool, which it does not).
std::string_view safetensors_code(Dtype d);

/// The float32 value of an IEEE binary16 / bfloat16 bit pattern: exact for every value,
/// subnormals, infinities and NaN (payload kept) included.
float half_to_float(std::uint16_t bits);
float bfloat16_to_float(std::uint16_t bits);

/// Converts `n` little-endian elements of `from` at `bytes` (n · file_dtype_size(from) bytes)
/// into `out`, n elements of loaded_dtype(from). A BOOL byte other than 0 or 1 is a FormatError
/// naming `source` and `what` (the tensor).
void convert_elements(FileDtype from, const char* bytes, std::int64_t n, void* out,
                      std::string_view source, std::string_view what);

}  // namespace descent::nn
