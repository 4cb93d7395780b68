#pragma once
// descent::distributed — data-parallel training over MPI (or ranks emulated as threads):
// communicators, DataParallel, SyncBatchNorm. Built with -DDESCENT_MPI=ON; link
// descent::distributed.

#include "descent/distributed/communicator.hpp"
#include "descent/distributed/data_parallel.hpp"
#include "descent/distributed/local_world.hpp"
#include "descent/distributed/mpi_world.hpp"
#include "descent/distributed/sync_batch_norm.hpp"
