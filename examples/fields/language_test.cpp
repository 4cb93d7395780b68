// The language experiment's quick protocol: the frequency deciles split the vocabulary and the
// held-out tokens exactly once, in order of frequency; every optimizer, in every model and
// regime, learns something (its held-out loss beats the uniform guess, log V); and the
// per-decile losses average back to the overall loss.

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "fields/language.hpp"

TEST_CASE("language: deciles partition the vocabulary, every optimizer beats the uniform guess") {
    const fields::LanguageResult result =
        fields::run_language(fields::language_protocol(fields::Scale::quick));
    const std::int64_t vocab = result.vocabulary;
    REQUIRE(vocab > fields::deciles);
    REQUIRE(static_cast<std::int64_t>(result.decile_of.size()) == vocab);

    // Ten groups of equal word count (±1), every word in one, frequent words first.
    std::array<std::int64_t, fields::deciles> words{};
    std::array<std::int64_t, fields::deciles> most{}, least{};
    least.fill(INT64_MAX);
    for (std::int64_t t = 0; t < vocab; ++t) {
        const int d = result.decile_of[static_cast<std::size_t>(t)];
        REQUIRE((d >= 0 && d < fields::deciles));
        ++words[d];
        most[d] = std::max(most[d], result.train_count[static_cast<std::size_t>(t)]);
        least[d] = std::min(least[d], result.train_count[static_cast<std::size_t>(t)]);
    }
    double mass = 0.0;
    std::int64_t targets = 0;
    for (int d = 0; d < fields::deciles; ++d) {
        CHECK((words[d] == vocab / fields::deciles || words[d] == vocab / fields::deciles + 1));
        if (d > 0) CHECK(least[d - 1] >= most[d]);
        mass += result.mass[d];
        targets += result.held_out_targets[d];
    }
    CHECK(mass == Approx(1.0));
    CHECK(targets == result.held_out_tokens - 1);  // every held-out token after the first

    REQUIRE(result.rows.size() == 12);  // 2 models × 2 regimes × 3 optimizers
    for (const fields::LanguageRow& row : result.rows) {
        INFO(row.model << (row.full_batch ? " full batch " : " mini-batch ") << row.optimizer
                       << " at lr " << row.lr);
        REQUIRE(row.held_out.size() == result.protocol.seeds.size());
        for (std::size_t s = 0; s < row.held_out.size(); ++s) {
            INFO("seed " << result.protocol.seeds[s]);
            CHECK(row.held_out[s] < std::log(static_cast<double>(vocab)));
            CHECK(row.train_loss[s] < std::log(static_cast<double>(vocab)));
            if (row.model == "linear") {  // the linear model's targets are held_out_targets
                double weighted = 0.0;
                for (int d = 0; d < fields::deciles; ++d)
                    if (result.held_out_targets[d] > 0)  // else its loss is NaN
                        weighted += row.held_out_decile[s][d] *
                                    static_cast<double>(result.held_out_targets[d]);
                CHECK(weighted / static_cast<double>(targets) ==
                      Approx(row.held_out[s]).epsilon(1e-9));
            }
        }
    }
}
