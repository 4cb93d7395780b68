// libFuzzer target for descent::nn::from_safetensors (see fuzz/README.md).
//
// Any input must either parse or throw descent::FormatError; anything else (another exception,
// a crash, a sanitizer report, a leak) is a finding. What parses must survive a round trip:
// to_safetensors of the result parses again to the same names, dtypes, shapes, bytes and
// metadata, and writing that again gives the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <descent/error.hpp>
#include <descent/nn/checkpoint.hpp>
#include <string>
#include <string_view>

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
