#include "spare_shapes.hpp"

#include <array>
#include <utility>

#include "pool.hpp"

namespace descent::spare_shapes {
namespace {

// 64 vectors of at most 8 extents: at most 4 KiB kept per thread.
constexpr std::size_t kSpares = 64, kMaxCapacity = 8;

struct Spares {
    std::array<Shape, kSpares> shapes;
    std::size_t count = 0;
    ~Spares();
};

thread_local Spares* spares = nullptr;  // null before first use and after the thread's end
thread_local bool spares_ended = false;

Spares::~Spares() {
    spares = nullptr;
    spares_ended = true;  // shapes of tensors dying later in this thread (at exit) are freed
}

Spares* this_thread_spares() {
    if (!pool::kRecycling) return nullptr;
    if (!spares && !spares_ended) {
        thread_local Spares mine;
        spares = &mine;
    }
    return spares;
}

}  // namespace

Shape copy(const std::int64_t* first, std::size_t rank) {
    Shape shape;
    if (Spares* s = this_thread_spares(); s && s->count > 0)
        shape = std::move(s->shapes[--s->count]);
    shape.assign(first, first + rank);  // within a spare's capacity: no allocation
    return shape;
}

void keep(Shape&& shape) noexcept {
    if (shape.capacity() == 0 || shape.capacity() > kMaxCapacity) return;
    if (Spares* s = this_thread_spares(); s && s->count < kSpares) {
        s->shapes[s->count++] = std::move(shape);
    }
}

}  // namespace descent::spare_shapes
