// Element types of PyTorch's files and their conversion to descent's dtypes (file_dtypes.hpp).

#include "file_dtypes.hpp"

#include <fmt/format.h>

#include <bit>
#include <cstring>

#include "descent/error.hpp"

namespace descent::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "file data is little-endian; elements are read as they are in memory");

template <class From, class To>
void widen(const char* bytes, std::int64_t n, void* out) {
    auto* dst = static_cast<To*>(out);
    for (std::int64_t i = 0; i < n; ++i) {
        From v;
        std::memcpy(&v, bytes + i * static_cast<std::int64_t>(sizeof(From)), sizeof(From));
        dst[i] = static_cast<To>(v);
    }
}

template <float (*Convert)(std::uint16_t)>
void widen_16(const char* bytes, std::int64_t n, void* out) {
    auto* dst = static_cast<float*>(out);
    for (std::int64_t i = 0; i < n; ++i) {
        std::uint16_t v;
        std::memcpy(&v, bytes + 2 * i, 2);
        dst[i] = Convert(v);
    }
}

}  // namespace

std::size_t file_dtype_size(FileDtype d) {
    switch (d) {
        case FileDtype::f16:
        case FileDtype::bf16:
        case FileDtype::i16:
            return 2;
        case FileDtype::f32:
        case FileDtype::i32:
            return 4;
        case FileDtype::f64:
        case FileDtype::i64:
            return 8;
        case FileDtype::i8:
        case FileDtype::u8:
        case FileDtype::boolean:
            break;
    }
    return 1;
}

Dtype loaded_dtype(FileDtype d) {
    switch (d) {
        case FileDtype::f16:
        case FileDtype::bf16:
        case FileDtype::f32:
            return Dtype::float32;
        case FileDtype::f64:
            return Dtype::float64;
        case FileDtype::boolean:
            return Dtype::boolean;
        case FileDtype::i8:
        case FileDtype::u8:
        case FileDtype::i16:
        case FileDtype::i32:
        case FileDtype::i64:
            break;
    }
    return Dtype::int64;
}

bool is_native(FileDtype d) {
    return d == FileDtype::f32 || d == FileDtype::f64 || d == FileDtype::i64;
}

std::string_view safetensors_code(FileDtype d) {
    switch (d) {
        case FileDtype::f16:
            return "F16";
        case FileDtype::bf16:
            return "BF16";
        case FileDtype::f32:
            return "F32";
        case FileDtype::f64:
            return "F64";
        case FileDtype::i8:
            return "I8";
        case FileDtype::u8:
            return "U8";
        case FileDtype::i16:
            return "I16";
        case FileDtype::i32:
            return "I32";
        case FileDtype::i64:
            return "I64";
        case FileDtype::boolean:
            break;
    }
    return "BOOL";
}

std::optional<FileDtype> from_safetensors_code(std::string_view code) {
    for (const FileDtype d :
         {FileDtype::f16, FileDtype::bf16, FileDtype::f32, FileDtype::f64, FileDtype::i8,
          FileDtype::u8, FileDtype::i16, FileDtype::i32, FileDtype::i64, FileDtype::boolean}) {
        if (safetensors_code(d) == code) return d;
    }
    return std::nullopt;
}

std::string_view safetensors_code(Dtype d) {
    switch (d) {
        case Dtype::float32:
            return "F32";
        case Dtype::float64:
            return "F64";
        case Dtype::int64:
            return "I64";
        case Dtype::boolean:
            break;
    }
    return "";
}

float half_to_float(std::uint16_t bits) {
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
    std::uint32_t mantissa = bits & 0x3FFu;
    std::uint32_t out = 0;
    if (exponent == 0x1F) {  // inf or NaN: all-ones exponent, the payload moved to the top
        out = sign | 0x7F800000u | (mantissa << 13);
    } else if (exponent != 0) {  // normal: rebias 15 → 127
        out = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        out = sign;  // ±0
    } else {         // subnormal m·2^-24: normalise, every such value is a normal float32
        std::uint32_t e = 113;  // the exponent field of 2^-14
        while ((mantissa & 0x400u) == 0) {
            mantissa <<= 1;
            --e;
        }
        out = sign | (e << 23) | ((mantissa & 0x3FFu) << 13);
    }
    return std::bit_cast<float>(out);
}

float bfloat16_to_float(std::uint16_t bits) {
    // bfloat16 is the top half of a float32.
    return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

void convert_elements(FileDtype from, const char* bytes, std::int64_t n, void* out,
                      std::string_view source, std::string_view what) {
    switch (from) {
        case FileDtype::f16:
            return widen_16<half_to_float>(bytes, n, out);
        case FileDtype::bf16:
            return widen_16<bfloat16_to_float>(bytes, n, out);
        case FileDtype::f32:
        case FileDtype::f64:
        case FileDtype::i64:
            if (n > 0) {
                std::memcpy(out, bytes, static_cast<std::size_t>(n) * file_dtype_size(from));
            }
            return;
        case FileDtype::i8:
            return widen<std::int8_t, std::int64_t>(bytes, n, out);
        case FileDtype::u8:
            return widen<std::uint8_t, std::int64_t>(bytes, n, out);
        case FileDtype::i16:
            return widen<std::int16_t, std::int64_t>(bytes, n, out);
        case FileDtype::i32:
            return widen<std::int32_t, std::int64_t>(bytes, n, out);
        case FileDtype::boolean:
            break;
    }
    auto* dst = static_cast<bool*>(out);
    for (std::int64_t i = 0; i < n; ++i) {
        const auto byte = static_cast<unsigned char>(bytes[i]);
        if (byte > 1) {
            throw FormatError(fmt::format("{}: {}: element {} of BOOL is byte {}, not 0 or 1",
                                          source, what, i, byte));
        }
        dst[i] = byte == 1;
    }
}

}  // namespace descent::nn
