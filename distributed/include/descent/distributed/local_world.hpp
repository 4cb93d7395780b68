#pragma once
// A world of R ranks emulated in one process: rank r is a thread with its own communicator.
// The collectives are the MPI world's, in the same order, so a program run here gives results
// byte-identical to the same program under mpirun -np R (each rank its own model, generator and
// data shard). For tests, and for checking a distributed program on one machine.
//
//   descent::distributed::run_local(2, [](descent::distributed::Communicator& world) {
//   train(world); });

#include <functional>

#include "descent/distributed/communicator.hpp"

namespace descent::distributed {

/// Calls body(world) on `ranks` threads (1 ≤ ranks ≤ 256), each with its rank's communicator,
/// and returns when all have returned. If a rank throws, the others' next collective throws
/// DistError, and run_local throws DistError "rank r: <what>" for the first rank that failed.
void run_local(int ranks, const std::function<void(Communicator&)>& body);

}  // namespace descent::distributed
