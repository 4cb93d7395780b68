#pragma once
// Umbrella header of descent's nn library: modules, layers, losses, initialisers,
// checkpoints, training state, data helpers, sample-keyed dropout, metrics.

#include "descent/nn/checkpoint.hpp"
#include "descent/nn/csv.hpp"
#include "descent/nn/data.hpp"
#include "descent/nn/datasets.hpp"
#include "descent/nn/format.hpp"
#include "descent/nn/functional.hpp"
#include "descent/nn/init.hpp"
#include "descent/nn/layers.hpp"
#include "descent/nn/loss.hpp"
#include "descent/nn/metrics.hpp"
#include "descent/nn/module.hpp"
#include "descent/nn/sample_keys.hpp"
#include "descent/nn/sequential.hpp"
#include "descent/nn/split.hpp"
#include "descent/nn/training_state.hpp"
