// safetensors checkpoints: bit-exact round trips, the byte layout pinned by a hand-built golden
// file, PyTorch fixtures (tools/make_nn_fixtures.py), one test per kind of malformed file (each
// a FormatError naming the source and the problem), and atomic saves.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <descent/autograd.hpp>
#include <descent/nn/checkpoint.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "checkpoint_files.hpp"

namespace dc = descent;
namespace nn = descent::nn;
namespace fs = std::filesystem;
using Catch::Contains;
using namespace descent::test;

namespace {

const std::string kSource = "bad.safetensors";

/// A tensor of `shape` and `dtype` holding exactly these bytes (sizes must match).
template <class T>
dc::Tensor from_values(const std::vector<T>& values, const dc::Shape& shape) {
    dc::Tensor t = dc::zeros(shape, {.dtype = dc::dtype_of<T>()});
    REQUIRE(static_cast<std::size_t>(t.numel()) == values.size());
    if (!values.empty())
        std::memcpy(t.raw_mutable_data(), values.data(), values.size() * sizeof(T));
    return t;
}

float float_bits(std::uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}
double double_bits(std::uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
}

std::string bytes_of_floats(const std::vector<float>& v) {
    std::string out(v.size() * 4, '\0');
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
    return out;
}

/// The message of the FormatError that parsing `bytes` throws (fails on anything else).
std::string format_error(const std::string& bytes) {
    try {
        nn::from_safetensors(bytes, kSource);
    } catch (const dc::FormatError& e) {
        return e.what();
    } catch (const std::exception& e) {
        FAIL("expected a descent::FormatError, got: " << e.what());
    }
    FAIL("expected a descent::FormatError, parsing succeeded");
    return {};
}

dc::NamedTensors sample_tensors() {
    return {{"w", dc::tensor({1, 2, 3, 4, 5, 6}, {2, 3})},
            {"b", dc::tensor({0.5, -0.5}, {2}, {.dtype = dc::float64})},
            {"step", dc::int_tensor({42}, {})}};
}

const std::string kFixtures = std::string(DESCENT_FIXTURE_DIR) + "/nn";

}  // namespace

// --- round trips --------------------------------------------------------------------------

TEST_CASE("round trip of F32, F64 and I64 tensors is bit-exact", "[checkpoint]") {
    const std::vector<float> f32 = {0.0f,
                                    -0.0f,
                                    std::numeric_limits<float>::infinity(),
                                    -std::numeric_limits<float>::infinity(),
                                    float_bits(0x7FC00001u),  // quiet NaN with a payload
                                    float_bits(0xFFA00000u),  // negative signalling NaN
                                    std::numeric_limits<float>::denorm_min(),
                                    std::numeric_limits<float>::max(),
                                    1.0f / 3.0f,
                                    -2.5e-30f,
                                    float_bits(0x7F800001u),  // signalling NaN, lowest payload
                                    1.0f};
    const std::vector<double> f64 = {-0.0,
                                     std::numeric_limits<double>::infinity(),
                                     double_bits(0x7FF8000000000123ull),
                                     double_bits(0xFFF0000000000001ull),
                                     std::numeric_limits<double>::denorm_min(),
                                     std::numeric_limits<double>::lowest()};
    const std::vector<std::int64_t> i64 = {std::numeric_limits<std::int64_t>::min(), -1, 0,
                                           std::numeric_limits<std::int64_t>::max()};
    const dc::NamedTensors tensors = {
        {"f32", from_values(f32, {3, 2, 2})},
        {"f64", from_values(f64, {6})},
        {"i64", from_values(i64, {2, 2})},
        {"scalar_f32", from_values<float>({-0.0f}, {})},
        {"scalar_f64", from_values<double>({double_bits(0x7FF4000000000000ull)}, {})},
        {"scalar_i64", from_values<std::int64_t>({-7}, {})},
        {"empty_f32", dc::zeros({0}, {.dtype = dc::float32})},
        {"empty_f64", dc::zeros({3, 0, 2}, {.dtype = dc::float64})},
        {"empty_i64", dc::zeros({0, 5}, {.dtype = dc::int64})},
        {"after_empty", from_values<double>({1.5, -1.5}, {1, 2})},
    };
    const std::string bytes = nn::to_safetensors(tensors);
    const nn::Checkpoint back = nn::from_safetensors(bytes);
    require_identical(back.tensors, tensors);
    CHECK(back.metadata.empty());
    CHECK(nn::to_safetensors(back.tensors) == bytes);
    // Grad-requiring tensors are saved by value; loaded ones are plain leaves.
    const dc::Tensor p = dc::tensor({1, 2}).requires_grad_();
    const nn::Checkpoint q = nn::from_safetensors(nn::to_safetensors({{"p", p}}));
    CHECK_FALSE(q.tensors[0].second.requires_grad());
    CHECK(q.tensors[0].second.to_vector() == std::vector<double>{1, 2});
}

