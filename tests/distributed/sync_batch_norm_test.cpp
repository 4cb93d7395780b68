// SyncBatchNorm against one BatchNorm1d over the unsplit batch: R ∈ {1, 2, 3} ranks (run_local)
// with N not divisible by R, (N, C) and (N, C, L), two training steps: outputs, the input's
// gradient per shard, the parameters' gradients summed over ranks and the running statistics
// on every rank. Then eval without communication, the one-value global batch, shape and dtype
// errors, a destroyed communicator, state dicts both ways, and all_sum's first and second
// derivatives. Ranks write into per-rank slots; the assertions run in the main thread.
//
// Tolerance: float64, relative to the largest reference value, 1e-12. The two computations are
// the same formulas and differ only in summation order (per-rank partial sums added in rank
// order, Σ/N against the mean kernel, the two variance passes), each a few ulp (~1e-16) times
// the ≤ 28 terms per channel; the largest error seen is 5e-16, so 1e-12 leaves a wide margin
// and still catches any wrong statistic, missing rank or factor (errors of 1e-3 or more).

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>
#include <descent/distributed/functional.hpp>
#include <descent/distributed/local_world.hpp>
#include <descent/distributed/sync_batch_norm.hpp>
#include <descent/nn/layers.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace dc = descent;
namespace distributed = descent::distributed;
namespace nn = descent::nn;
using Catch::Contains;
using Values = std::vector<double>;

namespace {

constexpr double kTol = 1e-12;
constexpr double kEps = 1e-5;
constexpr double kMomentum = 0.3;
constexpr std::int64_t kBatchesBefore = 5;
constexpr int kSteps = 2;

Values random_values(std::int64_t n, std::uint64_t seed) {
    dc::manual_seed(seed);
    return dc::randn({n}, {.dtype = dc::float64}).to_vector();
}

/// max_i |a_i − b_i| / max_i |b_i|: the error relative to the reference's scale.
double relative_error(const Values& a, const Values& b) {
    REQUIRE(a.size() == b.size());
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(a[i] - b[i]));
        scale = std::max(scale, std::abs(b[i]));
    }
    return scale > 0 ? diff / scale : diff;
}

/// Rows [begin, end) of a row-major batch with `per_row` values a row.
Values rows(const Values& all, std::int64_t begin, std::int64_t end, std::int64_t per_row) {
    return {all.begin() + begin * per_row, all.begin() + end * per_row};
}

/// Rank r's contiguous shard of n rows: n/R each, one more for the first n % R.
struct Shard {
    std::int64_t begin, end;
};
Shard shard_of(std::int64_t n, int ranks, int r) {
    const std::int64_t q = n / ranks, extra = n % ranks;
    const std::int64_t begin = r * q + std::min<std::int64_t>(r, extra);
    return {begin, begin + q + (r < extra ? 1 : 0)};
}

dc::Tensor entry(const dc::NamedTensors& tensors, const std::string& name) {
    for (const auto& [key, t] : tensors)
        if (key == name) return t;
    FAIL("no entry " << name);
    return {};
}

struct Options {
    bool affine = true;
    bool track = true;
    bool eval = false;
};

/// The starting point both modules load: random weight, bias and running statistics.
struct Init {
    explicit Init(std::int64_t c)
        : weight(random_values(c, 11)),
          bias(random_values(c, 12)),
          mean(random_values(c, 13)),
          var(random_values(c, 14)) {
        for (double& v : var) v = 0.5 + v * v;
    }
    Values weight, bias, mean, var;

    dc::NamedTensors state(std::int64_t c, Options options) const {
        const auto vec = [c](const Values& v) {
            return dc::tensor(v, {c}, {.dtype = dc::float64});
        };
        dc::NamedTensors s;
        if (options.affine) s = {{"weight", vec(weight)}, {"bias", vec(bias)}};
        if (options.track) {
            s.emplace_back("running_mean", vec(mean));
            s.emplace_back("running_var", vec(var));
            s.emplace_back("num_batches_tracked", dc::int_tensor({kBatchesBefore}, {}));
        }
        return s;
    }
};

/// What one module gives: per step the output and the input's gradient; then the parameters'
/// gradients (summed over ranks for SyncBatchNorm) and the buffers.
struct Result {
    std::vector<Values> y, x_grad;
    Values weight_grad, bias_grad, running_mean, running_var;
    std::int64_t batches = -1;
};

