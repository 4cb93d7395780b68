// torch.save files against a hostile author: pickles that name os.system or builtins.eval,
// structures that hold themselves or nest without end, sizes that overflow or exceed their
// storage, archives cut short at every byte, entries out of range or overlapping, storages of
// the wrong size or missing, and paths that are no regular file. Every one is a FormatError
// naming the problem; nothing crashes, hangs, or allocates what the file merely announces.

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <descent/autograd.hpp>
#include <descent/nn/torch_file.hpp>
#include <string>
#include <vector>

#include "checkpoint_files.hpp"
#include "torch_file_builder.hpp"

namespace dc = descent;
namespace nn = descent::nn;
using Catch::Contains;
using namespace descent::test;

namespace {

/// The error from_torch gives for `bytes` (failing the test if it gives none).
std::string error_of(const std::string& bytes) {
    try {
        nn::from_torch(bytes, "<hostile>");
    } catch (const dc::FormatError& e) {
        return e.what();
    }
    FAIL("from_torch accepted the file");
    return {};
}

/// A pickle file with no storages.
std::string pickled(const std::string& pickle) {
    return torch_file(pickle, {});
}

const std::string kFloats(4 * 6, '\0');  // six float32 zeros

}  // namespace

TEST_CASE("hostile torch file: a hand-built file loads", "[hostile][nn][torch_file]") {
    std::string data;
    for (int i = 0; i < 6; ++i) {
        const float v = static_cast<float>(i);
        data.append(reinterpret_cast<const char*>(&v), 4);
    }
    // [2,2] view at offset 1 with strides (1, 2): elements 1, 3, 2, 4.
    const auto state = nn::from_torch(torch_file(one_tensor(6, 1, {2, 2}, {1, 2}), {{"0", data}}));
    REQUIRE(state.tensors.size() == 1);
    CHECK(state.tensors[0].first == "w");
    CHECK(state.tensors[0].second.shape() == dc::Shape{2, 2});
    CHECK(state.tensors[0].second.to_vector() == std::vector<double>{1, 3, 2, 4});
}

TEST_CASE("hostile torch file: globals outside a state_dict are refused by name",
          "[hostile][nn][torch_file]") {
    // GLOBAL os.system, called by REDUCE: refused at the GLOBAL, before anything is called.
    CHECK_THAT(
        error_of(pickled(Pickle().global("os", "system").str("ls").op('\x85').op('R').stop())),
        Contains("<hostile>") && Contains("refuses the global \"os.system\""));
    // The same through STACK_GLOBAL (protocol 4).
    const std::string stack_global = "\x80\x04\x8c\x02os\x8c\x06system\x93\x8c\x02ls\x85R.";
    CHECK_THAT(error_of(pickled(stack_global)), Contains("refuses the global \"os.system\""));
    CHECK_THAT(
        error_of(pickled(Pickle().global("builtins", "eval").str("1").op('\x85').op('R').stop())),
        Contains("\"builtins.eval\""));
    CHECK_THAT(error_of(pickled(Pickle().global("torch", "load").stop())),
               Contains("\"torch.load\""));
    // An allowed global that is no callable; REDUCE on a string.
    CHECK_THAT(error_of(pickled(Pickle().global("torch", "FloatStorage").op(')').op('R').stop())),
               Contains("REDUCE calls torch.FloatStorage, which is not callable"));
    CHECK_THAT(error_of(pickled(Pickle().str("os.system").op(')').op('R').stop())),
               Contains("REDUCE calls a str"));
    // Opcodes a state_dict never uses (INST, OBJ, NEWOBJ, BINBYTES, EXT1).
    for (const char op : {'i', 'o', '\x81', 'B', '\x82'}) {
        CHECK_THAT(error_of(pickled(Pickle().op(op).stop())),
                   Contains("is not one a state_dict uses"));
    }
}

