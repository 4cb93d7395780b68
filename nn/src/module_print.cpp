// Printing a module as torch does (module.hpp): type(settings), children indented by name,
// each layer's parameter shapes, the parameter count at the top.

#include <fmt/format.h>

#include <ostream>

#include "descent/function.hpp"
#include "descent/nn/module.hpp"

namespace descent::nn {
namespace {

/// "weight [10,64], bias [10]": a module's own parameters.
std::string own_parameters(const Module& m) {
    std::vector<std::string> parts;
    const NamedTensors own = m.named_parameters();
    for (const auto& [name, t] : own) {
        if (name.find('.') == std::string::npos) parts.push_back(name + " " + shape_str(t.shape()));
    }
    return fmt::format("{}", joined(parts, ", "));
}

void write(const Module& m, std::size_t indent, std::string& out) {
    out += m.type_name() + "(" + m.extra_repr();
    const auto children = m.named_children();
    if (children.empty()) {
        out += ")";
        const std::string params = own_parameters(m);
        if (!params.empty()) out += "  # " + params;
        return;
    }
    out += "\n";
    const std::string pad(indent + 2, ' ');
    if (const std::string params = own_parameters(m); !params.empty()) {
        out += pad + "# own: " + params + "\n";
    }
    for (const auto& [name, child] : children) {
        out += pad + "(" + name + "): ";
        write(*child, indent + 2, out);
        out += "\n";
    }
    out += std::string(indent, ' ') + ")";
}

/// 1234567 as "1,234,567".
std::string grouped(std::int64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

}  // namespace

std::string Module::type_name() const {
    const std::string full = detail::type_name(typeid(*this));
    const std::size_t angle = full.find('<');
    const std::size_t colon = full.rfind("::", angle);
    return colon == std::string::npos ? full : full.substr(colon + 2);
}

std::string to_string(const Module& module) {
    std::string out;
    write(module, 0, out);
    std::int64_t total = 0, trainable = 0;
    const std::vector<Tensor> params = module.parameters();
    for (const auto& p : params) {
        total += p.numel();
        if (p.requires_grad()) trainable += p.numel();
    }
    return out + fmt::format("\nparameters: {} ({} trainable) in {} tensors", grouped(total),
                             grouped(trainable), params.size());
}

std::ostream& operator<<(std::ostream& os, const Module& module) {
    return os << to_string(module);
}

}  // namespace descent::nn
