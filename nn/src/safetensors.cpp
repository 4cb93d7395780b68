// The safetensors format (see checkpoint.hpp): the header's JSON built and parsed, every entry
// validated, the byte ranges checked to tile the data section; to_safetensors and
// from_safetensors. The POSIX file I/O is in checkpoint_load.cpp and checkpoint_save.cpp.
//
// Layout: u64 little-endian N, N bytes of JSON header, then the data section. The header maps
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// start of the data section) plus an optional "__metadata__" object of strings. The reader
// follows the reference implementation (huggingface/safetensors): the header is at most 100 MB,
// the byte ranges must tile the data section exactly, element counts must not overflow. It also
// rejects what serde_json would silently accept or that would make the file ambiguous: duplicate
// keys, unknown fields in a tensor entry. Nothing is allocated from a size the file announces
// until every entry has been checked against the bytes actually present.

#include "descent/nn/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "descent/error.hpp"
#include "file_dtypes.hpp"
#include "safetensors.hpp"

namespace descent::nn {
using safetensors::Entry;
using safetensors::format_error;
using safetensors::kLengthBytes;

namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; tensors are copied as they are in memory");

using Json = nlohmann::json;

/// The reference implementation's bound on the header (safetensors MAX_HEADER_SIZE).
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
/// A valid header nests three levels (root → tensor entry → shape); anything much deeper is
/// rejected while parsing, so nothing later (messages, destruction) recurses deeply.
constexpr std::size_t kMaxJsonDepth = 16;
constexpr std::string_view kMetadataKey = "__metadata__";

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        const std::uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
        if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/// A name as it appears in messages: JSON-quoted (control characters escaped), cut at 120 bytes.
std::string quote_name(std::string_view name) {
    constexpr std::size_t kMax = 120;
    const bool cut = name.size() > kMax;
    const Json j = std::string(cut ? name.substr(0, kMax) : name);
    std::string out = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (cut) out += "...";
    return out;
}

/// A JSON value as it appears in messages (depth is bounded by the parser), cut at 80 bytes.
std::string brief(const Json& j) {
    std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (s.size() > 80) s = s.substr(0, 80) + "...";
    return s;
}

/// "array [1,2]", "string \"x\"", "null".
std::string describe(const Json& j) {
    return j.is_null() ? std::string("null") : fmt::format("{} {}", j.type_name(), brief(j));
}

std::string json_string(std::string_view s) {
    return Json(std::string(s)).dump();  // callers have checked that `s` is valid UTF-8
}

/// Parses the header text: rejects duplicate keys (nlohmann keeps the last one silently) and
/// nesting deeper than kMaxJsonDepth; returns the root and the top-level keys in file order.
std::pair<Json, std::vector<std::string>> parse_json(std::string_view text,
                                                     std::string_view source) {
    struct Level {
        bool is_object;
        std::set<std::string> keys;
    };
    std::vector<Level> stack;
    std::vector<std::string> top_keys;
    std::string current_tensor;  // the top-level key whose value is being parsed

    const Json::parser_callback_t callback = [&](int, Json::parse_event_t event, Json& parsed) {
        switch (event) {
            case Json::parse_event_t::object_start:
            case Json::parse_event_t::array_start:
                if (stack.size() >= kMaxJsonDepth) {
                    format_error(source, "header JSON is nested deeper than {} levels",
                                 kMaxJsonDepth);
                }
                stack.push_back({event == Json::parse_event_t::object_start, {}});
                break;
            case Json::parse_event_t::object_end:
            case Json::parse_event_t::array_end:
                if (!stack.empty()) stack.pop_back();
                break;
            case Json::parse_event_t::key: {
                if (stack.empty() || !parsed.is_string()) break;
                const auto& key = parsed.get_ref<const std::string&>();
                if (!stack.back().keys.insert(key).second) {
                    if (stack.size() == 1) {
                        format_error(source, "duplicate tensor name {} in the header",
                                     quote_name(key));
                    }
                    format_error(source, "duplicate key {} in the header entry of {}",
                                 quote_name(key), quote_name(current_tensor));
                }
                if (stack.size() == 1) {
                    top_keys.push_back(key);
                    current_tensor = key;
                }
                break;
            }
            case Json::parse_event_t::value:
                break;
        }
        return true;
    };

    try {
        Json root = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                                /*ignore_comments=*/false);
        return {std::move(root), std::move(top_keys)};
    } catch (const Json::exception& e) {
        format_error(source, "header is not valid JSON: {}", e.what());
    }
}

