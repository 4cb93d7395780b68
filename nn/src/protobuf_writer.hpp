#pragma once
// A minimal Protocol Buffers encoder: the wire format (varints, 32-bit fixed values and
// length-delimited fields) that export_onnx needs to write ONNX's messages. Written by hand
// rather than through libprotobuf: the subset is small and it adds no build dependency.
// https://protobuf.dev/programming-guides/encoding/

#include <cstdint>
#include <string>
#include <string_view>

namespace descent::nn::onnx_detail {

/// One message being written; nested messages are written into their own ProtoWriter and
/// added whole (their length goes first).
class ProtoWriter {
  public:
    /// An int32/int64/enum/bool field (wire type 0); negative values take ten bytes, as
    /// protobuf's int64.
    void varint(std::uint32_t field, std::int64_t value);
    /// A float field (wire type 5, little-endian IEEE 754).
    void float32(std::uint32_t field, float value);
    /// A string, bytes or embedded message field (wire type 2).
    void bytes(std::uint32_t field, std::string_view value);
    void message(std::uint32_t field, const ProtoWriter& sub) { bytes(field, sub.data_); }

    const std::string& data() const { return data_; }

  private:
    void raw_varint(std::uint64_t value);
    void tag(std::uint32_t field, std::uint32_t wire_type);
    std::string data_;
};

}  // namespace descent::nn::onnx_detail