TEST_CASE("metadata round trip", "[checkpoint]") {
    const nn::Metadata metadata = {{"format", "pt"},
                                   {"epoch", "12"},
                                   {"empty", ""},
                                   {"quote\"and\\slash", "line\nbreak\ttab"},
                                   {"unicode", "\xC3\xA9t\xC3\xA9 \xE2\x88\x87 \xF0\x9F\x94\xA5"}};
    const nn::Checkpoint back =
        nn::from_safetensors(nn::to_safetensors(sample_tensors(), metadata));
    CHECK(back.metadata == metadata);
    require_identical(back.tensors, sample_tensors());
    // No metadata: no "__metadata__" key at all; an empty checkpoint is valid.
    const std::string none = nn::to_safetensors(sample_tensors());
    CHECK(none.find("__metadata__") == std::string::npos);
    const nn::Checkpoint empty = nn::from_safetensors(nn::to_safetensors({}, {{"k", "v"}}));
    CHECK(empty.tensors.empty());
    CHECK(empty.metadata == nn::Metadata{{"k", "v"}});
    // null metadata, as the reference implementation accepts it.
    CHECK(nn::from_safetensors(file_with("{\"__metadata__\":null}")).metadata.empty());
}

TEST_CASE("golden file: the writer's bytes are pinned", "[checkpoint]") {
    const dc::NamedTensors tensors = {
        {"b", from_values<float>({1.0f, -2.0f}, {2})},
        {"a", from_values<std::int64_t>({7}, {})},
        {"z", dc::zeros({0, 3}, {.dtype = dc::float64})},
    };
    // Compact JSON, metadata first, tensors in the given order with contiguous data, padded with
    // spaces to a multiple of 8 bytes so the data section is 8-byte aligned.
    std::string header = R"({"__metadata__":{"format":"pt"},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("a":{"dtype":"I64","shape":[],"data_offsets":[8,16]},)"
                         R"("z":{"dtype":"F64","shape":[0,3],"data_offsets":[16,16]}})";
    REQUIRE(header.size() == 195);
    header += std::string(5, ' ');
    std::string expected;
    expected += std::string("\xC8\x00\x00\x00\x00\x00\x00\x00", 8);  // 200, little-endian
    expected += header;
    expected += std::string("\x00\x00\x80\x3F", 4);  // 1.0f
    expected += std::string("\x00\x00\x00\xC0", 4);  // -2.0f
    expected += std::string("\x07\x00\x00\x00\x00\x00\x00\x00", 8);
    CHECK(nn::to_safetensors(tensors, {{"format", "pt"}}) == expected);
    const nn::Checkpoint back = nn::from_safetensors(expected);
    require_identical(back.tensors, tensors);
    CHECK(back.metadata == nn::Metadata{{"format", "pt"}});
}

