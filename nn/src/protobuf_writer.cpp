#include "protobuf_writer.hpp"

#include <bit>
#include <cstring>

namespace descent::nn::onnx_detail {

void ProtoWriter::raw_varint(std::uint64_t value) {
    while (value >= 0x80) {
        data_.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    data_.push_back(static_cast<char>(value));
}

void ProtoWriter::tag(std::uint32_t field, std::uint32_t wire_type) {
    raw_varint((static_cast<std::uint64_t>(field) << 3) | wire_type);
}

void ProtoWriter::varint(std::uint32_t field, std::int64_t value) {
    tag(field, 0);
    raw_varint(static_cast<std::uint64_t>(value));
}

void ProtoWriter::float32(std::uint32_t field, float value) {
    static_assert(std::endian::native == std::endian::little, "protobuf fixed32 is little-endian");
    tag(field, 5);
    char bytes[4];
    std::memcpy(bytes, &value, 4);
    data_.append(bytes, 4);
}

void ProtoWriter::bytes(std::uint32_t field, std::string_view value) {
    tag(field, 2);
    raw_varint(value.size());
    data_.append(value);
}

}  // namespace descent::nn::onnx_detail
