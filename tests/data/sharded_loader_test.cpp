// The DataLoader sharded for data-parallel training (num_replicas, rank): the ranks' shards of
// each global batch, in rank order, are the unsharded loader's batch; the validation of the
// options; resuming mid-epoch; and Batch binding as [x, y].

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <descent/autograd.hpp>
#include <descent/data.hpp>
#include <descent/nn.hpp>
#include <limits>
#include <type_traits>
#include <vector>

namespace dc = descent;
namespace data = descent::data;
namespace nn = descent::nn;
using Catch::Matchers::Contains;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

/// x [rows, 2] = (2i, 2i + 1) and y [rows] = 100 + i for row i, so that rows can be told apart.
struct Data {
    explicit Data(std::int64_t rows)
        : x(dc::arange(0, 2.0 * static_cast<double>(rows), 1, {.dtype = dc::float64})
                .reshape({rows, 2})),
          y(dc::arange(100, 100.0 + static_cast<double>(rows), 1, {.dtype = dc::int64})) {}
    dc::Tensor x, y;
};

/// The batches of one epoch (the loader makes new tensors for every batch, so keeping them is
/// safe).
std::vector<data::Batch> epoch(data::DataLoader& loader) {
    std::vector<data::Batch> out;
    for (auto& batch : loader) out.push_back(batch);
    return out;
}

std::vector<std::int64_t> ints(const dc::Tensor& t) {
    return t.to_int_vector();
}

void append(std::vector<std::int64_t>& to, const std::vector<std::int64_t>& from) {
    to.insert(to.end(), from.begin(), from.end());
}

/// The dataset rows of y = 100 + i.
std::vector<std::int64_t> rows_of(const dc::Tensor& y) {
    std::vector<std::int64_t> rows = ints(y);
    for (auto& r : rows) r -= 100;
    return rows;
}

/// The loader's row order of the current epoch, from its state.
std::vector<std::int64_t> order_of(const data::DataLoader& loader) {
    for (const auto& [name, t] : loader.state_dict()) {
        if (name == "order") return ints(t);
    }
    FAIL("no order in the state");
    return {};
}

struct Case {
    std::int64_t rows, batch_size, replicas;
    bool drop_last, shuffle;
};
}  // namespace

TEST_CASE("the shards of a global batch, in rank order, are the unsharded batch", "[data][shard]") {
    const std::vector<Case> cases = {
        {10, 4, 1, false, true},   // unsharded, through the new options
        {10, 4, 2, false, true},   // final batch of 2 = R: kept, one row each
        {10, 4, 3, false, true},   // final batch of 2 < R: dropped
        {11, 4, 3, false, true},   // final batch of 3 = R: kept
        {10, 4, 3, true, true},    // drop_last
        {11, 4, 3, true, false},   // drop_last, no shuffling
        {13, 5, 3, false, false},  // shards 2,2,1 and a final 1,1,1
        {12, 5, 3, false, true},   // final batch of 2 < R: dropped
        {7, 7, 3, false, true},    // one global batch: 3,2,2
        {20, 6, 4, false, true},   // final batch of 2 < R: dropped
        {9, 3, 3, false, true},    // one row per rank per batch
        {5, 8, 3, false, true},    // fewer rows than batch_size: one batch 2,2,1
    };
    for (const Case& c : cases) {
        CAPTURE(c.rows, c.batch_size, c.replicas, c.drop_last, c.shuffle);
        const Data data(c.rows);
        data::DataLoader whole(data.x, data.y,
                               {.batch_size = c.batch_size,
                                .shuffle = c.shuffle,
                                .drop_last = c.drop_last,
                                .seed = 21});
        std::vector<data::DataLoader> ranks;
        ranks.reserve(static_cast<std::size_t>(c.replicas));
        for (std::int64_t r = 0; r < c.replicas; ++r) {
            ranks.emplace_back(data.x, data.y,
                               data::DataLoaderOptions{.batch_size = c.batch_size,
                                                       .shuffle = c.shuffle,
                                                       .drop_last = c.drop_last,
                                                       .seed = 21,
                                                       .num_replicas = c.replicas,
                                                       .rank = r});
        }
        const std::int64_t rest = c.rows % c.batch_size;
        const bool too_small = rest > 0 && !c.drop_last && rest < c.replicas;
        const std::int64_t expected = whole.batches() - (too_small ? 1 : 0);
        for (const auto& loader : ranks) CHECK(loader.batches() == expected);

        std::vector<std::vector<std::int64_t>> orders;  // the global order of each epoch
        for (int e = 0; e < 2; ++e) {
            const std::vector<data::Batch> reference = epoch(whole);
            std::vector<std::vector<data::Batch>> shards;
            for (auto& loader : ranks) shards.push_back(epoch(loader));
            orders.push_back(order_of(whole));
            for (const auto& loader : ranks) CHECK(order_of(loader) == orders.back());
            for (const auto& s : shards) REQUIRE(static_cast<std::int64_t>(s.size()) == expected);
            std::vector<std::int64_t> seen;
            for (std::size_t b = 0; b < reference.size(); ++b) {
                const data::Batch& global = reference[b];
                CHECK(global.global_rows == global.x.size(0));  // unsharded: its own rows
                CHECK(ints(global.indices) == rows_of(global.y));
                if (static_cast<std::int64_t>(b) >= expected) continue;  // dropped when sharded
                std::vector<double> x;
                std::vector<std::int64_t> y, indices, sizes;
                for (const auto& s : shards) {
                    const data::Batch& shard = s[b];
                    CHECK(shard.global_rows == global.x.size(0));
                    const std::vector<double> xs = shard.x.to_vector();
                    x.insert(x.end(), xs.begin(), xs.end());
                    append(y, ints(shard.y));
                    append(indices, ints(shard.indices));
                    sizes.push_back(shard.x.size(0));
                    CHECK(shard.y.size(0) == shard.x.size(0));
                    CHECK(shard.indices.size(0) == shard.x.size(0));
                }
                CHECK(x == global.x.to_vector());
                CHECK(y == ints(global.y));
                CHECK(indices == ints(global.indices));
                const auto [low, high] = std::minmax_element(sizes.begin(), sizes.end());
                CHECK(*high - *low <= 1);
                CHECK(*low >= 1);
                CHECK(std::is_sorted(sizes.rbegin(), sizes.rend()));  // the larger shards first
                append(seen, indices);
            }
            // the rows handed out are the order's first, each once; only a final batch is
            // dropped (by drop_last, or as too small for R)
            const std::int64_t dropped = c.drop_last || too_small ? rest : 0;
            REQUIRE(static_cast<std::int64_t>(seen.size()) == c.rows - dropped);
            CHECK(std::equal(seen.begin(), seen.end(), orders.back().begin()));
            std::sort(seen.begin(), seen.end());
            CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
        }
        if (c.shuffle) CHECK(orders[0] != orders[1]);  // a new order each epoch
    }
}