TEST_CASE("load returns tensors in data-offset order", "[checkpoint]") {
    const std::string data = bytes_of_floats({1, 2, 3});
    const std::string bytes =
        file_with(R"({"second":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
                  R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                  R"("first":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("d":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                  data);
    const nn::Checkpoint c = nn::from_safetensors(bytes);
    REQUIRE(c.tensors.size() == 4);
    // Empty tensors at the same offset keep their header order.
    CHECK(c.tensors[0].first == "first");
    CHECK(c.tensors[1].first == "e");
    CHECK(c.tensors[2].first == "d");
    CHECK(c.tensors[3].first == "second");
    CHECK(c.tensors[3].second.to_vector() == std::vector<double>{2, 3});
    // Unpadded headers and whitespace inside the JSON are accepted.
    const nn::Checkpoint spaced = nn::from_safetensors(
        file_with(" { \"x\" : { \"shape\" : [ 1 ] , \"dtype\" : \"F32\" , \"data_offsets\" : "
                  "[ 0 , 4 ] } }\n",
                  bytes_of_floats({9})));
    CHECK(spaced.tensors.at(0).second.to_vector() == std::vector<double>{9});
}

// --- malformed files: one test per problem --------------------------------------------------

TEST_CASE("malformed: fewer than 8 bytes", "[checkpoint]") {
    for (const std::string& bytes :
         {std::string(), std::string("\x08\x00\x00", 3), std::string(7, '\0')}) {
        const std::string msg = format_error(bytes);
        CHECK_THAT(msg, Contains(kSource) && Contains("fewer than the 8"));
    }
    CHECK_THAT(format_error(std::string(7, '\0')), Contains("7 bytes"));
}

TEST_CASE("malformed: header length beyond the file", "[checkpoint]") {
    const std::string bytes = le64(1000) + "{}";
    CHECK_THAT(format_error(bytes), Contains(kSource) && Contains("header length 1000") &&
                                        Contains("past the end") && Contains("2 bytes follow"));
    CHECK_THAT(format_error(le64(3) + "{}"), Contains("header length 3"));
}

TEST_CASE("malformed: absurdly large header length", "[checkpoint]") {
    CHECK_THAT(
        format_error(le64(~std::uint64_t{0}) + "{}"),
        Contains(kSource) && Contains("header length 18446744073709551615") && Contains("limit"));
    CHECK_THAT(format_error(le64(100'000'001) + "{}"), Contains("exceeds the limit"));
}

TEST_CASE("malformed: header is not valid JSON", "[checkpoint]") {
    for (const std::string& header :
         {std::string("{\"a\":"), std::string("not json"), std::string(""),
          std::string("{\"a\":{}} trailing"), std::string("{\"a\"\x00:1}", 8),
          std::string("{\"\xFF\":1}"), std::string("{/* c */}")}) {
        CHECK_THAT(format_error(file_with(header)),
                   Contains(kSource) && Contains("header is not valid JSON"));
    }
}

TEST_CASE("malformed: header nested too deeply", "[checkpoint]") {
    // Deep nesting is refused while parsing: neither the parser nor anything after recurses.
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK_THAT(format_error(file_with(deep)), Contains(kSource) && Contains("nested deeper"));
    CHECK_THAT(
        format_error(file_with(
            R"({"x":{"dtype":"F32","shape":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],"data_offsets":[0,4]}})",
            bytes_of_floats({1}))),
        Contains("nested deeper"));
}

TEST_CASE("malformed: header is not an object", "[checkpoint]") {
    for (const std::string header : {"[1,2]", "\"text\"", "42", "null"}) {
        CHECK_THAT(format_error(file_with(header)),
                   Contains(kSource) && Contains("header must be a JSON object"));
    }
}

TEST_CASE("malformed: metadata is not an object of strings", "[checkpoint]") {
    CHECK_THAT(format_error(file_with(R"({"__metadata__":{"format":"pt","epoch":3}})")),
               Contains(kSource) && Contains("__metadata__") && Contains("\"epoch\"") &&
                   Contains("not a string"));
    CHECK_THAT(format_error(file_with(R"({"__metadata__":{"k":{"nested":"x"}}})")),
               Contains("\"k\"") && Contains("not a string"));
    CHECK_THAT(format_error(file_with(R"({"__metadata__":["format","pt"]})")),
               Contains("__metadata__") && Contains("must be an object"));
}

TEST_CASE("malformed: tensor entry is not an object with the three fields", "[checkpoint]") {
    CHECK_THAT(format_error(file_with(R"({"w":[0,4]})")),
               Contains(kSource) && Contains("tensor \"w\"") && Contains("must be an object"));
    CHECK_THAT(format_error(file_with(R"({"w":{"dtype":"F32","shape":[0]}})")),
               Contains("tensor \"w\"") && Contains("missing field \"data_offsets\""));
    CHECK_THAT(format_error(file_with(
                   R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[0,0],"stride":[1]}})")),
               Contains("tensor \"w\"") && Contains("unknown field \"stride\""));
}