/// Step s's input and loss weights on rows [begin, end), then y, loss = Σ y ⊙ w, backward.
void step(nn::Module& bn, const Values& x_all, const Values& w_all, dc::Shape shape, Shard rows_of,
          Result& out) {
    const std::int64_t per_row = dc::numel_of(shape) / shape[0];
    shape[0] = rows_of.end - rows_of.begin;
    dc::Tensor x = dc::tensor(rows(x_all, rows_of.begin, rows_of.end, per_row), shape,
                              {.dtype = dc::float64, .requires_grad = true});
    const dc::Tensor w =
        dc::tensor(rows(w_all, rows_of.begin, rows_of.end, per_row), shape, {.dtype = dc::float64});
    const dc::Tensor y = bn(x);
    (y * w).sum().backward();
    out.y.push_back(y.to_vector());
    out.x_grad.push_back(x.grad().to_vector());
}

void read_buffers(const nn::Module& bn, Options options, Result& out) {
    if (!options.track) return;
    const dc::NamedTensors buffers = bn.named_buffers();
    out.running_mean = entry(buffers, "running_mean").to_vector();
    out.running_var = entry(buffers, "running_var").to_vector();
    out.batches = entry(buffers, "num_batches_tracked").item<std::int64_t>();
}

/// Runs BatchNorm1d on the whole batch and SyncBatchNorm on `ranks` shards, and compares.
void compare_with_batch_norm(int ranks, const dc::Shape& shape, Options options) {
    const std::int64_t n = shape[0], c = shape[1], per_row = dc::numel_of(shape) / n;
    const Init init(c);
    std::vector<Values> x_all, w_all;
    for (int s = 0; s < kSteps; ++s) {
        x_all.push_back(random_values(n * per_row, 20 + static_cast<std::uint64_t>(s)));
        w_all.push_back(random_values(n * per_row, 30 + static_cast<std::uint64_t>(s)));
    }
    const auto prepare = [&](nn::Module& bn) {
        bn.to(dc::float64);
        bn.load_state_dict(init.state(c, options));
        if (options.eval) bn.eval();
    };

    Result ref;
    nn::BatchNorm1d plain(c, kEps, kMomentum, options.affine, options.track);
    prepare(plain);
    for (int s = 0; s < kSteps; ++s) step(plain, x_all[s], w_all[s], shape, {0, n}, ref);
    if (options.affine) {
        ref.weight_grad = entry(plain.named_parameters(), "weight").grad().to_vector();
        ref.bias_grad = entry(plain.named_parameters(), "bias").grad().to_vector();
    }
    read_buffers(plain, options, ref);

    std::vector<Result> got(static_cast<std::size_t>(ranks));
    distributed::run_local(ranks, [&](distributed::Communicator& world) {
        Result& out = got[static_cast<std::size_t>(world.rank())];
        distributed::SyncBatchNorm bn(world, c, kEps, kMomentum, options.affine, options.track);
        prepare(bn);
        const Shard mine = shard_of(n, ranks, world.rank());
        for (int s = 0; s < kSteps; ++s) step(bn, x_all[s], w_all[s], shape, mine, out);
        if (options.affine) {
            // each rank has its shard's share of ∂L/∂γ, ∂L/∂β: the sum is the whole batch's
            for (const std::string name : {"weight", "bias"}) {
                dc::Tensor g = entry(bn.named_parameters(), name).grad().clone();
                world.allreduce_sum(g);
                (name == "weight" ? out.weight_grad : out.bias_grad) = g.to_vector();
            }
        }
        read_buffers(bn, options, out);
    });

    for (int s = 0; s < kSteps; ++s) {
        Values y;
        for (const Result& r : got) y.insert(y.end(), r.y[s].begin(), r.y[s].end());
        CHECK(relative_error(y, ref.y[s]) <= kTol);
        for (int r = 0; r < ranks; ++r) {
            const Shard sh = shard_of(n, ranks, r);
            CHECK(relative_error(got[static_cast<std::size_t>(r)].x_grad[s],
                                 rows(ref.x_grad[s], sh.begin, sh.end, per_row)) <= kTol);
        }
    }
    for (const Result& r : got) {
        CHECK(relative_error(r.weight_grad, ref.weight_grad) <= kTol);
        CHECK(relative_error(r.bias_grad, ref.bias_grad) <= kTol);
        CHECK(relative_error(r.running_mean, ref.running_mean) <= kTol);
        CHECK(relative_error(r.running_var, ref.running_var) <= kTol);
        CHECK(r.batches == ref.batches);
        // the running statistics come from allreduced sums: bit for bit the same on every rank
        CHECK(r.running_mean == got[0].running_mean);
        CHECK(r.running_var == got[0].running_var);
    }
    if (options.track) CHECK(ref.batches == kBatchesBefore + (options.eval ? 0 : kSteps));
}

