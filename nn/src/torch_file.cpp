// torch.save files (torch_file.hpp): the archive holds "<prefix>/data.pkl" (the pickled
// state_dict), "<prefix>/data/<key>" (each storage's raw little-endian bytes), "<prefix>/version"
// and, from torch 1.13 on, "<prefix>/byteorder". Each storage's entry must hold exactly its
// element count × element size; each tensor is gathered from its storage (offset and strides
// were checked by the unpickler to stay inside it) and converted to descent's dtype.

#include "descent/nn/torch_file.hpp"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "descent/error.hpp"
#include "file_dtypes.hpp"
#include "posix_file.hpp"
#include "torch_pickle.hpp"
#include "zip_archive.hpp"

namespace descent::nn {
namespace {

template <class... Args>
[[noreturn]] void fail(std::string_view source, fmt::format_string<Args...> what, Args&&... args) {
    throw FormatError(
        fmt::format("{}: {}", source, fmt::format(what, std::forward<Args>(args)...)));
}

std::string quote_text(std::string_view s) {
    return s.size() > 120 ? fmt::format("{:?}...", s.substr(0, 120)) : fmt::format("{:?}", s);
}

/// The archive's "<prefix>/data.pkl" entry: exactly one, one level deep.
const ZipArchive::Entry& find_pickle(const ZipArchive& archive, std::string_view source) {
    const ZipArchive::Entry* found = nullptr;
    constexpr std::string_view kName = "/data.pkl";
    for (const ZipArchive::Entry& e : archive.entries()) {
        const std::string_view name = e.name;
        if (name.size() > kName.size() && name.ends_with(kName) &&
            name.find('/') == name.size() - kName.size()) {
            if (found != nullptr) fail(source, "the archive holds two data.pkl entries");
            found = &e;
        }
    }
    if (found == nullptr) {
        fail(source, "not a torch.save file: the archive has no \"<name>/data.pkl\" entry");
    }
    return *found;
}

/// Copies the view's elements, in row-major order, to `out` (contiguous, of the file's dtype).
void gather(const torch_pickle::TensorView& view, const char* storage, std::size_t element,
            char* out) {
    const std::size_t rank = view.size.size();
    std::vector<std::int64_t> index(rank, 0);
    std::int64_t at = view.offset;
    std::int64_t numel = 1;
    for (const std::int64_t n : view.size) numel *= n;
    for (std::int64_t i = 0; i < numel; ++i) {
        std::memcpy(out + static_cast<std::size_t>(i) * element,
                    storage + static_cast<std::size_t>(at) * element, element);
        for (std::size_t d = rank; d-- > 0;) {  // the odometer: the last index moves fastest
            at += view.stride[d];
            if (++index[d] < view.size[d]) break;
            at -= view.stride[d] * view.size[d];
            index[d] = 0;
        }
    }
}

bool is_contiguous(const torch_pickle::TensorView& view) {
    std::int64_t expected = 1;
    for (std::size_t d = view.size.size(); d-- > 0;) {
        if (view.size[d] != 1 && view.stride[d] != expected) return false;
        expected *= view.size[d];
    }
    return true;
}

Tensor build(const std::string& name, const torch_pickle::TensorView& view,
             std::string_view storage, std::string_view source) {
    const std::string label = "tensor " + quote_text(name);
    std::int64_t numel = 1;
    for (const std::int64_t n : view.size) numel *= n;  // checked by the unpickler
    if (numel > view.storage.numel) {
        fail(source,
             "{}: {} elements from a storage of {}: views that repeat elements (stride 0) are "
             "not supported",
             label, numel, view.storage.numel);
    }
    Tensor t;
    try {
        t = zeros(view.size, {.dtype = loaded_dtype(view.storage.dtype)});
    } catch (const Error& e) {
        fail(source, "{}: cannot allocate: {}", label, e.what());
    }
    if (numel == 0) return t;
    const std::size_t element = file_dtype_size(view.storage.dtype);
    const char* first = storage.data();
    std::string buffer;
    if (is_contiguous(view)) {
        first += static_cast<std::size_t>(view.offset) * element;
    } else {
        buffer.resize(static_cast<std::size_t>(numel) * element);
        gather(view, storage.data(), element, buffer.data());
        first = buffer.data();
    }
    convert_elements(view.storage.dtype, first, numel, t.raw_mutable_data(), source, label);
    return t;
}

Checkpoint read_torch(std::string_view bytes, std::string_view source) {
    const ZipArchive archive(bytes, source);
    const ZipArchive::Entry& pickle_entry = find_pickle(archive, source);
    const std::string prefix = pickle_entry.name.substr(0, pickle_entry.name.find('/'));
    std::string buffer;
    if (const ZipArchive::Entry* order = archive.find(prefix + "/byteorder")) {
        const std::string_view text = archive.read(*order, buffer);
        if (text != "little") {
            fail(source, "byteorder is {}; only little-endian files are read", quote_text(text));
        }
    }
    std::string pickle(archive.read(pickle_entry, buffer));
    const auto views = torch_pickle::unpickle_state_dict(pickle, source);

    std::map<std::string, std::pair<std::string_view, std::string>> storages;  // key → bytes
    Checkpoint checkpoint;
    checkpoint.tensors.reserve(views.size());
    for (const auto& [name, view] : views) {
        const torch_pickle::Storage& s = view.storage;
        auto it = storages.find(s.key);
        if (it == storages.end()) {
            const std::string entry_name = prefix + "/data/" + s.key;
            const ZipArchive::Entry* entry = archive.find(entry_name);
            if (entry == nullptr) {
                fail(source, "tensor {}: its storage has no archive entry {}", quote_text(name),
                     quote_text(entry_name));
            }
            std::uint64_t nbytes = 0;
            if (__builtin_mul_overflow(static_cast<std::uint64_t>(s.numel),
                                       file_dtype_size(s.dtype), &nbytes) ||
                nbytes != entry->size) {
                fail(source, "tensor {}: storage {} holds {} bytes, not {} elements of {} bytes",
                     quote_text(name), quote_text(s.key), entry->size, s.numel,
                     file_dtype_size(s.dtype));
            }
            it = storages.emplace(s.key, std::pair<std::string_view, std::string>{}).first;
            it->second.first = archive.read(*entry, it->second.second);
        }
        checkpoint.tensors.emplace_back(name, build(name, view, it->second.first, source));
    }
    return checkpoint;
}

}  // namespace

Checkpoint from_torch(std::string_view bytes, std::string_view source) {
    try {
        return read_torch(bytes, source);
    } catch (const std::bad_alloc&) {
        fail(source, "out of memory while reading the torch file");
    }
}

StateDict load_torch(const std::filesystem::path& path) {
    const std::string source = printable_path(path);
    try {
        const std::string bytes = read_regular_file(path, source);
        return StateDict(read_torch(bytes, source).tensors);
    } catch (const FormatError&) {
        throw;
    } catch (const std::bad_alloc&) {
        fail(source, "out of memory while loading the torch file");
    } catch (const std::exception& e) {
        fail(source, "cannot load: {}", e.what());
    }
}

}  // namespace descent::nn