TEST_CASE("hostile torch file: structures that hold themselves or nest deeply",
          "[hostile][nn][torch_file]") {
    // A list appended to itself through the memo; a dict holding itself.
    CHECK_THAT(error_of(pickled(Pickle().op(']').op('q').op('\0').op('h').op('\0').op('a').stop())),
               Contains("APPEND puts a list into itself"));
    CHECK_THAT(error_of(pickled(
                   Pickle().op('}').op('q').op('\0').str("k").op('h').op('\0').op('s').stop())),
               Contains("SETITEM puts a dict into itself"));
    // Two lists holding each other: no recursion anywhere, just not a state_dict.
    CHECK_THAT(error_of(pickled(Pickle()
                                    .op(']')
                                    .op('q')
                                    .op('\0')
                                    .op(']')
                                    .op('q')
                                    .op('\1')
                                    .op('h')
                                    .op('\0')
                                    .op('a')  // list 1 holds list 0
                                    .op('0')  // POP: not a state_dict opcode
                                    .stop())),
               Contains("opcode 0x30"));
    // 2000 nested MARKs; a million nested one-tuples (no stack is used per level).
    CHECK_THAT(error_of(pickled(Pickle().op('N').stop().insert(2, std::string(2000, '(')))),
               Contains("MARKs nest deeper than 1000"));
    std::string deep = Pickle().op('N').out;
    deep.append(1'000'000, '\x85');
    CHECK_THAT(error_of(pickled(deep + ".")), Contains("holds a tuple, not a state_dict"));
    // Two million values on the stack.
    std::string wide = Pickle().out;
    wide.append(2'000'000, 'N');
    CHECK_THAT(error_of(pickled(wide + ".")), Contains("the stack grows beyond"));
    // A memo read that was never written; a pickle without STOP; pops from an empty stack.
    CHECK_THAT(error_of(pickled(Pickle().op('h').op('\7').stop())), Contains("memo entry 7"));
    CHECK_THAT(error_of(pickled(Pickle().op('N').out)), Contains("ends without STOP"));
    CHECK_THAT(error_of(pickled(Pickle().op('a').stop())), Contains("empty stack"));
}

TEST_CASE("hostile torch file: sizes, strides and storages that do not fit",
          "[hostile][nn][torch_file]") {
    const auto error = [](const std::string& pickle, const std::string& storage = kFloats) {
        return error_of(torch_file(pickle, {{"0", storage}}));
    };
    constexpr std::int64_t kBig = std::int64_t{1} << 40;
    CHECK_THAT(error(one_tensor(6, 0, {kBig, kBig, kBig}, {1, 1, 1})), Contains("overflow int64"));
    CHECK_THAT(error(one_tensor(6, 0, {kBig}, {1})), Contains("beyond its 6 elements"));
    CHECK_THAT(error(one_tensor(6, 4, {3}, {1})), Contains("reaches element 6"));
    CHECK_THAT(error(one_tensor(6, -1, {2}, {1})), Contains("offset -1 < 0"));
    CHECK_THAT(error(one_tensor(6, 0, {2}, {-1})), Contains("stride -1 < 0"));
    CHECK_THAT(error(one_tensor(6, 0, {-2}, {1})), Contains("size -2"));
    CHECK_THAT(error(one_tensor(6, 0, {4, 3}, {0, 1})), Contains("views that repeat elements"));
    // Storage numel and bytes disagree; a numel whose byte count overflows.
    CHECK_THAT(error(one_tensor(7, 0, {6}, {1})), Contains("holds 24 bytes, not 7 elements"));
    CHECK_THAT(error(one_tensor(std::int64_t{1} << 62, 0, {6}, {1})),
               Contains("not 4611686018427387904 elements"));
    CHECK_THAT(error(one_tensor(-1, 0, {0}, {1})), Contains("has -1 elements"));
    // A storage type from the list with a bool byte other than 0/1.
    CHECK_THAT(error(one_tensor(2, 0, {2}, {1}, "BoolStorage"), std::string("\x01\x02", 2)),
               Contains("byte 2, not 0 or 1"));
    // The storage's entry is missing.
    CHECK_THAT(error_of(pickled(one_tensor(6, 0, {6}, {1}))),
               Contains("no archive entry \"m/data/0\""));
    // _rebuild_tensor_v2 of an int, or with one argument; a state_dict value that is no tensor.
    const auto rebuild = [](bool all_arguments) {
        Pickle p;
        p.ordered_dict().str("w").global("torch._utils", "_rebuild_tensor_v2").op('(').integer(0);
        if (all_arguments) p.integer(0).ints({}).ints({}).op('\x89').ordered_dict();
        return p.op('t').op('R').op('s').stop();
    };
    CHECK_THAT(error(rebuild(true)), Contains("_rebuild_tensor_v2 of a int"));
    CHECK_THAT(error(rebuild(false)), Contains("_rebuild_tensor_v2 with 1 arguments"));
    CHECK_THAT(error(Pickle().ordered_dict().str("w").integer(3).op('s').stop()),
               Contains("state_dict entry \"w\" is a int"));
}

