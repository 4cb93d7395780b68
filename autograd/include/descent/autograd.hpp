#pragma once
// Umbrella header of descent's autograd library: tensors, ops, the tape, gradcheck.

#include "descent/check.hpp"
#include "descent/derivatives.hpp"
#include "descent/dtype.hpp"
#include "descent/engine.hpp"
#include "descent/error.hpp"
#include "descent/format.hpp"
#include "descent/function.hpp"
#include "descent/grad_mode.hpp"
#include "descent/gradcheck.hpp"
#include "descent/ops.hpp"
#include "descent/random.hpp"
#include "descent/sample_keys.hpp"
#include "descent/shape.hpp"
#include "descent/tensor.hpp"
#include "descent/threads.hpp"
