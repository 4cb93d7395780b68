#pragma once
// A safetensors fixture written by a tools/make_*_fixtures.py script, read by its
// "<case>.<group>.<name>" keys, and the relative closeness check the torch comparisons use.

#include <catch2/catch.hpp>
#include <cmath>
#include <descent/autograd.hpp>
#include <descent/nn/checkpoint.hpp>
#include <map>
#include <string>

namespace descent::testing {

class TorchFixture {
  public:
    /// The file under the fixture directory, e.g. "nn/recurrent.safetensors".
    explicit TorchFixture(const std::string& file) {
        for (auto& [key, t] : nn::load(std::string(DESCENT_FIXTURE_DIR) + "/" + file)) {
            tensors_[key] = t;
        }
    }
    const std::map<std::string, Tensor>& all() const { return tensors_; }
    bool has(const std::string& key) const { return tensors_.count(key) == 1; }
    const Tensor& at(const std::string& key) const { return tensors_.at(key); }
    /// Every entry "<case>.<group>.<name>" as name → tensor, in key order.
    StateDict group(const std::string& case_name, const std::string& group) const {
        const std::string prefix = case_name + "." + group + ".";
        StateDict out;
        for (const auto& [key, t] : tensors_) {
            if (key.rfind(prefix, 0) == 0) out.emplace_back(key.substr(prefix.size()), t);
        }
        return out;
    }

  private:
    std::map<std::string, Tensor> tensors_;
};

/// max |a − b| ≤ tolerance · max |b| + floor (relative to the reference's largest magnitude,
/// with an absolute floor for references near 0); where b is NaN, a must be NaN too.
inline void check_close(const Tensor& a, const Tensor& b, const std::string& what,
                        double tolerance = 1e-12, double floor = 0.0) {
    INFO(what);
    REQUIRE(a.defined());
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector(), vb = b.to_vector();
    double scale = 1e-300, diff = 0.0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        if (std::isnan(vb[i])) {
            CHECK(std::isnan(va[i]));
            continue;
        }
        scale = std::max(scale, std::abs(vb[i]));
        diff = std::max(diff, std::abs(va[i] - vb[i]));
    }
    INFO("max difference " << diff << " against largest magnitude " << scale);
    CHECK(diff <= tolerance * scale + floor);
}

}  // namespace descent::testing
