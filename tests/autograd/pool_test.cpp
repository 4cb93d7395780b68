// Small tensors and tape nodes come from per-thread free lists (autograd/src/pool.cpp): every
// block is 64-byte aligned and private to one live tensor, and blocks move safely between
// threads — made in one thread and freed in another, or outliving the thread that made them.
// Data of up to 1 KiB shares its storage's block, and a new tensor's shape may reuse the vector
// of a dead one (autograd/src/spare_shapes.cpp): neither may leak one tensor into another.

#include <catch2/catch.hpp>
#include <descent/autograd.hpp>

#include <cstdint>
#include <thread>
#include <vector>

namespace dc = descent;

namespace {
/// A float tensor of n elements holding tag, tag+1, ...
dc::Tensor tagged(std::int64_t n, float tag) {
    dc::Tensor t = dc::zeros({n});
    float* p = t.mutable_data<float>();
    for (std::int64_t i = 0; i < n; ++i) p[i] = tag + static_cast<float>(i);
    return t;
}
bool holds(const dc::Tensor& t, float tag) {
    const float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i)
        if (p[i] != tag + static_cast<float>(i)) return false;
    return true;
}
}  // namespace

TEST_CASE("pooled storages are 64-byte aligned and never shared by live tensors", "[pool]") {
    std::vector<dc::Tensor> live;
    for (std::int64_t n = 1; n <= 9000; n += n < 64 ? 1 : 97) live.push_back(tagged(n, float(n)));
    // free every other one, then allocate as many again: the freed blocks are reused ...
    for (std::size_t i = 0; i < live.size(); i += 2) live[i] = dc::Tensor();
    std::vector<dc::Tensor> fresh;
    for (std::int64_t n = 1; n <= 9000; n += n < 64 ? 1 : 97) fresh.push_back(tagged(n, -float(n)));
    // ... without touching the blocks still in use
    bool aligned = true, intact = true;
    for (std::size_t i = 1; i < live.size(); i += 2) {
        intact = intact && holds(live[i], float(live[i].numel()));
        aligned = aligned && reinterpret_cast<std::uintptr_t>(live[i].raw_data()) % 64 == 0;
    }
    for (const dc::Tensor& t : fresh) {
        intact = intact && holds(t, -float(t.numel()));
        aligned = aligned && reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64 == 0;
    }
    CHECK(aligned);
    CHECK(intact);
}

TEST_CASE("tensors and graphs outlive the thread that made them, and are freed elsewhere",
          "[pool][threads]") {
    std::vector<dc::Tensor> made;
    dc::Tensor loss;
    const dc::Tensor w = dc::full({4}, 0.5, {.requires_grad = true});
    std::thread maker([&] {
        for (int i = 0; i < 500; ++i) made.push_back(tagged(1 + i % 300, float(i)));
        loss = ((w * w).sum() + w.sum()) * 2.0;  // nodes made in this thread
    });
    maker.join();  // its free lists are gone; the blocks it handed out are not
    bool intact = true;
    for (int i = 0; i < 500; ++i) intact = intact && holds(made[i], float(i));
    CHECK(intact);
    loss.backward();
    CHECK(w.grad().to_vector() == std::vector<double>(4, 2 * (2 * 0.5 + 1)));
    std::thread freer([&] {  // freed in a third thread, onto its lists
        made.clear();
        loss = dc::Tensor();
    });
    freer.join();
    std::vector<dc::Tensor> again;
    for (int i = 0; i < 500; ++i) again.push_back(tagged(1 + i % 300, float(-i)));
    for (int i = 0; i < 500; ++i) intact = intact && holds(again[i], float(-i));
    CHECK(intact);
}

TEST_CASE("data kept with its storage stays aligned and its own at the 1 KiB edge", "[pool]") {
    // bool tensors of 1023 to 1026 bytes, float32 and float64 ones of 1 KiB, straddling the
    // largest data kept in the storage's own block
    std::vector<dc::Tensor> masks;
    for (std::int64_t n = 1020; n <= 1030; ++n) {
        masks.push_back(dc::arange(0, static_cast<double>(n)) < static_cast<double>(n / 2));
    }
    const dc::Tensor f = tagged(256, 7.0f);
    const dc::Tensor d = dc::arange(0, 128, 1, {.dtype = dc::Dtype::float64});
    bool aligned = reinterpret_cast<std::uintptr_t>(f.raw_data()) % 64 == 0 &&
                   reinterpret_cast<std::uintptr_t>(d.raw_data()) % 64 == 0;
    bool intact = holds(f, 7.0f);
    for (const dc::Tensor& m : masks) {
        aligned = aligned && reinterpret_cast<std::uintptr_t>(m.raw_data()) % 64 == 0;
        const std::vector<double> v = m.to_vector();
        for (std::size_t i = 0; i < v.size(); ++i) {
            intact = intact && v[i] == (static_cast<std::int64_t>(i) < m.numel() / 2 ? 1.0 : 0.0);
        }
    }
    for (std::int64_t i = 0; i < 128; ++i) intact = intact && d.at({i}) == static_cast<double>(i);
    CHECK(aligned);
    CHECK(intact);
}

TEST_CASE("a tensor made after others died has exactly its own shape", "[pool]") {
    const dc::Shape big{2, 1, 3, 1, 2, 1, 1, 2, 1};  // more extents than a spare vector keeps
    for (int round = 0; round < 3; ++round) {
        {
            std::vector<dc::Tensor> dying;
            for (std::int64_t rank = 0; rank <= 6; ++rank) {
                dying.push_back(dc::zeros(dc::Shape(static_cast<std::size_t>(rank), 2)));
            }
            dying.push_back(dc::zeros(big));
        }
        const dc::Tensor scalar = dc::scalar_tensor(3.0);
        const dc::Tensor row = dc::ones({5});
        const dc::Tensor grid = dc::ones({4, 3}) + dc::ones({3});  // a broadcast result
        const dc::Tensor same = row * row;                         // equal shapes
        const dc::Tensor deep = dc::zeros(big).sum({0});
        CHECK(scalar.shape().empty());
        CHECK(row.shape() == dc::Shape{5});
        CHECK(grid.shape() == dc::Shape{4, 3});
        CHECK(same.shape() == dc::Shape{5});
        CHECK(deep.shape() == dc::Shape{1, 3, 1, 2, 1, 1, 2, 1});
        CHECK(row.reshape({5, 1}).shape() == dc::Shape{5, 1});
        CHECK(row.shape() == dc::Shape{5});  // an alias's shape is not the original's
    }
}
