#include "descent/distributed/mpi_world.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace descent::distributed {
namespace {

std::atomic<bool> world_alive{false};  // one MpiWorld per process at a time

void check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw DistError(
        fmt::format("{}: {}", call, std::string(text, static_cast<std::size_t>(length))));
}

int as_count(std::size_t bytes, const char* op) {
    if (bytes > static_cast<std::size_t>(INT_MAX)) {
        throw DistError(
            fmt::format("{}: {} bytes in one message exceed MPI's int count", op, bytes));
    }
    return static_cast<int>(bytes);
}

/// MPI's counts and displacements (ints) from byte counts.
struct Layout {
    std::vector<int> counts, offsets;
    Layout(std::span<const std::size_t> bytes, const char* op) {
        std::size_t at = 0;
        for (const std::size_t b : bytes) {
            counts.push_back(as_count(b, op));
            offsets.push_back(as_count(at, op));
            at += b;
        }
    }
};

template <class T>
void engine_sum_in(std::span<T> data, MPI_Datatype type, MPI_Comm comm) {
    constexpr std::size_t piece = std::size_t{1} << 27;  // elements per call: counts are ints
    for (std::size_t at = 0; at < data.size(); at += piece) {
        const std::size_t n = std::min(piece, data.size() - at);
        check(
            MPI_Allreduce(MPI_IN_PLACE, data.data() + at, static_cast<int>(n), type, MPI_SUM, comm),
            "MPI_Allreduce");
    }
}

}  // namespace

struct MpiWorld::State {
    MPI_Comm comm = MPI_COMM_NULL;
    int rank = 0, size = 1;
    bool initialised_here = false;
};

MpiWorld::MpiWorld() : state_(std::make_unique<State>()) {
    if (world_alive.exchange(true)) {
        throw DistError("MpiWorld: this process has one already (one MPI world per process)");
    }
    try {
        int initialised = 0, finalised = 0;
        check(MPI_Initialized(&initialised), "MPI_Initialized");
        check(MPI_Finalized(&finalised), "MPI_Finalized");
        if (finalised) throw DistError("MpiWorld: MPI has been finalised and cannot start again");
        if (!initialised) {
            int provided = 0;
            check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided),
                  "MPI_Init_thread");
            state_->initialised_here = true;
        }
        check(MPI_Comm_dup(MPI_COMM_WORLD, &state_->comm), "MPI_Comm_dup");
        check(MPI_Comm_rank(state_->comm, &state_->rank), "MPI_Comm_rank");
        check(MPI_Comm_size(state_->comm, &state_->size), "MPI_Comm_size");
    } catch (...) {
        world_alive = false;
        throw;
    }
}

MpiWorld::~MpiWorld() {
    if (state_->comm != MPI_COMM_NULL) {
        finish();  // ranks still in a collective are told, and every rank ends
        MPI_Comm_free(&state_->comm);
    }
    if (state_->initialised_here) MPI_Finalize();
    world_alive = false;
}

int MpiWorld::rank() const {
    return state_->rank;
}
int MpiWorld::size() const {
    return state_->size;
}

void MpiWorld::barrier() {
    check(MPI_Barrier(state_->comm), "MPI_Barrier");
}

void MpiWorld::broadcast_impl(std::span<std::byte> bytes, int root) {
    check(
        MPI_Bcast(bytes.data(), as_count(bytes.size(), "broadcast"), MPI_BYTE, root, state_->comm),
        "MPI_Bcast");
}

void MpiWorld::allgather_impl(std::span<const std::byte> mine, std::span<std::byte> all,
                              std::span<const std::size_t> counts) {
    const Layout layout(counts, "allgather");
    check(MPI_Allgatherv(mine.data(), as_count(mine.size(), "allgather"), MPI_BYTE, all.data(),
                         layout.counts.data(), layout.offsets.data(), MPI_BYTE, state_->comm),
          "MPI_Allgatherv");
}

void MpiWorld::alltoall_impl(std::span<const std::byte> send,
                             std::span<const std::size_t> send_counts, std::span<std::byte> recv,
                             std::span<const std::size_t> recv_counts) {
    const Layout out(send_counts, "alltoall"), in(recv_counts, "alltoall");
    check(MPI_Alltoallv(send.data(), out.counts.data(), out.offsets.data(), MPI_BYTE, recv.data(),
                        in.counts.data(), in.offsets.data(), MPI_BYTE, state_->comm),
          "MPI_Alltoallv");
}

void MpiWorld::engine_sum(std::span<float> data) {
    engine_sum_in(data, MPI_FLOAT, state_->comm);
}
void MpiWorld::engine_sum(std::span<double> data) {
    engine_sum_in(data, MPI_DOUBLE, state_->comm);
}

void MpiWorld::abort(const std::string& message) {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::fflush(stderr);
    MPI_Abort(state_->comm, 1);
    std::abort();  // MPI_Abort does not return
}

}  // namespace descent::distributed