/// A SyncBatchNorm whose communicator is gone (made in a run_local that has returned).
distributed::SyncBatchNorm orphan(std::int64_t c, bool affine = true, bool track = true) {
    std::optional<distributed::SyncBatchNorm> bn;
    distributed::run_local(1, [&](distributed::Communicator& world) {
        bn.emplace(world, c, kEps, kMomentum, affine, track);
    });
    return *bn;
}

}  // namespace

TEST_CASE("SyncBatchNorm over R ranks equals BatchNorm1d over the whole batch", "[dist][syncbn]") {
    const int ranks = GENERATE(1, 2, 3);
    const dc::Shape shape = GENERATE(dc::Shape{7, 3}, dc::Shape{7, 3, 4});
    INFO("ranks " << ranks << ", input " << dc::shape_str(shape));
    compare_with_batch_norm(ranks, shape, {});
}

TEST_CASE("SyncBatchNorm without affine or running statistics, in training and eval",
          "[dist][syncbn]") {
    const int ranks = GENERATE(2, 3);
    const bool eval = GENERATE(false, true);
    INFO("ranks " << ranks << ", eval " << eval);
    // without running statistics eval normalises by the global batch, as BatchNorm1d by its own
    compare_with_batch_norm(ranks, {7, 3, 2}, {.affine = false, .track = false, .eval = eval});
    compare_with_batch_norm(ranks, {7, 3}, {.affine = true, .track = false, .eval = eval});
    compare_with_batch_norm(ranks, {7, 3}, {.affine = false, .track = true, .eval = false});
}

TEST_CASE("SyncBatchNorm: shards of one row, or none, still form a global batch",
          "[dist][syncbn]") {
    // 3 rows over 4 ranks: shards of 1, 1, 1 and 0 rows (a BatchNorm1d of each would refuse).
    // (Not 2 rows: with two values per channel x̂ = ±1 whatever x is, so ∂L/∂x is O(ε) and
    // only cancellation error, which no relative tolerance fits.)
    compare_with_batch_norm(4, {3, 4}, {});
}

TEST_CASE("SyncBatchNorm in eval uses the running statistics and does not communicate",
          "[dist][syncbn]") {
    compare_with_batch_norm(1, {7, 3, 2}, {.eval = true});
    compare_with_batch_norm(3, {7, 3}, {.eval = true});

    // without a communicator at all: the same values as BatchNorm1d's eval, bit for bit
    distributed::SyncBatchNorm bn = orphan(3);
    nn::BatchNorm1d plain(3);
    const Init init(3);
    for (nn::Module* m : {static_cast<nn::Module*>(&bn), static_cast<nn::Module*>(&plain)}) {
        m->to(dc::float64);
        m->load_state_dict(init.state(3, {}));
        m->eval();
    }
    const dc::Tensor x = dc::tensor(random_values(12, 40), {4, 3}, {.dtype = dc::float64});
    CHECK(bn(x).to_vector() == plain(x).to_vector());
    CHECK(entry(bn.named_buffers(), "num_batches_tracked").item<std::int64_t>() == kBatchesBefore);

    // in a world of two, a forward on rank 0 alone completes
    std::vector<Values> y(2);
    distributed::run_local(2, [&](distributed::Communicator& world) {
        distributed::SyncBatchNorm sbn(world, 3);
        sbn.eval();
        if (world.rank() == 0) y[0] = sbn(dc::ones({2, 3})).to_vector();
    });
    CHECK(y[0].size() == 6);
}

TEST_CASE("SyncBatchNorm: a global batch of one value per channel fails on every rank",
          "[dist][syncbn]") {
    // one row on rank 0, none on rank 1: N = 1 over the world, each rank alone would not tell
    const dc::Shape local = GENERATE(dc::Shape{1, 3}, dc::Shape{1, 3, 1});
    std::vector<std::string> errors(2);
    std::vector<std::int64_t> batches(2);
    distributed::run_local(2, [&](distributed::Communicator& world) {
        const auto r = static_cast<std::size_t>(world.rank());
        distributed::SyncBatchNorm bn(world, 3);
        dc::Shape shape = local;
        if (r == 1) shape[0] = 0;
        try {
            static_cast<void>(bn(dc::ones(shape)));
        } catch (const dc::ShapeError& e) {
            errors[r] = e.what();
        }
        batches[r] = entry(bn.named_buffers(), "num_batches_tracked").item<std::int64_t>();
    });
    for (std::size_t r = 0; r < 2; ++r) {
        CHECK_THAT(errors[r], Contains("SyncBatchNorm") && Contains("more than one value") &&
                                  Contains("got 1 over 2 ranks"));
        CHECK(batches[r] == 0);
    }
    // run_local names the rank
    CHECK_THROWS_WITH(distributed::run_local(1,
                                             [](distributed::Communicator& world) {
                                                 distributed::SyncBatchNorm bn(world, 2);
                                                 static_cast<void>(bn(dc::ones({1, 2})));
                                             }),
                      Contains("rank 0: SyncBatchNorm") && Contains("more than one value"));
}