Metadata parse_metadata(const Json& j, std::string_view source) {
    Metadata metadata;
    if (j.is_null()) return metadata;  // the reference implementation reads null as "none"
    if (!j.is_object()) {
        format_error(source, "\"__metadata__\" must be an object of strings, got {}", describe(j));
    }
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string()) {
            format_error(source, "\"__metadata__\" value of key {} is not a string but {}",
                         quote_name(key), describe(value));
        }
        metadata.emplace(key, value.get<std::string>());
    }
    return metadata;
}

/// The extents of a shape (non-negative integers whose element count checked_numel accepts, also
/// when a zero extent stands next to huge ones) and the bytes that many elements of `dtype` need.
std::pair<Shape, std::uint64_t> parse_shape(const Json& shape, FileDtype dtype,
                                            const std::string& tensor, std::string_view source) {
    if (!shape.is_array()) {
        format_error(source, "{}: shape must be a list of non-negative integers, got {}", tensor,
                     describe(shape));
    }
    Shape extents;
    for (const Json& extent : shape) {
        if (!extent.is_number_unsigned()) {  // nlohmann parses non-negative integers as unsigned
            format_error(source, "{}: shape {} is not a list of non-negative integers", tensor,
                         brief(shape));
        }
        const auto n = extent.get<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            format_error(source, "{}: shape {} overflows: extent {} exceeds 2^63 - 1", tensor,
                         brief(shape), n);
        }
        extents.push_back(static_cast<std::int64_t>(n));
    }
    std::int64_t numel = 0;
    try {
        numel = checked_numel(extents, tensor);
    } catch (const ShapeError& e) {
        format_error(source, "{}; the shape overflows", e.what());
    }
    std::uint64_t nbytes = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(numel),
                               static_cast<std::uint64_t>(file_dtype_size(dtype)), &nbytes)) {
        format_error(source, "{}: shape {} of {} overflows: its byte count does not fit in 64 bits",
                     tensor, brief(shape), safetensors_code(dtype));
    }
    return {std::move(extents), nbytes};
}

Entry parse_entry(const std::string& name, const Json& j, std::uint64_t data_size,
                  std::string_view source) {
    const std::string tensor = safetensors::tensor_label(name);
    if (!j.is_object()) {
        format_error(source, "{}: entry must be an object, got {}", tensor, describe(j));
    }
    for (const auto& [key, value] : j.items()) {
        if (key != "dtype" && key != "shape" && key != "data_offsets") {
            format_error(source, "{}: unknown field {} (expected dtype, shape, data_offsets)",
                         tensor, quote_name(key));
        }
    }
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
        if (!j.contains(field)) format_error(source, "{}: missing field \"{}\"", tensor, field);
    }
    Entry e;
    e.name = name;

    const Json& dtype = j["dtype"];
    const auto parsed_dtype = dtype.is_string()
                                  ? from_safetensors_code(dtype.get_ref<const std::string&>())
                                  : std::nullopt;
    if (!parsed_dtype) {
        format_error(source,
                     "{}: unsupported dtype {} (expected one of F16, BF16, F32, F64, I8, U8, I16, "
                     "I32, I64, BOOL)",
                     tensor, brief(dtype));
    }
    e.stored = *parsed_dtype;
    e.dtype = loaded_dtype(e.stored);

    auto [shape, nbytes] = parse_shape(j["shape"], e.stored, tensor, source);
    e.shape = std::move(shape);

    const Json& offsets = j["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
        format_error(source, "{}: data_offsets must be two non-negative integers, got {}", tensor,
                     brief(offsets));
    }
    e.begin = offsets[0].get<std::uint64_t>();
    e.end = offsets[1].get<std::uint64_t>();
    if (e.begin > e.end) {
        format_error(source, "{}: data_offsets [{},{}] begin after they end", tensor, e.begin,
                     e.end);
    }
    if (e.end > data_size) {
        format_error(source, "{}: data_offsets [{},{}] end beyond the data section of {} bytes",
                     tensor, e.begin, e.end, data_size);
    }
    if (e.end - e.begin != nbytes) {
        format_error(source, "{}: data_offsets [{},{}] hold {} bytes but shape {} of {} needs {}",
                     tensor, e.begin, e.end, e.end - e.begin, shape_str(e.shape),
                     safetensors_code(e.stored), nbytes);
    }
    return e;
}

