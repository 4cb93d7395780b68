#pragma once
// Differentiable collectives: ops whose forward and backward pass communicate, for models whose
// computation spans ranks (SyncBatchNorm's statistics of the global batch).

#include "descent/distributed/communicator.hpp"
#include "descent/tensor.hpp"

namespace descent::distributed {

/// y = Σ_r x_r over the ranks of `world`, in rank order, the same on every rank; x is float32
/// or float64 with the same shape and dtype on every rank. Differentiable (twice too): the
/// gradient of x on rank r is Σ_q ∂L/∂y_q, the upstream gradients of every rank summed (the
/// adjoint of a sum over ranks is the same sum), so the backward pass is itself an allreduce.
/// A collective: every rank must call it in the same order, with x requiring grad on all ranks
/// or none, and run the backward passes through it in the same order too (as with any
/// collective, a rank that skips one leaves the others waiting: DistError in a LocalWorld).
Tensor all_sum(Communicator& world, const Tensor& x);

}  // namespace descent::distributed
