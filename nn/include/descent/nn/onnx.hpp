#pragma once
// export_onnx: a model as an ONNX inference graph (opset 17, IR version 8), to run in ONNX
// Runtime or anything else that reads ONNX — as torch.onnx.export(model, x, path,
// dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}).
//
//   descent::nn::export_onnx(model, example_input, "model.onnx");
//
// - The export is module by module (each layer's own ONNX ops), not a trace of the tape, so the
//   batch dimension stays symbolic: the graph's input and output name it "batch" (dim 0, or
//   dim 1 of a time-major recurrent layer's input). Every other extent is the example's.
// - The graph is the model in eval mode (Dropout is the identity, batch norm uses its running
//   statistics), as torch.onnx.export's default: a model in training mode is exported as eval,
//   and its mode is restored afterwards. The model runs once on example_input (in eval mode,
//   without recording gradients) to check that it works and to fix each layer's shapes.
// - Weights are initializers named by the model's state_dict names ("0.weight",
//   "3.running_mean"), so the file maps onto torch's names; float32 models give FLOAT, float64
//   models DOUBLE.
// - Supported: Sequential (nested too), Linear, Conv1d, Conv2d (stride, padding incl. 'same',
//   dilation, groups; zeros, reflect and replicate padding), ConvTranspose1d/2d, MaxPool1d/2d,
//   AvgPool1d/2d, AdaptiveAvgPool1d/2d and AdaptiveMaxPool1d/2d (output 1, or an input extent
//   divisible by the output's), BatchNorm1d/2d (running statistics), LayerNorm, GroupNorm,
//   InstanceNorm1d/2d, Embedding, Dropout, Dropout2d, Identity, Flatten, ReLU, LeakyReLU, Tanh,
//   Sigmoid, GELU (exact and tanh), Softplus; TransformerEncoderLayer (post- and pre-norm,
//   relu or gelu) and TransformerEncoder, without masks (their one-tensor forward), the
//   attention composed of MatMul and Softmax; and as the whole model, RNN, LSTM and GRU (their
//   output sequence; zero initial state).
// - Refused with an Error naming export_onnx, the module's path in the model ("3.conv") and
//   its type, before anything is written: any other module (a Lambda, a custom module,
//   MultiheadAttention on its own), circular padding, batch norm without running statistics,
//   AvgPool's divisor_override, adaptive pooling with indivisible extents, LSTM projections,
//   attention with add_bias_kv, add_zero_attn or separate kdim/vdim, a time-major recurrent or
//   transformer layer inside a Sequential (the batch would be dim 1 there).
// - The file is written atomically (a temporary beside it, renamed onto it): a failure leaves
//   no half file. A path that cannot be written (a directory, a FIFO, /proc) is an Error
//   naming it.

#include <filesystem>
#include <string>

#include "descent/nn/module.hpp"

namespace descent::nn {

struct OnnxExportOptions {
    std::string input_name = "input";
    std::string output_name = "output";
    /// Name the batch dimension "batch" (symbolic); false fixes it to the example's.
    bool dynamic_batch = true;
};

/// Writes `model` as an ONNX file at `path` (see above); returns the model's output for
/// example_input (in eval mode), which ONNX Runtime reproduces.
Tensor export_onnx(Module& model, const Tensor& example_input, const std::filesystem::path& path,
                   const OnnxExportOptions& options = {});

}  // namespace descent::nn
