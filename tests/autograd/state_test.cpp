// The state contract's pieces (state.hpp, state_reader.hpp, lifetime.hpp): StateDict found by
// name and nested by prefix, StateReader's checked reads, StagedLoad applied once, a type of
// one's own adopting the contract, and references that notice when their object is gone.

#include <catch2/catch.hpp>

#include <descent/autograd.hpp>

#include <limits>
#include <optional>

namespace dc = descent;
using Catch::Matchers::Contains;

namespace {
/// A type of one's own, adopting the contract as state.hpp shows.
struct Counter {
    std::int64_t n = 0;
    dc::StateDict state_dict() const { return {{"n", dc::int_tensor({n}, {})}}; }
    dc::StagedLoad stage_load(const dc::StateDict& state) {
        dc::StateReader in(state, "Counter.load_state_dict");
        const std::int64_t v = in.count("n");
        in.reject_unread();
        return [this, v] { n = v; };
    }
};
static_assert(dc::Stateful<Counter>);
static_assert(dc::Stateful<dc::Generator>);
static_assert(!dc::Stateful<dc::Tensor>);

dc::Tensor real(double v) {
    return dc::scalar_tensor(v, {.dtype = dc::float64});
}
}  // namespace

TEST_CASE("StateDict: a list of named tensors, found by name, nested by prefix", "[state]") {
    dc::StateDict s{{"a", real(1)}, {"b.x", real(2)}};
    s["b.y"] = real(3);  // appended, as std::map's []
    s["a"] = real(4);    // replaced in place
    REQUIRE(s.size() == 3);
    CHECK(s[0].first == "a");
    CHECK(s.at("a").item() == 4);
    CHECK(s.contains("b.y"));
    CHECK(s.find("c") == s.end());
    CHECK_THROWS_WITH(s.at("c"), Contains("no entry 'c'"));
    s.texts["b.config"] = "B(1)";
    s.texts["config"] = "Top";

    dc::StateDict outer;
    outer.add_part("top", s);
    CHECK(outer.at("top.b.x").item() == 2);
    CHECK(outer.texts.at("top.b.config") == "B(1)");
    const dc::StateDict b = outer.part("top").part("b");
    REQUIRE(b.size() == 2);
    CHECK(b[0].first == "x");
    CHECK(b[1].first == "y");
    CHECK(b.texts.size() == 1);
    CHECK(b.texts.at("config") == "B(1)");
    CHECK(outer.part("to").empty());  // a prefix is a whole component name

    // what code written for the std::map it replaces in optim does
    CHECK(s.count("a") == 1);
    CHECK_FALSE(s.emplace("a", real(9)).second);  // present: kept
    CHECK(s.at("a").item() == 4);
    CHECK(s.insert({"z", real(5)}).second);
    CHECK(s.erase("z") == 1);
    CHECK(s.erase("z") == 0);
    CHECK(s.size() == 3);

    const dc::NamedTensors plain = s;  // a StateDict is a NamedTensors
    CHECK(plain.size() == 3);
    const dc::StateDict back = plain;  // and a NamedTensors converts back, without texts
    CHECK(back.texts.empty());
}