TEST_CASE("malformed: unknown dtype", "[checkpoint]") {
    for (const std::string dtype : {"\"U64\"", "\"f32\"", "\"F8_E5M2\"", "\"\"", "4", "null"}) {
        const std::string header =
            R"({"w":{"dtype":)" + dtype + R"(,"shape":[1],"data_offsets":[0,4]}})";
        CHECK_THAT(format_error(file_with(header, bytes_of_floats({1}))),
                   Contains(kSource) && Contains("tensor \"w\"") &&
                       Contains("unsupported dtype " + dtype));
    }
}

TEST_CASE("malformed: shape is not a list of non-negative integers", "[checkpoint]") {
    for (const std::string shape : {"2", "\"2\"", "[2,-1]", "[2.0]", "[1.5]", "[true]", "[null]",
                                    "{\"0\":2}", "[\"2\"]", "[1e2]", "[18446744073709551616]"}) {
        const std::string header =
            R"({"w":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[0,8]}})";
        INFO(shape);
        CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2}))),
                   Contains(kSource) && Contains("tensor \"w\"") && Contains("shape") &&
                       Contains("non-negative integers"));
    }
}

TEST_CASE("malformed: shape product overflows", "[checkpoint]") {
    // 2^32 · 2^32 wraps to 0 in 64 bits: a naive product would accept it as an empty tensor.
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})";
    CHECK_THAT(format_error(file_with(header)), Contains(kSource) && Contains("tensor \"w\"") &&
                                                    Contains("overflows") &&
                                                    Contains("[4294967296,4294967296]"));
    // A zero after the overflow does not rescue it (the reference implementation agrees).
    CHECK_THAT(
        format_error(file_with(
            R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})")),
        Contains("overflows"));
    // An extent beyond int64, and a count that fits but whose byte size does not.
    CHECK_THAT(format_error(file_with(
                   R"({"w":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,0]}})")),
               Contains("overflows"));
    CHECK_THAT(format_error(file_with(
                   R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})")),
               Contains("tensor \"w\"") && Contains("byte count"));
}

TEST_CASE("malformed: data_offsets are not two non-negative integers", "[checkpoint]") {
    for (const std::string offsets :
         {"[0]", "[0,4,8]", "[]", "[\"0\",\"4\"]", "[-4,0]", "[0,4.0]", "4", "null", "[0,null]"}) {
        const std::string header =
            R"({"w":{"dtype":"F32","shape":[1],"data_offsets":)" + offsets + "}}";
        INFO(offsets);
        CHECK_THAT(format_error(file_with(header, bytes_of_floats({1}))),
                   Contains(kSource) && Contains("tensor \"w\"") &&
                       Contains("data_offsets must be two non-negative integers"));
    }
}

TEST_CASE("malformed: data_offsets begin after they end", "[checkpoint]") {
    const std::string header = R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2}))),
               Contains(kSource) && Contains("tensor \"w\"") && Contains("[8,4]") &&
                   Contains("begin after they end"));
}

TEST_CASE("malformed: data_offsets end beyond the data section", "[checkpoint]") {
    const std::string header = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2}))),
               Contains(kSource) && Contains("tensor \"w\"") && Contains("[0,12]") &&
                   Contains("beyond the data section of 8 bytes"));
}

