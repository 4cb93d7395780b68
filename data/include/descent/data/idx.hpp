#pragma once
// Reading IDX files, the format of MNIST and Fashion-MNIST, plain or gzip-compressed (as
// Debian and the original sites ship them). An IDX file is big-endian: two zero bytes, a type
// code, the number of dims d, then d extents as 32-bit unsigned integers, then the elements
// in row-major order:
//   0x08 unsigned byte   0x09 signed byte   0x0B int16   0x0C int32   0x0D float32   0x0E float64
// A malformed file — a bad magic, an unknown type code, no dims, a zero extent, extents whose
// product overflows or exceeds what the file can hold, data that ends early, bytes after the
// data, a path that is no regular file (a FIFO, a device, a directory) or does not exist — is a
// FormatError naming the file and what is wrong.
//
//   auto labels = descent::data::read_idx("train-labels-idx1-ubyte.gz", descent::int64);  //
//   [60000]

#include <filesystem>

#include "descent/tensor.hpp"

namespace descent::data {

/// The tensor of an IDX file, its extents as its shape, its values converted to `dtype`:
/// float32 or float64 (the values themselves: a byte 255 is 255.0), or int64 for the integer
/// type codes (float data as int64 is a DtypeError).
Tensor read_idx(const std::filesystem::path& path, Dtype dtype = Dtype::float32);

}  // namespace descent::data