TEST_CASE("hostile torch file: archives cut short, out of range, overlapping or corrupt",
          "[hostile][nn][torch_file]") {
    const std::string valid = torch_file(one_tensor(6, 0, {6}, {1}), {{"0", kFloats}});
    REQUIRE_NOTHROW(nn::from_torch(valid));
    for (std::size_t n = 0; n < valid.size(); ++n) {  // every prefix
        INFO("prefix of " << n << " bytes");
        CHECK_THROWS_AS(nn::from_torch(valid.substr(0, n)), dc::FormatError);
    }
    const std::string fixture =
        read_file(std::string(DESCENT_FIXTURE_DIR) + "/interop/cnn.pt");  // torch's own
    REQUIRE_NOTHROW(nn::from_torch(fixture));
    for (std::size_t n = 0; n < fixture.size(); ++n) {
        INFO("prefix of " << n << " bytes of cnn.pt");
        CHECK_THROWS_AS(nn::from_torch(fixture.substr(0, n)), dc::FormatError);
    }
    // Every single byte flipped in the small file: parses or FormatError, nothing else.
    for (std::size_t i = 0; i < valid.size(); ++i) {
        std::string bad = valid;
        bad[i] = static_cast<char>(bad[i] ^ 0x5A);
        try {
            nn::from_torch(bad);
        } catch (const dc::FormatError&) {
        }
    }

    const std::size_t end = valid.size() - 22;  // the end record
    const auto u32 = [](std::string& s, std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    std::size_t directory = 0;  // the central directory's offset, from the end record
    for (int i = 0; i < 4; ++i) {
        directory |= std::size_t{static_cast<unsigned char>(valid[end + 16 + i])} << (8 * i);
    }
    std::string out_of_range = valid;  // the first entry's local header beyond the archive
    u32(out_of_range, directory + 42, 0x7FFFFFF0);
    CHECK_THAT(error_of(out_of_range),
               Contains("a local header") && Contains("beyond the archive"));
    std::string too_big = valid;  // the first entry's sizes beyond the archive
    u32(too_big, directory + 20, 0x7FFFFFF0);
    u32(too_big, directory + 24, 0x7FFFFFF0);
    CHECK_THAT(error_of(too_big), Contains("beyond the archive"));
    std::string overlapping = valid;  // the second entry points at the first's local header
    const std::size_t second = directory + 46 + 10;  // "m/data.pkl" is 10 bytes
    u32(overlapping, second + 42, 0);
    CHECK_THAT(error_of(overlapping), Contains("overlap") || Contains("CRC"));
    std::string bad_crc = valid;
    bad_crc[30 + 10] = static_cast<char>(bad_crc[30 + 10] ^ 1);  // the pickle's first byte
    CHECK_THAT(error_of(bad_crc), Contains("fails its CRC-32 check"));
    std::string directory_entries = valid;  // more entries than the directory can hold
    directory_entries[end + 8] = directory_entries[end + 10] = '\x7F';
    CHECK_THAT(error_of(directory_entries), Contains("cannot fit in a central directory"));
    CHECK_THAT(error_of(zip({{"other.txt", "hi"}})), Contains("no \"<name>/data.pkl\" entry"));
    CHECK_THAT(error_of(zip({{"m/data.pkl", one_tensor(6, 0, {6}, {1})},
                             {"m/data/0", kFloats},
                             {"m/byteorder", "big"}})),
               Contains("byteorder is \"big\""));
    CHECK_THAT(error_of("not a zip file at all, long enough for an end record"),
               Contains("no end of central directory record"));
}

TEST_CASE("hostile torch file: only regular files are read", "[hostile][nn][torch_file]") {
    const TempDir dir;
    const fs::path fifo = dir.path / "m.pt";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(nn::load_torch(fifo), Contains("m.pt") && Contains("a FIFO"));
    CHECK_THROWS_WITH(nn::load_torch(dir.path), Contains("a directory"));
    CHECK_THROWS_WITH(nn::load_torch(dir.path / "missing.pt"), Contains("cannot open"));
    const fs::path good = dir.path / "good.pt";
    write_file(good, torch_file(one_tensor(6, 0, {6}, {1}), {{"0", kFloats}}));
    CHECK(nn::load_torch(good).at("w").shape() == dc::Shape{6});
}
