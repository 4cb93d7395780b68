#pragma once
// Umbrella header of descent's nn library: models — modules, layers, functional forms,
// losses, initialisers — their checkpoint files and ONNX export.

#include "descent/nn/attention.hpp"
#include "descent/nn/checkpoint.hpp"
#include "descent/nn/conv.hpp"
#include "descent/nn/functional.hpp"
#include "descent/nn/init.hpp"
#include "descent/nn/layers.hpp"
#include "descent/nn/loss.hpp"
#include "descent/nn/loss_modules.hpp"
#include "descent/nn/module.hpp"
#include "descent/nn/normalization.hpp"
#include "descent/nn/onnx.hpp"
#include "descent/nn/pooling.hpp"
#include "descent/nn/recurrent.hpp"
#include "descent/nn/recurrent_cell.hpp"
#include "descent/nn/sequential.hpp"
#include "descent/nn/torch_file.hpp"
#include "descent/nn/transformer.hpp"