TEST_CASE("malformed: a 1 TB tensor in a tiny file fails fast without allocating", "[checkpoint]") {
    // 2^38 floats = 1 TiB. Validation must fail before anything of that size is allocated (an
    // attempt would throw bad_alloc or take the machine down, not a FormatError).
    const std::string header =
        R"({"huge":{"dtype":"F32","shape":[274877906944],"data_offsets":[0,1099511627776]}})";
    const std::string msg = format_error(file_with(header, bytes_of_floats({1, 2, 3, 4})));
    CHECK_THAT(msg, Contains(kSource) && Contains("tensor \"huge\"") &&
                        Contains("[0,1099511627776]") && Contains("beyond the data section"));
    // Also when the ranges are consistent but the shape is not (a lying shape).
    CHECK_THAT(format_error(file_with(
                   R"({"huge":{"dtype":"F32","shape":[274877906944],"data_offsets":[0,16]}})",
                   bytes_of_floats({1, 2, 3, 4}))),
               Contains("hold 16 bytes") && Contains("needs 1099511627776"));
}

TEST_CASE("malformed: byte range length differs from numel times dtype size", "[checkpoint]") {
    const std::string header = R"({"w":{"dtype":"F64","shape":[2,2],"data_offsets":[0,16]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2, 3, 4}))),
               Contains(kSource) && Contains("tensor \"w\"") && Contains("hold 16 bytes") &&
                   Contains("[2,2]") && Contains("F64") && Contains("needs 32"));
}

TEST_CASE("malformed: overlapping byte ranges", "[checkpoint]") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2, 3}))),
               Contains(kSource) && Contains("tensor \"b\"") && Contains("[4,12]") &&
                   Contains("overlap") && Contains("tensor \"a\""));
    // Two tensors sharing one range (aliasing) is an overlap too.
    const std::string alias = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    CHECK_THAT(format_error(file_with(alias, bytes_of_floats({1, 2}))), Contains("overlap"));
    // An empty tensor inside another's range.
    const std::string inside = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})";
    CHECK_THAT(format_error(file_with(inside, bytes_of_floats({1, 2}))),
               Contains("tensor \"e\"") && Contains("overlap"));
}

TEST_CASE("malformed: gap between byte ranges", "[checkpoint]") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2, 3}))),
               Contains(kSource) && Contains("bytes [4,8)") && Contains("belong to no tensor") &&
                   Contains("tensor \"b\""));
    // A gap at the start.
    CHECK_THAT(format_error(file_with(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                      bytes_of_floats({1, 2}))),
               Contains("bytes [0,4)"));
}

TEST_CASE("malformed: trailing bytes after the last range", "[checkpoint]") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2}))),
               Contains(kSource) && Contains("data section has 8 bytes") &&
                   Contains("cover only 4") && Contains("4 trailing bytes"));
    CHECK_THAT(format_error(file_with("{}", "x")), Contains("1 trailing bytes"));
}

TEST_CASE("malformed: duplicate tensor names", "[checkpoint]") {
    // nlohmann::json would keep the last one silently; the file is ambiguous, so it is refused.
    const std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    CHECK_THAT(format_error(file_with(header, bytes_of_floats({1, 2}))),
               Contains(kSource) && Contains("duplicate tensor name \"w\""));
    // Duplicate fields inside an entry, and duplicate metadata keys, are refused as well.
    CHECK_THAT(format_error(file_with(
                   R"({"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})",
                   bytes_of_floats({1}))),
               Contains("duplicate key \"dtype\"") && Contains("\"w\""));
    CHECK_THAT(format_error(file_with(R"({"__metadata__":{"k":"a","k":"b"}})")),
               Contains("duplicate key \"k\"") && Contains("__metadata__"));
}

