// RandomHorizontalFlip (augment.hpp).

#include <fmt/format.h>

#include <vector>

#include "descent/check.hpp"
#include "descent/data/augment.hpp"
#include "descent/grad_mode.hpp"
#include "descent/ops.hpp"
#include "image_batch.hpp"

namespace descent::data {

RandomHorizontalFlip::RandomHorizontalFlip(double p, std::optional<std::uint64_t> seed)
    : RandomTransform(seed), p_(check_option(p, closed(0.0, 1.0), "RandomHorizontalFlip", "p")) {}

std::string RandomHorizontalFlip::config() const {
    return describe("RandomHorizontalFlip", {{"p", p_}});
}

Tensor RandomHorizontalFlip::operator()(const Tensor& batch) {
    detail::check_image_batch(batch, "RandomHorizontalFlip");
    const std::int64_t samples = batch.size(0);
    // sample n is row n of [x; flip(x, W)] unflipped, row samples + n flipped (u < p)
    std::vector<std::int64_t> rows(static_cast<std::size_t>(samples));
    bool any = false;
    for (std::int64_t n = 0; n < samples; ++n) {
        const bool flipped = generator_.uniform() < p_;
        any = any || flipped;
        rows[static_cast<std::size_t>(n)] = flipped ? samples + n : n;
    }
    const NoGradGuard no_grad;
    const Tensor x = batch.detach();
    if (!any) return x.clone();
    return concat({x, flip(x, {3})}, 0).index_select(0, int_tensor(rows, {samples}));
}

}  // namespace descent::data
