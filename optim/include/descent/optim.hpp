#pragma once
// Umbrella header of descent's optim library: optimizers, Lookahead, schedules, clipping, noise.

#include "descent/optim/adabound.hpp"
#include "descent/optim/adagrad.hpp"
#include "descent/optim/adam.hpp"
#include "descent/optim/adamw.hpp"
#include "descent/optim/clip.hpp"
#include "descent/optim/lookahead.hpp"
#include "descent/optim/nadam.hpp"
#include "descent/optim/noise.hpp"
#include "descent/optim/optimizer.hpp"
#include "descent/optim/param_groups.hpp"
#include "descent/optim/radam.hpp"
#include "descent/optim/rmsprop.hpp"
#include "descent/optim/schedule.hpp"
#include "descent/optim/sgd.hpp"
#include "descent/optim/sgdw.hpp"
#include "descent/optim/swats.hpp"