TEST_CASE("malformed files from disk name the path", "[checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "truncated.safetensors";
    const std::string good = nn::to_safetensors(sample_tensors());
    write_file(path, good.substr(0, good.size() - 3));
    CHECK_THROWS_AS(nn::load(path), dc::FormatError);
    CHECK_THROWS_WITH(nn::load(path), Contains(path.string()) && Contains("beyond the data"));
    CHECK_THROWS_AS(nn::load(dir.path / "missing.safetensors"), dc::FormatError);
    CHECK_THROWS_WITH(nn::load(dir.path / "missing.safetensors"),
                      Contains("missing.safetensors") && Contains("cannot open"));
    CHECK_THROWS_AS(nn::load(dir.path), dc::FormatError);
    CHECK_THROWS_WITH(nn::load(dir.path), Contains("not a regular file"));
}

// --- writer checks --------------------------------------------------------------------------

TEST_CASE("writer rejects what it cannot write", "[checkpoint]") {
    const dc::Tensor x = dc::ones({2});
    CHECK_THROWS_AS(nn::to_safetensors({{"a", x}, {"a", x}}), dc::Error);
    CHECK_THROWS_WITH(nn::to_safetensors({{"a", x}, {"b", x}, {"a", x}}),
                      Contains("duplicate tensor name \"a\""));
    CHECK_THROWS_WITH(nn::to_safetensors({{"u", dc::Tensor()}}),
                      Contains("tensor \"u\"") && Contains("undefined"));
    const dc::Tensor mask = dc::ones({2}) > dc::zeros({2});
    REQUIRE(mask.dtype() == dc::boolean);
    CHECK_THROWS_AS(nn::to_safetensors({{"mask", mask}}), dc::DtypeError);
    CHECK_THROWS_WITH(nn::to_safetensors({{"mask", mask}}),
                      Contains("\"mask\"") && Contains("bool"));
    CHECK_THROWS_WITH(nn::to_safetensors({{std::string("bad\xFF", 4), x}}),
                      Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(nn::to_safetensors({{std::string("\xC0\x80", 2), x}}),  // overlong NUL
                      Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(nn::to_safetensors({{std::string("\xED\xA0\x80", 3), x}}),  // surrogate
                      Contains("not valid UTF-8"));
    CHECK_THROWS_WITH(nn::to_safetensors({{"__metadata__", x}}), Contains("reserved"));
    CHECK_THROWS_WITH(nn::to_safetensors({{"x", x}}, {{"k", std::string("\xE2\x88", 2)}}),
                      Contains("metadata") && Contains("not valid UTF-8"));
    // Names may hold any valid UTF-8, including quotes, control characters and the empty name.
    const dc::NamedTensors odd = {{"", x}, {"a\"b\\c\n", x}, {"\xE2\x88\x87w", x}};
    require_identical(nn::from_safetensors(nn::to_safetensors(odd)).tensors, odd);
}

// --- files: atomic save -------------------------------------------------------------------

TEST_CASE("save and load through a file", "[checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "model.safetensors";
    nn::save(sample_tensors(), path, {{"epoch", "3"}});
    const nn::Checkpoint c = nn::load_checkpoint(path);
    require_identical(c.tensors, sample_tensors());
    CHECK(c.metadata == nn::Metadata{{"epoch", "3"}});
    require_identical(nn::load(path), sample_tensors());
    CHECK(read_file(path) == nn::to_safetensors(sample_tensors(), {{"epoch", "3"}}));
    CHECK(dir_entries(dir.path) == std::vector<std::string>{"model.safetensors"});
    // A name of the maximal 255 bytes: the temporary's name must still fit.
    const fs::path long_name = dir.path / (std::string(239, 'n') + ".safetensors");
    nn::save(sample_tensors(), long_name);
    require_identical(nn::load(long_name), sample_tensors());
    fs::remove(long_name);
    // A relative path (no directory part) works too.
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path);
    nn::save(sample_tensors(), "relative.safetensors");
    fs::current_path(cwd);
    require_identical(nn::load(dir.path / "relative.safetensors"), sample_tensors());
}

TEST_CASE("save replaces an existing file atomically and leaves no temporary", "[checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "ckpt.safetensors";
    const dc::NamedTensors old_tensors = {{"w", dc::tensor({1, 2, 3})}};
    nn::save(old_tensors, path);
    const std::string old_bytes = read_file(path);

    SECTION("a successful save replaces the whole file") {
        nn::save(sample_tensors(), path);
        CHECK(read_file(path) == nn::to_safetensors(sample_tensors()));
        CHECK(dir_entries(dir.path) == std::vector<std::string>{"ckpt.safetensors"});
    }
    SECTION("a save that fails validation leaves the old file untouched") {
        CHECK_THROWS_AS(nn::save({{"a", dc::ones({1})}, {"a", dc::ones({1})}}, path), dc::Error);
        CHECK(read_file(path) == old_bytes);
        CHECK(dir_entries(dir.path) == std::vector<std::string>{"ckpt.safetensors"});
    }
    SECTION("a save whose rename fails removes its temporary and keeps the target") {
        const fs::path blocker = dir.path / "occupied";
        fs::create_directories(blocker / "child");  // rename(file, non-empty dir) fails
        CHECK_THROWS_AS(nn::save(sample_tensors(), blocker), dc::Error);
        CHECK_THROWS_WITH(nn::save(sample_tensors(), blocker),
                          Contains("save") && Contains(blocker.string()));
        CHECK(fs::is_directory(blocker / "child"));
        CHECK(dir_entries(dir.path) == std::vector<std::string>{"ckpt.safetensors", "occupied"});
        CHECK(read_file(path) == old_bytes);
    }
}

TEST_CASE("save into a missing directory fails and leaves nothing behind", "[checkpoint]") {
    TempDir dir;
    const fs::path path = dir.path / "no" / "such" / "dir" / "x.safetensors";
    CHECK_THROWS_AS(nn::save(sample_tensors(), path), dc::Error);
    CHECK_THROWS_WITH(nn::save(sample_tensors(), path),
                      Contains("save") && Contains(path.string()));
    CHECK_FALSE(fs::exists(dir.path / "no"));
    CHECK(dir_entries(dir.path).empty());
    CHECK_THROWS_WITH(nn::save(sample_tensors(), dir.path / ""), Contains("names no file"));
}

// --- PyTorch interop (tools/make_nn_fixtures.py) --------------------------------------------

TEST_CASE("PyTorch MLP state_dict fixtures load", "[checkpoint]") {
    for (const auto& [file, dtype] : {std::pair{"mlp_float32.safetensors", dc::float32},
                                      std::pair{"mlp_float64.safetensors", dc::float64}}) {
        INFO(file);
        const fs::path path = kFixtures + "/" + file;
        const nn::Checkpoint c = nn::load_checkpoint(path);
        CHECK(c.metadata == nn::Metadata{{"format", "pt"}});
        const std::vector<std::pair<std::string, dc::Shape>> expected = {
            {"0.weight", {16, 6}},
            {"0.bias", {16}},
            {"1.weight", {16}},
            {"1.bias", {16}},
            {"4.weight", {16, 16}},
            {"4.bias", {16}},
            {"5.weight", {16}},
            {"5.bias", {16}},
            {"5.running_mean", {16}},
            {"5.running_var", {16}},
            {"5.num_batches_tracked", {}},
            {"7.weight", {4, 16}},
            {"7.bias", {4}}};
        REQUIRE(c.tensors.size() == expected.size());
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CHECK(c.tensors[i].first == expected[i].first);
            CHECK(c.tensors[i].second.shape() == expected[i].second);
            CHECK(c.tensors[i].second.dtype() ==
                  (expected[i].first == "5.num_batches_tracked" ? dc::int64 : dtype));
        }
        CHECK(c.tensors[10].second.to_int_vector() == std::vector<std::int64_t>{5});
        // Running statistics moved away from their initial 0 and 1.
        CHECK(c.tensors[8].second.abs().max().item() > 1e-3);
        CHECK(std::abs(c.tensors[9].second.mean().item() - 1.0) > 1e-3);

        // Written back by descent: the same tensors, and since the layouts agree, the same bytes.
        TempDir dir;
        const fs::path copy = dir.path / file;
        nn::save(c.tensors, copy, c.metadata);
        require_identical(nn::load(copy), c.tensors);
        CHECK(read_file(copy) == read_file(path));
    }
}

