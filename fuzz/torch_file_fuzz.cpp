// libFuzzer target for descent::nn::from_torch, the torch.save reader (see fuzz/README.md).
//
// Any input must either parse or throw descent::FormatError; anything else (another exception,
// a crash, a hang, a sanitizer report, a leak) is a finding. What parses must be a state_dict of
// defined tensors whose bytes match their shapes, bool elements 0 or 1.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <descent/error.hpp>
#include <descent/nn/torch_file.hpp>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    descent::nn::Checkpoint state;
    try {
        state = descent::nn::from_torch(input, "<fuzz>");
    } catch (const descent::FormatError&) {
        return 0;
    }
    check(state.metadata.empty());
    for (const auto& [name, t] : state.tensors) {
        check(t.defined());
        std::int64_t numel = 1;
        for (const std::int64_t n : t.shape()) numel *= n;
        check(numel == t.numel());
        if (t.dtype() == descent::Dtype::boolean) {
            const auto* bytes = static_cast<const unsigned char*>(t.raw_data());
            for (std::int64_t i = 0; i < t.numel(); ++i) check(bytes[i] <= 1);
        }
    }
    return 0;
}
