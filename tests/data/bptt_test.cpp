// batchify and BpttWindows: torch word_language_model's cut into streams and windows,
// batch-major, and errors for bad sizes.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;

TEST_CASE("batchify: batch-major streams, the remainder dropped", "[data-text][bptt]") {
    const dc::Tensor tokens = dc::arange(0, 11, 1, {.dtype = dc::int64});
    const dc::Tensor streams = data::batchify(tokens, 3);
    CHECK(streams.shape() == dc::Shape{3, 3});
    CHECK(streams.to_int_vector() == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(data::batchify(tokens, 11).shape() == dc::Shape{11, 1});
    CHECK(data::batchify(tokens, 1).shape() == dc::Shape{1, 11});
    CHECK_THROWS_WITH(data::batchify(tokens, 0), Contains("batchify") && Contains("got 0"));
    CHECK_THROWS_WITH(data::batchify(tokens, -3), Contains("batch_size must be in [1, 11]"));
    CHECK_THROWS_WITH(data::batchify(tokens, 12), Contains("got 12"));
    CHECK_THROWS_WITH(data::batchify(dc::tensor({1.0, 2.0}), 1),
                      Contains("int64 [n], got float32 [2]"));
    CHECK_THROWS_WITH(data::batchify(streams, 1), Contains("got int64 [3,3]"));
    CHECK_THROWS_WITH(data::batchify(dc::Tensor{}, 1), Contains("undefined"));
    CHECK_THROWS_AS(data::batchify(dc::int_tensor({}, {0}), 1), dc::Error);
}

TEST_CASE("BpttWindows: inputs and next-token targets, a short last window", "[data-text][bptt]") {
    // streams [2, 7]; torch's get_batch(i): seq_len = min(bptt, T − 1 − i), data = s[i:i+seq_len],
    // target = s[i+1:i+1+seq_len] along time; here along dim 1
    const dc::Tensor streams = data::batchify(dc::arange(0, 14, 1, {.dtype = dc::int64}), 2);
    const data::BpttWindows windows(streams, 4);
    REQUIRE(windows.size() == 2);
    std::vector<std::vector<std::int64_t>> inputs, targets;
    for (auto [input, target] : windows) {
        inputs.push_back(input.to_int_vector());
        targets.push_back(target.to_int_vector());
        CHECK(input.shape() == target.shape());
    }
    REQUIRE(inputs.size() == 2);
    CHECK(inputs[0] == std::vector<std::int64_t>{0, 1, 2, 3, 7, 8, 9, 10});
    CHECK(targets[0] == std::vector<std::int64_t>{1, 2, 3, 4, 8, 9, 10, 11});
    CHECK(inputs[1] == std::vector<std::int64_t>{4, 5, 11, 12});  // the short last window
    CHECK(targets[1] == std::vector<std::int64_t>{5, 6, 12, 13});
    CHECK(windows[1].input.shape() == dc::Shape{2, 2});
    CHECK(data::BpttWindows(streams, 6).size() == 1);  // bptt divides T − 1
    CHECK(data::BpttWindows(streams, 100).size() == 1);
    CHECK(data::BpttWindows(streams, 1).size() == 6);
    CHECK_THROWS_WITH(windows[2], Contains("BpttWindows") && Contains("window 2 is not in [0, 2)"));
    CHECK_THROWS_WITH(windows[-1], Contains("window -1"));
    CHECK_THROWS_WITH(data::BpttWindows(streams, 0), Contains("bptt must be ≥ 1, got 0"));
    CHECK_THROWS_WITH(data::BpttWindows(streams, -2), Contains("got -2"));
    CHECK_THROWS_WITH(
        data::BpttWindows(data::batchify(dc::arange(0, 3, 1, {.dtype = dc::int64}), 3), 2),
        Contains("T = 1"));
    CHECK_THROWS_WITH(data::BpttWindows(dc::zeros({2, 5}), 2),
                      Contains("int64 [batch, T]") && Contains("float32 [2,5]"));
    CHECK_THROWS_WITH(data::BpttWindows(dc::int_tensor({1, 2}, {2}), 2), Contains("int64 [2]"));
}
