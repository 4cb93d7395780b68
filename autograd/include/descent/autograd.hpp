#pragma once
// Umbrella header of descent's autograd library: tensors, ops, the tape, gradcheck, the state
// contract. Opt-in, for their compile time: <descent/eigen.hpp> (Eigen maps of tensors) and
// <descent/format.hpp> (fmt formatting).

#include "descent/check.hpp"
#include "descent/derivatives.hpp"
#include "descent/dtype.hpp"
#include "descent/engine.hpp"
#include "descent/error.hpp"
#include "descent/function.hpp"
#include "descent/grad_mode.hpp"
#include "descent/gradcheck.hpp"
#include "descent/lifetime.hpp"
#include "descent/ops.hpp"
#include "descent/random.hpp"
#include "descent/sample_keys.hpp"
#include "descent/shape.hpp"
#include "descent/spatial.hpp"
#include "descent/state.hpp"
#include "descent/state_reader.hpp"
#include "descent/tensor.hpp"
#include "descent/threads.hpp"