TEST_CASE("sharding options are validated", "[data][shard]") {
    const Data data(10);
    const auto make = [&](data::DataLoaderOptions options) {
        return data::DataLoader(data.x, data.y, options);
    };
    CHECK_THROWS_WITH(make({.num_replicas = 0}),
                      Contains("DataLoader") && Contains("num_replicas") && Contains("0"));
    CHECK_THROWS_WITH(make({.num_replicas = kMin}),
                      Contains("num_replicas") && Contains("-9223372036854775808"));
    CHECK_THROWS_WITH(make({.seed = 1, .num_replicas = 3, .rank = 3}),
                      Contains("DataLoader") && Contains("rank 3") && Contains("[0, 3)"));
    CHECK_THROWS_WITH(make({.seed = 1, .num_replicas = 3, .rank = -1}),
                      Contains("DataLoader") && Contains("rank -1"));
    CHECK_THROWS_WITH(make({.rank = kMin}), Contains("rank -9223372036854775808"));
    CHECK_THROWS_WITH(make({.rank = kMax}), Contains("rank 9223372036854775807"));
    CHECK_THROWS_WITH(make({.rank = 1}), Contains("rank 1") && Contains("[0, 1)"));
    CHECK_THROWS_WITH(make({.batch_size = 2, .seed = 1, .num_replicas = 3}),
                      Contains("DataLoader") && Contains("batch_size 2") &&
                          Contains("num_replicas 3") && Contains("empty shard"));
    CHECK_THROWS_WITH(make({.num_replicas = 2}),
                      Contains("DataLoader") && Contains("seed") &&
                          Contains("every rank must draw the same order"));
    CHECK_THROWS_WITH(make({.batch_size = 0, .num_replicas = 2}), Contains("batch_size"));
    CHECK_NOTHROW(make({.shuffle = false, .num_replicas = 2, .rank = 1}));  // no order to draw
    CHECK_NOTHROW(make({.batch_size = 3, .seed = 1, .num_replicas = 3, .rank = 2}));
}

