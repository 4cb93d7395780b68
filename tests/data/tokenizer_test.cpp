// CharTokenizer and WordTokenizer: encoding, decoding, errors naming the character or token and
// its position, and their vocabularies saved and restored (malformed states refused).

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>
#include <descent/data.hpp>

#include "../nn/checkpoint_files.hpp"

namespace dc = descent;
namespace data = descent::data;
using Catch::Matchers::Contains;
using descent::test::TempDir;

static_assert(dc::Stateful<data::CharTokenizer>);
static_assert(dc::Stateful<data::WordTokenizer>);

TEST_CASE("CharTokenizer: tiny Shakespeare's 65 characters", "[data-text]") {
    // 65 distinct characters, the vocabulary char-rnn and nanoGPT report for it
    const std::string text = data::tiny_shakespeare();
    const data::CharTokenizer chars(text);
    CHECK(chars.vocab_size() == 65);
    CHECK(chars.vocabulary().substr(0, 3) == "\n !");
    CHECK(chars.decode(chars.encode(text.substr(0, 1000))) == text.substr(0, 1000));
}

TEST_CASE("CharTokenizer: sorted distinct characters, encode and decode", "[data-text]") {
    const data::CharTokenizer chars("hello world\n");
    CHECK(chars.vocabulary() == "\n dehlorw");
    CHECK(chars.vocab_size() == 9);
    const dc::Tensor ids = chars.encode("hold");
    CHECK(ids.dtype() == dc::int64);
    CHECK(ids.to_int_vector() == std::vector<std::int64_t>{4, 6, 5, 2});
    CHECK(chars.decode(ids) == "hold");
    CHECK(chars.decode(dc::int_tensor({0, 1, 2, 3}, {2, 2})) == "\n de");  // any shape, row-major
    CHECK(chars.encode("").numel() == 0);
    CHECK_THROWS_WITH(chars.encode("hello, world"),
                      Contains("CharTokenizer.encode") && Contains("character ',' at position 5"));
    CHECK_THROWS_WITH(chars.encode("ho\t"), Contains("'\\t' at position 2"));
    CHECK_THROWS_WITH(chars.encode(std::string("h\x80", 2)), Contains("byte 0x80 at position 1"));
    CHECK_THROWS_WITH(chars.decode(dc::int_tensor({1, 9}, {2})),
                      Contains("CharTokenizer.decode") && Contains("token 9 at position 1"));
    CHECK_THROWS_WITH(chars.decode(dc::int_tensor({-1}, {1})), Contains("token -1 at position 0"));
    CHECK_THROWS_AS(chars.decode(dc::tensor({1.0})), dc::DtypeError);
    CHECK_THROWS_WITH(data::CharTokenizer(""), Contains("CharTokenizer") && Contains("empty"));
    CHECK_THROWS_WITH(data::CharTokenizer().encode("a"), Contains("no vocabulary"));
}

TEST_CASE("CharTokenizer: its vocabulary saves and restores, malformed states are refused",
          "[data-text][state]") {
    const data::CharTokenizer trained("To be, or not to be");
    TempDir dir;
    data::TrainingState save;
    data::CharTokenizer saved = trained;
    save.add("chars", saved);
    save.save(dir.path / "run.safetensors");
    data::CharTokenizer fresh;
    data::TrainingState load;
    load.add("chars", fresh);
    load.load(dir.path / "run.safetensors");
    CHECK(fresh.vocabulary() == trained.vocabulary());
    CHECK(fresh.encode("be not").to_int_vector() == trained.encode("be not").to_int_vector());

    const auto state_of = [](std::vector<std::int64_t> bytes) {
        dc::StateDict s{
            {"vocabulary", dc::int_tensor(bytes, {static_cast<std::int64_t>(bytes.size())})}};
        s.texts["config"] = "CharTokenizer";
        return s;
    };
    data::CharTokenizer target("abc");
    CHECK_THROWS_WITH(target.load_state_dict(state_of({98, 97})),
                      Contains("CharTokenizer.load_state_dict") && Contains("strictly ascending"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({97, 97})), Contains("strictly ascending"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({97, 256})), Contains("vocabulary"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({})), Contains("1 ≤ V ≤ 256"));
    CHECK_THROWS_WITH(target.load_state_dict(dc::StateDict{}), Contains("vocabulary"));
    dc::StateDict extra = state_of({97});
    extra.emplace("stray", dc::zeros({1}));
    CHECK_THROWS_WITH(target.load_state_dict(extra), Contains("stray"));
    CHECK_THROWS_WITH(target.load_state_dict(data::WordTokenizer("a b").state_dict()),
                      Contains("CharTokenizer"));
    CHECK(target.vocabulary() == "abc");  // every refused load changed nothing
}