TEST_CASE("PyTorch io and batchnorm fixtures load", "[checkpoint]") {
    const nn::Checkpoint io = nn::load_checkpoint(kFixtures + "/mlp_io_float64.safetensors");
    REQUIRE(io.tensors.size() == 14);
    CHECK(io.tensors[0].first == "input");
    CHECK(io.tensors[0].second.shape() == dc::Shape{10, 6});
    CHECK(io.tensors[1].first == "output");
    CHECK(io.tensors[1].second.shape() == dc::Shape{10, 4});
    CHECK(io.tensors[2].first == "weight");
    CHECK(io.tensors[3].first == "grad.0.weight");
    CHECK(io.tensors[13].first == "grad.input");
    CHECK(io.tensors[13].second.shape() == dc::Shape{10, 6});
    CHECK(io.tensors[13].second.dtype() == dc::float64);

    const nn::Checkpoint bn = nn::load_checkpoint(kFixtures + "/batchnorm_stats.safetensors");
    REQUIRE(bn.tensors.size() == 2 * (2 + 4 * 5));
    CHECK(bn.metadata.at("bn1").find("momentum=0.3") != std::string::npos);
    const auto find = [&](const std::string& name) {
        for (const auto& [n, t] : bn.tensors)
            if (n == name) return t;
        FAIL("no tensor " << name);
        return dc::Tensor();
    };
    CHECK(find("bn1.batch3").shape() == dc::Shape{4, 3, 6});
    CHECK(find("bn0.after3.running_mean").shape() == dc::Shape{5});
    CHECK(find("bn1.after2.num_batches_tracked").to_int_vector() == std::vector<std::int64_t>{3});
}