TEST_CASE("SyncBatchNorm: options, shapes and dtypes are checked, naming it", "[dist][syncbn]") {
    std::vector<std::string> errors;
    distributed::run_local(1, [&](distributed::Communicator& world) {
        const auto record = [&](auto make) {
            try {
                make();
                errors.emplace_back("no error");
            } catch (const dc::Error& e) {
                errors.emplace_back(e.what());
            }
        };
        record([&] { static_cast<void>(distributed::SyncBatchNorm(world, -1)); });
        record([&] { static_cast<void>(distributed::SyncBatchNorm(world, 3, std::nan(""))); });
        record([&] { static_cast<void>(distributed::SyncBatchNorm(world, 3, 1e-5, 1.5)); });
    });
    REQUIRE(errors.size() == 3);
    CHECK_THAT(errors[0], Contains("SyncBatchNorm") && Contains("num_features"));
    CHECK_THAT(errors[1], Contains("SyncBatchNorm") && Contains("eps"));
    CHECK_THAT(errors[2], Contains("SyncBatchNorm") && Contains("momentum"));

    // the checks come before any communication: a module without a world still gives them
    distributed::SyncBatchNorm bn = orphan(3);
    CHECK_THROWS_AS(bn(dc::ones({8})), dc::ShapeError);
    CHECK_THROWS_WITH(bn(dc::ones({8})), Contains("SyncBatchNorm") && Contains("[8]"));
    CHECK_THROWS_WITH(bn(dc::ones({8, 3, 2, 1})),
                      Contains("SyncBatchNorm") && Contains("[8,3,2,1]"));
    CHECK_THROWS_WITH(bn(dc::ones({8, 2})),
                      Contains("SyncBatchNorm") && Contains("[8,2]") && Contains("expected 3"));
    CHECK_THROWS_WITH(bn(dc::Tensor{}), Contains("SyncBatchNorm") && Contains("undefined"));
    CHECK_THROWS_AS(bn(dc::ones({8, 3}, {.dtype = dc::float64})), dc::DtypeError);
    CHECK_THROWS_WITH(bn(dc::ones({8, 3}, {.dtype = dc::float64})), Contains("SyncBatchNorm") &&
                                                                        Contains("float64 [8,3]") &&
                                                                        Contains("float32"));
    distributed::SyncBatchNorm bare = orphan(3, false, false);
    CHECK_THROWS_WITH(bare(dc::int_tensor({1, 2, 3, 4, 5, 6}, {2, 3})),
                      Contains("SyncBatchNorm") && Contains("int64 [2,3]"));
}

TEST_CASE("SyncBatchNorm: training after the communicator is destroyed is a DistError",
          "[dist][syncbn]") {
    distributed::SyncBatchNorm bn = orphan(3);
    CHECK_THROWS_AS(bn(dc::ones({4, 3})), distributed::DistError);
    CHECK_THROWS_WITH(bn(dc::ones({4, 3})), Contains("SyncBatchNorm") && Contains("destroyed"));
    bn.eval();  // the running statistics need no world
    CHECK(bn(dc::ones({4, 3})).shape() == dc::Shape{4, 3});

    // a graph recorded in the world and run backward after it is gone: all_sum says so
    dc::Tensor x = dc::ones({2}, {.dtype = dc::float64, .requires_grad = true});
    dc::Tensor y;
    distributed::run_local(
        1, [&](distributed::Communicator& world) { y = distributed::all_sum(world, x).sum(); });
    CHECK_THROWS_WITH(y.backward(), Contains("all_sum") && Contains("destroyed"));
}