TEST_CASE("WordTokenizer: split, frequency order, max_size and <unk>", "[data-text]") {
    const data::WordTokenizer words("the cat, the dog!\nthe end. a cat\n");
    // ranks: the ×3, cat ×2, then ties by byte order: ! , . a dog end
    CHECK(words.vocabulary() == std::vector<std::string>{"<unk>", "<eos>", "the", "cat", "!", ",",
                                                         ".", "a", "dog", "end"});
    CHECK(words.encode("the dog, a cow\n").to_int_vector() ==
          std::vector<std::int64_t>{2, 8, 5, 7, 0, 1});
    CHECK(words.decode(words.encode("the dog, a cow\nthe end")) == "the dog , a <unk>\nthe end");
    CHECK(words.token("cat") == 3);
    CHECK(words.token("horse") == data::WordTokenizer::unk);
    CHECK_THROWS_WITH(words.decode(dc::int_tensor({2, 10}, {2})),
                      Contains("WordTokenizer.decode") && Contains("token 10 at position 1"));
    CHECK_THROWS_AS(words.decode(dc::tensor({1.0})), dc::DtypeError);

    const data::WordTokenizer small("the cat, the dog!\nthe end. a cat\n", {.max_size = 4});
    CHECK(small.vocabulary() == std::vector<std::string>{"<unk>", "<eos>", "the", "cat"});
    CHECK(small.encode("the dog").to_int_vector() == std::vector<std::int64_t>{2, 0});
    const data::WordTokenizer no_eos("a b\nb", {.eos = false});
    CHECK(no_eos.vocabulary() == std::vector<std::string>{"<unk>", "b", "a"});
    CHECK(no_eos.encode("a\nb").to_int_vector() == std::vector<std::int64_t>{2, 1});
    // UTF-8 stays inside words; punctuation splits contractions
    const data::WordTokenizer utf8("café don't");
    CHECK(utf8.split("café don't") == std::vector<std::string_view>{"café", "don", "'", "t"});
    CHECK_THROWS_WITH(data::WordTokenizer("a", {.max_size = 1}),
                      Contains("WordTokenizer") && Contains("max_size"));
    CHECK_THROWS_WITH(data::WordTokenizer("a", {.max_size = -5}), Contains("max_size"));
    CHECK(data::WordTokenizer("", {.max_size = 2}).vocab_size() == 2);
}

TEST_CASE("WordTokenizer: its vocabulary saves and restores, malformed states are refused",
          "[data-text][state]") {
    const std::string text = data::tiny_shakespeare().substr(0, 20000);
    const data::WordTokenizer trained(text, {.max_size = 500});
    CHECK(trained.vocab_size() == 500);
    data::WordTokenizer fresh({.max_size = 500});
    fresh.load_state_dict(trained.state_dict());
    CHECK(fresh.vocabulary() == trained.vocabulary());
    CHECK(fresh.encode(text).to_int_vector() == trained.encode(text).to_int_vector());

    data::WordTokenizer other({.max_size = 400});  // another configuration
    CHECK_THROWS_WITH(other.load_state_dict(trained.state_dict()),
                      Contains("WordTokenizer.load_state_dict") && Contains("max_size=400"));
    const auto state_of = [](const std::vector<std::string>& words) {
        std::vector<std::int64_t> bytes, lengths;
        for (const auto& w : words) {
            lengths.push_back(static_cast<std::int64_t>(w.size()));
            for (const char c : w) bytes.push_back(static_cast<unsigned char>(c));
        }
        dc::StateDict s{
            {"vocabulary.bytes", dc::int_tensor(bytes, {static_cast<std::int64_t>(bytes.size())})},
            {"vocabulary.lengths",
             dc::int_tensor(lengths, {static_cast<std::int64_t>(lengths.size())})}};
        s.texts["config"] = "WordTokenizer(max_size=none, eos=true)";
        return s;
    };
    data::WordTokenizer target("x y");
    CHECK_NOTHROW(data::WordTokenizer().load_state_dict(state_of({"<unk>", "<eos>", "z"})));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({"<eos>", "<unk>", "z"})),
                      Contains("word 0 must be <unk>"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({"<unk>"})),
                      Contains("word 1 must be <eos>") || Contains("fewer than"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({"<unk>", "<eos>", "a b"})),
                      Contains("word 2 ('a b') is not one word"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({"<unk>", "<eos>", "a,"})),
                      Contains("not one word"));
    CHECK_THROWS_WITH(target.load_state_dict(state_of({"<unk>", "<eos>", "a", "a"})),
                      Contains("word 3 ('a') is in the vocabulary twice"));
    dc::StateDict short_bytes = state_of({"<unk>", "<eos>", "ab"});
    short_bytes[0].second = dc::int_tensor({60}, {1});
    CHECK_THROWS_WITH(target.load_state_dict(short_bytes), Contains("vocabulary.lengths"));
    dc::StateDict sum_off = state_of({"<unk>", "<eos>", "ab"});
    sum_off[1].second = dc::int_tensor({5, 5, 1}, {3});
    CHECK_THROWS_WITH(target.load_state_dict(sum_off),
                      Contains("add up to 11 bytes") && Contains("12"));
    dc::StateDict bad_byte = state_of({"<unk>", "<eos>", "ab"});
    bad_byte[0].second.mutable_data<std::int64_t>()[10] = 300;
    CHECK_THROWS_WITH(target.load_state_dict(bad_byte), Contains("vocabulary.bytes"));
    CHECK(target.vocabulary() == std::vector<std::string>{"<unk>", "<eos>", "x", "y"});
}
