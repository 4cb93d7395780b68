#include "state_io.hpp"

#include <fmt/format.h>

namespace descent::optim::detail {

Tensor count_tensor(std::int64_t v) {
    return int_tensor({v}, {});
}

Tensor real_tensor(double v) {
    return scalar_tensor(v, {.dtype = Dtype::float64});
}

const Tensor& StateReader::find(const std::string& key) {
    const auto it = state_.find(key);
    if (it == state_.end()) throw Error(fmt::format("{}: the state has no entry '{}'", op_, key));
    if (!it->second.defined()) throw Error(fmt::format("{}: entry '{}' is undefined", op_, key));
    read_.insert(key);
    return it->second;
}

std::int64_t StateReader::count(const std::string& key, std::int64_t low) {
    const Tensor& t = find(key);
    if (t.dtype() != Dtype::int64 || t.numel() != 1) {
        throw Error(fmt::format("{}: '{}' must be one int64 count, got {} {}", op_, key,
                                dtype_name(t.dtype()), shape_str(t.shape())));
    }
    return check_count(t.item<std::int64_t>(), low, op_, "'" + key + "'");
}

double StateReader::real(const std::string& key, Interval allowed) {
    const Tensor& t = find(key);
    if (!is_floating(t.dtype()) || t.numel() != 1) {
        throw Error(fmt::format("{}: '{}' must be one floating value, got {} {}", op_, key,
                                dtype_name(t.dtype()), shape_str(t.shape())));
    }
    return check_option(t.item(), allowed, op_, "'" + key + "'");
}

double StateReader::hyperparameter(const std::string& key, std::string_view name) {
    const double v = real(key, closed(-inf, inf));
    check_hyperparameter(name, v, op_);
    return v;
}

Tensor StateReader::tensor_like(const std::string& key, const Tensor& like) {
    const Tensor& t = find(key);
    if (!is_floating(t.dtype()) || t.shape() != like.shape()) {
        throw Error(fmt::format("{}: '{}' is {} {} but the parameter is {} {}", op_, key,
                                dtype_name(t.dtype()), shape_str(t.shape()),
                                dtype_name(like.dtype()), shape_str(like.shape())));
    }
    return t.detach().to(like.dtype()).clone();
}

std::vector<std::string> StateReader::unread(std::string_view prefix) const {
    std::vector<std::string> keys;
    for (auto it = state_.lower_bound(prefix); it != state_.end() && it->first.starts_with(prefix);
         ++it) {
        if (!read_.contains(it->first)) keys.push_back(it->first);
    }
    return keys;
}

void StateReader::reject_unread(std::initializer_list<std::string_view> prefixes) const {
    std::vector<std::string> extra;
    for (const auto prefix : prefixes) {
        for (auto& key : unread(prefix)) extra.push_back(std::move(key));
    }
    if (!extra.empty()) {
        throw Error(
            fmt::format("{}: unexpected entries [{}] (a state of another optimizer or "
                        "parameter set?)",
                        op_, fmt::join(extra, ", ")));
    }
}

}  // namespace descent::optim::detail