TEST_CASE("SyncBatchNorm and BatchNorm1d share their state dicts", "[dist][syncbn]") {
    distributed::SyncBatchNorm sync = orphan(4);
    nn::BatchNorm1d plain(4, kEps, kMomentum);
    CHECK(nn::to_string(sync).find("SyncBatchNorm(4, eps=1e-05, momentum=0.3, affine=True, "
                                   "track_running_stats=True)") != std::string::npos);
    CHECK(sync.extra_repr() == plain.extra_repr());
    const auto same = [](const dc::NamedTensors& a, const dc::NamedTensors& b) {
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].first == b[i].first);
            CHECK(a[i].second.dtype() == b[i].second.dtype());
            CHECK(a[i].second.shape() == b[i].second.shape());
            CHECK(a[i].second.to_vector() == b[i].second.to_vector());
        }
    };
    same(sync.state_dict(), plain.state_dict());  // fresh: the same names, dtypes and values

    // trained BatchNorm1d → SyncBatchNorm
    dc::manual_seed(50);
    static_cast<void>(plain(dc::randn({6, 4})));
    sync.load_state_dict(plain.state_dict());
    same(sync.state_dict(), plain.state_dict());

    // SyncBatchNorm trained in a world of two → BatchNorm1d
    std::optional<distributed::SyncBatchNorm> trained;
    distributed::run_local(2, [&](distributed::Communicator& world) {
        distributed::SyncBatchNorm bn(world, 4);
        static_cast<void>(bn(dc::full({3, 4}, world.rank() + 1.0)));
        if (world.rank() == 0) trained.emplace(bn);
    });
    nn::BatchNorm1d loaded(4);
    loaded.load_state_dict(trained->state_dict());
    same(loaded.state_dict(), trained->state_dict());
    CHECK(entry(loaded.named_buffers(), "num_batches_tracked").item<std::int64_t>() == 1);
    // global batch: three rows of 1 and three of 2 → μ = 1.5, unbiased σ² = 1.5/5
    CHECK(entry(loaded.named_buffers(), "running_mean").at({0}) == Approx(0.1 * 1.5).epsilon(1e-6));
    CHECK(entry(loaded.named_buffers(), "running_var").at({0}) ==
          Approx(0.9 + 0.1 * 0.3).epsilon(1e-6));
}

TEST_CASE("all_sum: the sum over ranks, and its gradient the upstream gradients' sum",
          "[dist][syncbn]") {
    struct Slot {
        Values y, grad, second;
        std::string dtype_error;
    };
    std::vector<Slot> slots(2);
    distributed::run_local(2, [&](distributed::Communicator& world) {
        const int r = world.rank();
        Slot& out = slots[static_cast<std::size_t>(r)];
        const dc::TensorOptions f64{.dtype = dc::float64, .requires_grad = true};
        // first derivative: ∂(Σ_q u_q·y)/∂x_r = Σ_q u_q
        dc::Tensor x = dc::tensor({1.0 + r, 10.0 * r, 3.0}, {3}, f64);
        const dc::Tensor y = distributed::all_sum(world, x);
        y.backward(dc::tensor({1.0 + r, -2.0 * r, 0.5}, {3}, {.dtype = dc::float64}));
        out.y = y.to_vector();
        out.grad = x.grad().to_vector();
        // second: L_q = c_q Σ y², g_q = ∂(Σ_q L_q)/∂x_q = 2y·Σc; H = Σ_q v_q·g_q has
        // ∂H/∂x_r = 2·Σc·Σv (c = 1, 2; v_0 = [1, 2, 3], v_1 = [1, 0, -1] → 6·[2, 2, 2])
        dc::Tensor z = dc::tensor({0.5, -1.0, 2.0 * r}, {3}, f64);
        const dc::Tensor s = distributed::all_sum(world, z);
        const dc::Tensor loss = (s * s).sum() * (1.0 + r);
        const dc::Tensor g = dc::grad({loss}, {z}, {.create_graph = true})[0];
        const Values v = r == 0 ? Values{1, 2, 3} : Values{1, 0, -1};
        (g * dc::tensor(v, {3}, {.dtype = dc::float64})).sum().backward();
        out.second = z.grad().to_vector();
        try {
            static_cast<void>(distributed::all_sum(world, dc::int_tensor({1}, {1})));
        } catch (const dc::DtypeError& e) {
            out.dtype_error = e.what();
        }
    });
    for (const Slot& s : slots) {
        CHECK(s.y == Values{3, 10, 6});
        CHECK(s.grad == Values{3, -2, 1});
        CHECK(s.second == Values{12, 12, 12});
        CHECK_THAT(s.dtype_error, Contains("all_sum") && Contains("int64"));
    }
}