TEST_CASE("sharding with extreme sizes does not overflow", "[data][shard]") {
    const Data data(10);
    // more replicas than rows: the one global batch is too small, so there are none
    data::DataLoader many(data.x, data.y,
                          {.batch_size = kMax, .seed = 3, .num_replicas = kMax, .rank = kMax - 1});
    CHECK(many.batches() == 0);
    CHECK(epoch(many).empty());
    // batch_size beyond the rows: one global batch of 10 rows, 4 + 3 + 3
    std::vector<std::int64_t> sizes, rows;
    for (std::int64_t r = 0; r < 3; ++r) {
        data::DataLoader loader(data.x, data.y,
                                {.batch_size = kMax, .seed = 3, .num_replicas = 3, .rank = r});
        const std::vector<data::Batch> batches = epoch(loader);
        REQUIRE(batches.size() == 1);
        CHECK(batches[0].global_rows == 10);
        sizes.push_back(batches[0].x.size(0));
        append(rows, ints(batches[0].indices));
    }
    CHECK(sizes == std::vector<std::int64_t>{4, 3, 3});
    std::sort(rows.begin(), rows.end());
    CHECK(rows == ints(dc::arange(0, 10, 1, {.dtype = dc::int64})));
    data::DataLoader dropped(data.x, data.y, {.batch_size = kMax, .drop_last = true});
    CHECK(dropped.batches() == 0);
}

TEST_CASE("a sharded loader resumes mid-epoch from its state", "[data][shard]") {
    const Data data(23);
    const data::DataLoaderOptions options{
        .batch_size = 6, .seed = 5, .num_replicas = 3, .rank = 1};  // 3 batches + 5 rows
    data::DataLoader straight(data.x, data.y, options);
    const std::vector<data::Batch> first = epoch(straight), second = epoch(straight);
    REQUIRE(first.size() == 4);

    data::DataLoader interrupted(data.x, data.y, options);
    int taken = 0;
    for (auto& batch : interrupted) {
        CHECK(ints(batch.indices) == ints(first[static_cast<std::size_t>(taken)].indices));
        if (++taken == 2) break;
    }
    const dc::NamedTensors state = interrupted.state_dict();

    data::DataLoader resumed(data.x, data.y,
                             {.batch_size = 6, .seed = 99, .num_replicas = 3, .rank = 1});
    resumed.load_state_dict(state);
    const std::vector<data::Batch> rest = epoch(resumed), next = epoch(resumed);
    REQUIRE(rest.size() == 2);
    for (std::size_t b = 0; b < rest.size(); ++b) {
        CHECK(ints(rest[b].indices) == ints(first[b + 2].indices));
        CHECK(rest[b].x.to_vector() == first[b + 2].x.to_vector());
        CHECK(rest[b].global_rows == first[b + 2].global_rows);
    }
    REQUIRE(next.size() == second.size());
    for (std::size_t b = 0; b < next.size(); ++b) {
        CHECK(ints(next[b].indices) == ints(second[b].indices));
    }
    // the state belongs to a loader over 23 rows
    const Data fewer(22);
    data::DataLoader other(fewer.x, fewer.y, options);
    CHECK_THROWS_WITH(other.load_state_dict(state), Contains("permutation of the 22 rows"));
}

TEST_CASE("a Batch binds as [x, y]", "[data][shard]") {
    static_assert(std::tuple_size_v<data::Batch> == 2);
    static_assert(std::is_same_v<std::tuple_element_t<1, data::Batch>, dc::Tensor>);
    const Data data(6);
    data::Batch batch{.x = data.x,
                      .y = data.y,
                      .indices = dc::int_tensor(rows_of(data.y), {6}),
                      .global_rows = 6};
    auto& [x, y] = batch;
    CHECK(&x == &batch.x);
    CHECK(&y == &batch.y);
    x = dc::zeros({1});  // writes the member
    CHECK(batch.x.numel() == 1);
    const auto& [a, b] = batch;
    static_assert(std::is_same_v<decltype(a), const dc::Tensor>);
    CHECK(&a == &batch.x);
    CHECK(&b == &batch.y);
    auto [copy_x, copy_y] = batch;  // a copy of the batch: the same tensors, other handles
    CHECK(&copy_x != &batch.x);
    CHECK(copy_y.is_same(batch.y));
    auto&& [moved_x, moved_y] = std::move(batch);  // binds, moves nothing
    CHECK(&moved_x == &batch.x);
    CHECK(moved_y.is_same(data.y));

    data::DataLoader loader(data.x, data.y, {.batch_size = 4, .seed = 1});
    std::int64_t rows = 0;
    for (auto& [xb, yb] : loader) {
        CHECK(xb.size(1) == 2);  // the features, then the targets
        CHECK(yb.dim() == 1);
        rows += yb.size(0);
    }
    CHECK(rows == 6);
    for (const auto& [xb, yb] : loader) CHECK(xb.size(0) == yb.size(0));
}
