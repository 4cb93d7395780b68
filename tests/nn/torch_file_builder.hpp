#pragma once
// Hand-built torch.save files for the hostile tests: a stored-entry zip writer and the opcodes of
// a state_dict pickle, so each test can change one byte or one opcode of a valid file.

#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::test {

inline void put_le(std::string& out, std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

/// A zip archive of stored entries, as torch.save writes it (without its alignment padding).
inline std::string zip(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::string out, directory;
    for (const auto& [name, data] : entries) {
        const auto crc = static_cast<std::uint32_t>(
            crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
        const std::uint64_t local = out.size();
        for (std::string* h : {&out, &directory}) {
            put_le(*h, h == &out ? 0x04034b50 : 0x02014b50, 4);
            if (h == &directory) put_le(*h, 20, 2);  // version made by
            put_le(*h, 20, 2);                       // version needed
            put_le(*h, 0, 2);                        // flags
            put_le(*h, 0, 2);                        // stored
            put_le(*h, 0, 4);                        // time, date
            put_le(*h, crc, 4);
            put_le(*h, data.size(), 4);
            put_le(*h, data.size(), 4);
            put_le(*h, name.size(), 2);
            put_le(*h, 0, 2);  // extra
            if (h == &directory) {
                h->append(2 + 2 + 2 + 4, '\0');  // comment, disk, attributes
                put_le(*h, local, 4);
            }
            *h += name;
        }
        out += data;
    }
    const std::uint64_t directory_offset = out.size();
    out += directory;
    put_le(out, 0x06054b50, 4);
    put_le(out, 0, 4);  // disks
    put_le(out, entries.size(), 2);
    put_le(out, entries.size(), 2);
    put_le(out, directory.size(), 4);
    put_le(out, directory_offset, 4);
    put_le(out, 0, 2);
    return out;
}

/// Pickle opcodes, protocol 2.
struct Pickle {
    std::string out = "\x80\x02";
    Pickle& op(char c) {
        out += c;
        return *this;
    }
    Pickle& str(std::string_view s) {  // BINUNICODE
        out += 'X';
        put_le(out, s.size(), 4);
        out += s;
        return *this;
    }
    Pickle& global(std::string_view module, std::string_view name) {
        out += 'c';
        out += module;
        out += '\n';
        out += name;
        out += '\n';
        return *this;
    }
    Pickle& integer(std::int64_t v) {  // LONG1 of 8 bytes: any int64
        out += '\x8a';
        out += '\x08';
        put_le(out, static_cast<std::uint64_t>(v), 8);
        return *this;
    }
    Pickle& ints(const std::vector<std::int64_t>& values) {  // a tuple
        op('(');
        for (const std::int64_t v : values) integer(v);
        return op('t');
    }
    /// _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride,
    /// False, OrderedDict()).
    Pickle& tensor(std::string_view type, std::string_view key, std::int64_t numel,
                   std::int64_t offset, const std::vector<std::int64_t>& size,
                   const std::vector<std::int64_t>& stride) {
        global("torch._utils", "_rebuild_tensor_v2").op('(').op('(').str("storage");
        global("torch", type).str(key).str("cpu").integer(numel).op('t').op('Q');
        integer(offset).ints(size).ints(stride).op('\x89');
        return global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
    }
    Pickle& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
    std::string stop() const { return out + "."; }
};

/// A torch.save archive "m/..." holding `pickle` and the storages (key, bytes).
inline std::string torch_file(const std::string& pickle,
                              const std::vector<std::pair<std::string, std::string>>& storages) {
    std::vector<std::pair<std::string, std::string>> entries{{"m/data.pkl", pickle}};
    for (const auto& [key, bytes] : storages) entries.emplace_back("m/data/" + key, bytes);
    entries.emplace_back("m/version", "3\n");
    return zip(entries);
}

/// The pickle of {"w": FloatStorage "0" of `numel` elements viewed as size/stride at offset}.
inline std::string one_tensor(std::int64_t numel, std::int64_t offset,
                              const std::vector<std::int64_t>& size,
                              const std::vector<std::int64_t>& stride,
                              std::string_view type = "FloatStorage") {
    return Pickle()
        .ordered_dict()
        .op('(')
        .str("w")
        .tensor(type, "0", numel, offset, size, stride)
        .op('u')
        .stop();
}

}  // namespace descent::test