TEST_CASE("StateReader: every read checked, names and values in the message", "[state]") {
    dc::StateDict s{{"count", dc::int_tensor({7}, {})},
                    {"flag", dc::int_tensor({2}, {})},
                    {"lr", real(0.5)},
                    {"nan", real(std::numeric_limits<double>::quiet_NaN())},
                    {"vector", dc::tensor({1, 2, 3}, {3}, {.dtype = dc::float64})},
                    {"huge", dc::tensor({1, 1e300}, {2}, {.dtype = dc::float64})},
                    {"ints", dc::int_tensor({0, 5}, {2})},
                    {"undefined", dc::Tensor{}}};
    s.texts["config"] = "Thing(k=1)";
    dc::StateReader in(s, "Thing.load_state_dict");
    CHECK(in.count("count", 0, 7) == 7);
    CHECK_THROWS_WITH(in.count("count", 8), Contains("'count' must be in [8,"));
    CHECK_THROWS_WITH(in.count("lr"), Contains("'lr' must be one int64 value"));
    CHECK_THROWS_WITH(in.flag("flag"), Contains("'flag' must be in [0, 1], got 2"));
    CHECK(in.real("lr", dc::closed(0, 1)) == 0.5);
    CHECK_THROWS_WITH(in.real("lr", dc::above(1)), Contains("Thing.load_state_dict"));
    CHECK_THROWS_AS(in.real("nan", dc::closed(-dc::inf, dc::inf)), dc::Error);
    CHECK(in.floats("vector", {3}, dc::float32).dtype() == dc::float32);
    CHECK_THROWS_WITH(in.floats("vector", {2}, dc::float64), Contains("must be floating [2]"));
    CHECK_THROWS_WITH(in.floats("vector", {3}, dc::float64, dc::above(1)),
                      Contains("element 0 of 'vector' is 1"));
    // 1e300 is finite as float64 but overflows float32: checked after the conversion
    CHECK(in.floats("huge", {2}, dc::float64).to_vector()[1] == 1e300);
    CHECK_THROWS_WITH(in.floats("huge", {2}, dc::float32), Contains("element 1 of 'huge'"));
    CHECK_THROWS_WITH(in.ints("ints", {2}, 0, 4), Contains("element 1 of 'ints' is 5"));
    CHECK_THROWS_WITH(in.count("undefined"), Contains("'undefined' is undefined"));
    CHECK_THROWS_WITH(in.count("missing"), Contains("no entry 'missing'"));
    CHECK(in.any("count").item<std::int64_t>() == 7);
    CHECK_THROWS_WITH(in.any("count", dc::float32), Contains("must be float32"));
    CHECK_NOTHROW(in.expect_config("Thing(k=1)"));
    CHECK_THROWS_WITH(in.expect_config("Thing(k=2)"),
                      Contains("written by Thing(k=1), but this is Thing(k=2)"));
    CHECK(in.unread() == std::vector<std::string>{"undefined"});  // refused before it was read

    dc::StateReader fresh(s, "Thing.load_state_dict");
    fresh.count("count");
    CHECK_THROWS_WITH(fresh.reject_unread(), Contains("unexpected entries [flag, lr, nan"));

    const dc::StateDict twice{{"a", real(1)}, {"a", real(2)}};
    CHECK_THROWS_WITH(dc::StateReader(twice, "op"), Contains("names 'a' twice"));

    dc::StateDict plain{{"n", dc::int_tensor({1}, {})}};  // no texts: read without the check
    CHECK_NOTHROW(dc::StateReader(plain, "op").expect_config("anything"));
}

TEST_CASE("StagedLoad applies once, and a dropped one changes nothing", "[state]") {
    int applied = 0;
    dc::StagedLoad load = [&applied] { ++applied; };
    load.apply();
    load.apply();
    CHECK(applied == 1);
    {
        dc::StagedLoad dropped = [&applied] { ++applied; };
    }
    CHECK(applied == 1);
    dc::StagedLoad nothing;
    nothing.apply();
}

TEST_CASE("a type of one's own adopts the contract", "[state]") {
    Counter a{5}, b;
    b.stage_load(a.state_dict()).apply();
    CHECK(b.n == 5);
    dc::StateDict bad = a.state_dict();
    bad.emplace_back("extra", real(1));
    CHECK_THROWS_WITH(b.stage_load(bad), Contains("unexpected entries [extra]"));
    CHECK(b.n == 5);
}

TEST_CASE("Generator: a state of its own kind only, never the all-zero one", "[state]") {
    dc::Generator g(3), h(4);
    h.load_state_dict(g.state_dict());
    CHECK(h.next_u64() == g.next_u64());
    dc::StateDict bad = g.state_dict();
    bad["words"] = dc::int_tensor({0, 0, 0, 0}, {4});
    CHECK_THROWS_WITH(h.load_state_dict(bad), Contains("all-zero"));
    bad = g.state_dict();
    bad.texts["config"] = "Generator(mt19937)";
    CHECK_THROWS_WITH(h.load_state_dict(bad), Contains("written by Generator(mt19937)"));
    bad = g.state_dict();
    bad["spare_normal"] = real(std::numeric_limits<double>::infinity());
    CHECK_THROWS_WITH(h.load_state_dict(bad), Contains("spare_normal"));
    CHECK(h.next_u64() == g.next_u64());  // unchanged by the refused loads
}

TEST_CASE("Watched: a reference that notices when its object is gone", "[state]") {
    struct Thing {
        dc::Lifetime life;
        int value = 1;
        const dc::Lifetime& lifetime() const { return life; }
    };
    std::optional<Thing> thing(std::in_place);
    const dc::Watched<Thing> ref(*thing, "Holder", "the thing it holds");
    CHECK(ref.get().value == 1);
    Thing copy = *thing;  // a copy is another object with a lifetime of its own
    thing.reset();
    CHECK_FALSE(ref.alive());
    CHECK_THROWS_WITH(ref.get(), "Holder: the thing it holds has been destroyed");
    const dc::Watched<Thing> copy_ref(copy, "Holder", "the copy");
    CHECK(copy_ref.alive());
}