/// Sorts the entries by their byte ranges and checks that the ranges tile the data section.
void check_tiling(std::vector<Entry>& entries, std::uint64_t data_size, std::string_view source) {
    // Stable: empty tensors at the same offset keep their header order.
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
    });
    std::uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& e : entries) {
        if (e.begin < covered) {
            format_error(source, "tensor {} data_offsets [{},{}] overlap tensor {} [{},{}]",
                         quote_name(e.name), e.begin, e.end, quote_name(previous->name),
                         previous->begin, previous->end);
        }
        if (e.begin > covered) {
            format_error(source,
                         "bytes [{},{}) of the data section belong to no tensor (a gap before "
                         "tensor {} at data_offsets [{},{}])",
                         covered, e.begin, quote_name(e.name), e.begin, e.end);
        }
        covered = e.end;
        if (e.end > e.begin || previous == nullptr) previous = &e;
    }
    if (covered != data_size) {
        format_error(source,
                     "the data section has {} bytes but the tensors' data_offsets cover only {} "
                     "({} trailing bytes)",
                     data_size, covered, data_size - covered);
    }
}

}  // namespace

std::string to_safetensors(const NamedTensors& tensors, const Metadata& metadata) {
    std::set<std::string_view> names;
    for (const auto& [name, t] : tensors) {
        if (!valid_utf8(name)) {
            throw Error(
                fmt::format("to_safetensors: tensor name {} is not valid UTF-8", quote_name(name)));
        }
        if (name == kMetadataKey) {
            throw Error("to_safetensors: \"__metadata__\" is reserved and cannot name a tensor");
        }
        if (!names.insert(name).second) {
            throw Error(fmt::format("to_safetensors: duplicate tensor name {}", quote_name(name)));
        }
        if (!t.defined()) {
            throw Error(fmt::format("to_safetensors: tensor {} is undefined", quote_name(name)));
        }
        if (safetensors_code(t.dtype()).empty()) {
            throw DtypeError(fmt::format(
                "to_safetensors: tensor {} of shape {} is {}; checkpoints hold float32, float64 "
                "and int64 (F32, F64, I64)",
                quote_name(name), shape_str(t.shape()), dtype_name(t.dtype())));
        }
    }
    for (const auto& [key, value] : metadata) {
        if (!valid_utf8(key) || !valid_utf8(value)) {
            throw Error(fmt::format("to_safetensors: metadata entry {} is not valid UTF-8",
                                    quote_name(key)));
        }
    }

    // The header, compact, in the reference implementation's field order: metadata first, then
    // the tensors in the order of their data.
    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [key, value] : metadata) {
            if (!first) header += ',';
            first = false;
            header += json_string(key);
            header += ':';
            header += json_string(value);
        }
        header += '}';
    }
    std::uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        const std::uint64_t nbytes = static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype());
        if (header.size() > 1) header += ',';
        header += json_string(name);
        header += fmt::format(":{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                              safetensors_code(t.dtype()), joined(t.shape(), ","), offset,
                              offset + nbytes);
        offset += nbytes;
    }
    header += '}';
    header.append((8 - header.size() % 8) % 8, ' ');  // data starts 8-byte aligned

    std::string out;
    out.reserve(8 + header.size() + offset);
    const std::uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
    out += header;
    for (const auto& [name, t] : tensors) {
        const std::size_t nbytes = static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype());
        if (nbytes > 0) out.append(static_cast<const char*>(t.raw_data()), nbytes);
    }
    return out;
}

