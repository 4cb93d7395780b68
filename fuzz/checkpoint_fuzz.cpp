// libFuzzer target for descent::nn::from_safetensors (see fuzz/README.md).
//
// Any input must either parse or throw descent::FormatError; anything else (another exception,
// a crash, a sanitizer report, a leak) is a finding. What parses must survive a round trip after
// its conversion on load (F16/BF16 → float32, small integers → int64): to_safetensors of the
// result's float32, float64 and int64 tensors parses again to the same names, dtypes, shapes,
// bytes and metadata, and writing that again gives the same bytes. The writer writes no bool, so
// a BOOL tensor is only checked to hold 0 and 1.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <descent/error.hpp>
#include <descent/nn/checkpoint.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace {

std::string_view bytes_of(const descent::Tensor& t) {
    const auto n = static_cast<std::size_t>(t.numel()) * descent::dtype_size(t.dtype());
    return n == 0 ? std::string_view()
                  : std::string_view(static_cast<const char*>(t.raw_data()), n);
}

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    descent::nn::Checkpoint first;
    try {
        first = descent::nn::from_safetensors(input, "<fuzz>");
    } catch (const descent::FormatError&) {
        return 0;
    }
    descent::NamedTensors writable;
    for (const auto& [name, t] : first.tensors) {
        if (t.dtype() != descent::Dtype::boolean) {
            writable.emplace_back(name, t);
            continue;
        }
        for (const char byte : bytes_of(t)) check(byte == 0 || byte == 1);
    }
    first.tensors = std::move(writable);
    const std::string written = descent::nn::to_safetensors(first.tensors, first.metadata);
    const descent::nn::Checkpoint second = descent::nn::from_safetensors(written, "<rewritten>");
    check(second.metadata == first.metadata);
    check(second.tensors.size() == first.tensors.size());
    for (std::size_t i = 0; i < first.tensors.size(); ++i) {
        const auto& [name, t] = first.tensors[i];
        const auto& [name2, t2] = second.tensors[i];
        check(name == name2 && t.dtype() == t2.dtype() && t.shape() == t2.shape());
        check(bytes_of(t) == bytes_of(t2));
    }
    check(descent::nn::to_safetensors(second.tensors, second.metadata) == written);
    return 0;
}
