#pragma once
// descent::dist — data-parallel training over MPI (or ranks emulated as threads): communicators,
// DataParallel, SyncBatchNorm. Built with -DDESCENT_MPI=ON; link descent::dist.

#include "descent/dist/communicator.hpp"
#include "descent/dist/data_parallel.hpp"
#include "descent/dist/local_world.hpp"
#include "descent/dist/mpi_world.hpp"
#include "descent/dist/sync_batch_norm.hpp"