Checkpoint from_safetensors(std::string_view bytes, std::string_view source) {
    try {
        const std::uint64_t header_size =
            safetensors::header_length(bytes.substr(0, kLengthBytes), bytes.size(), source);
        const std::string_view data = bytes.substr(kLengthBytes + header_size);
        safetensors::Header header =
            safetensors::parse_header(bytes.substr(kLengthBytes, header_size), data.size(), source);

        Checkpoint checkpoint{.tensors = {}, .metadata = std::move(header.metadata)};
        checkpoint.tensors.reserve(header.entries.size());
        for (const Entry& e : header.entries) {
            Tensor t = safetensors::allocate(e, source);
            if (e.end > e.begin) safetensors::fill(t, e, &data[e.begin], source);
            checkpoint.tensors.emplace_back(e.name, std::move(t));
        }
        return checkpoint;
    } catch (const std::bad_alloc&) {
        format_error(source, "out of memory while reading the checkpoint");
    }
}

namespace safetensors {

std::string tensor_label(std::string_view name) {
    return "tensor " + quote_name(name);
}

std::uint64_t header_length(std::string_view prefix, std::uint64_t file_size,
                            std::string_view source) {
    if (prefix.size() < kLengthBytes) {
        format_error(source,
                     "not a safetensors file: {} bytes, fewer than the 8 of the header length",
                     file_size);
    }
    std::uint64_t header_size = 0;
    for (std::size_t i = 0; i < kLengthBytes; ++i) {
        header_size |= static_cast<std::uint64_t>(static_cast<unsigned char>(prefix[i])) << (8 * i);
    }
    if (header_size > kMaxHeaderBytes) {
        format_error(source, "header length {} exceeds the limit of {} bytes", header_size,
                     kMaxHeaderBytes);
    }
    if (header_size > file_size - kLengthBytes) {
        format_error(source, "header length {} runs past the end of the file ({} bytes follow it)",
                     header_size, file_size - kLengthBytes);
    }
    return header_size;
}

Header parse_header(std::string_view text, std::uint64_t data_size, std::string_view source) {
    auto [root, keys] = parse_json(text, source);
    if (!root.is_object()) {
        format_error(source, "header must be a JSON object, got {}", describe(root));
    }
    Header header;
    header.entries.reserve(keys.size());
    for (const std::string& key : keys) {
        const Json& value = std::as_const(root).at(key);
        if (key == kMetadataKey) {
            header.metadata = parse_metadata(value, source);
            continue;
        }
        header.entries.push_back(parse_entry(key, value, data_size, source));
    }
    check_tiling(header.entries, data_size, source);
    return header;
}

Tensor allocate(const Entry& entry, std::string_view source) {
    try {
        return zeros(entry.shape, {.dtype = entry.dtype});
    } catch (const Error& e) {
        format_error(source, "{}: cannot allocate: {}", tensor_label(entry.name), e.what());
    } catch (const std::bad_alloc&) {
        format_error(source, "{}: cannot allocate shape {} of {}: out of memory",
                     tensor_label(entry.name), shape_str(entry.shape), dtype_name(entry.dtype));
    }
}

void fill(Tensor& t, const Entry& entry, const char* bytes, std::string_view source) {
    convert_elements(entry.stored, bytes, t.numel(), t.raw_mutable_data(), source,
                     tensor_label(entry.name));
}

}  // namespace safetensors
}  // namespace descent::nn
