#pragma once
// One rank per process over Open MPI (the C API): MPI is initialised for the lifetime of the
// MpiWorld (MPI_Init_thread, funneled: collectives from the thread that made it) and finalised
// with it; descent's traffic runs on its own duplicate of MPI_COMM_WORLD.
//
//   int main() {
//       descent::distributed::MpiWorld world;
//       return descent::distributed::run_or_abort(world, [&] { return train(world); });
//   }

#include <memory>

#include "descent/distributed/communicator.hpp"

namespace descent::distributed {

class MpiWorld : public Communicator {
  public:
    /// Initialises MPI unless the program already has; one MpiWorld per process at a time.
    MpiWorld();
    /// Finalises MPI if this MpiWorld initialised it.
    ~MpiWorld() override;

    int rank() const override;
    int size() const override;
    std::string kind() const override { return "mpi"; }
    void barrier() override;
    /// Prints the message on stderr and ends every rank (MPI_Abort, exit code 1).
    [[noreturn]] void abort(const std::string& message) override;

  protected:
    void broadcast_impl(std::span<std::byte> bytes, int root) override;
    void allgather_impl(std::span<const std::byte> mine, std::span<std::byte> all,
                        std::span<const std::size_t> counts) override;
    void alltoall_impl(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                       std::span<std::byte> recv,
                       std::span<const std::size_t> recv_counts) override;
    void engine_sum(std::span<float> data) override;
    void engine_sum(std::span<double> data) override;

  private:
    struct State;  // keeps <mpi.h> out of this header
    std::unique_ptr<State> state_;
};

}  // namespace descent::distributed