// --- fuzzing ------------------------------------------------------------------------------

/// Writes the seed corpus of fuzz/checkpoint_fuzz (hidden: run `nn_tests "[.fuzz-corpus]"`).
TEST_CASE("write the fuzz seed corpus", "[.fuzz-corpus]") {
    const fs::path corpus = fs::path(DESCENT_FIXTURE_DIR) / ".." / ".." / "fuzz" / "corpus";
    fs::create_directories(corpus);
    const auto put = [&](const std::string& name, const std::string& bytes) {
        write_file(corpus / name, bytes);
    };
    put("valid_sample", nn::to_safetensors(sample_tensors(), {{"format", "pt"}}));
    put("valid_empty", nn::to_safetensors({}));
    put("valid_metadata_only", nn::to_safetensors({}, {{"a", "b"}, {"c", ""}}));
    put("valid_zero_size",
        nn::to_safetensors({{"e", dc::zeros({0, 3})},
                            {"s", dc::scalar_tensor(2.0, {.dtype = dc::float64})},
                            {"f", dc::zeros({0}, {.dtype = dc::int64})}}));
    put("valid_odd_names", nn::to_safetensors({{"", dc::ones({1})},
                                               {"q\"\\\n\xE2\x88\x87", dc::int_tensor({3}, {1})}}));
    put("overlap", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             bytes_of_floats({1, 2, 3})));
    put("gap", file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                         R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                         bytes_of_floats({1, 2, 3})));
    put("huge",
        file_with(
            R"({"h":{"dtype":"F32","shape":[274877906944],"data_offsets":[0,1099511627776]}})",
            bytes_of_floats({1})));
    put("overflow",
        file_with(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})"));
    put("duplicate", file_with(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                               bytes_of_floats({1, 2})));
    put("header_too_long", le64(1000) + "{}");
    put("short", std::string("\x02\x00\x00", 3));
}
