#include "descent/optim/param_groups.hpp"

#include <algorithm>

namespace descent::optim {

DecaySplit split_for_weight_decay(const NamedTensors& named, DecaySplitOptions options) {
    DecaySplit split;
    for (const auto& [name, p] : named) {
        const bool by_name =
            std::any_of(options.no_decay_names.begin(), options.no_decay_names.end(),
                        [&](const std::string& s) { return name.find(s) != std::string::npos; });
        const bool by_rank = p.dim() <= options.no_decay_max_rank;
        (by_name || by_rank ? split.no_decay : split.decay).push_back(p);
    }
    return split;
}

}  // namespace descent::optim
