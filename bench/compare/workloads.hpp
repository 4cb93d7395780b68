#pragma once
// The side-by-side workloads of bench/compare (descent and libtorch build the same list, under
// the same benchmark names, so compare.py can pair them): training steps (forward, loss,
// backward, Adam, gradients dropped) of MLPs from tiny to large and of three CNNs, recurrent
// layers forward and backward, the fixed cost of one op and of a 100-op chain, and optimizer
// updates over one large and many small tensors.

#include <cstdint>
#include <vector>

namespace compare {

struct StepWorkload {
    const char* name;
    std::vector<std::int64_t> widths;  ///< layer widths, input first; ReLU between layers
    std::int64_t batch;
    bool mse;  ///< mean squared error against a [batch, out] target; else cross-entropy
};

inline const std::vector<StepWorkload>& step_workloads() {
    static const std::vector<StepWorkload> list{
        {"tiny_2_16_1_b8_mse", {2, 16, 1}, 8, true},
        {"mlp_784_256_256_10_b1", {784, 256, 256, 10}, 1, false},
        {"mlp_784_256_256_10_b32", {784, 256, 256, 10}, 32, false},
        {"mlp_784_256_256_10_b256", {784, 256, 256, 10}, 256, false},
        {"mlp_784_1024_1024_10_b512", {784, 1024, 1024, 10}, 512, false},
    };
    return list;
}

/// Convolutional training steps (forward, cross-entropy, backward, Adam, gradients dropped):
/// LeNet-5 on 28×28 (Fashion-MNIST's size: conv 5×5 → ReLU → max-pool 2, twice, then
/// 400-120-84-10), a small CNN on 8×8 (the bundled digits: conv 3×3 16 → ReLU → max-pool 2 →
/// conv 3×3 32 → ReLU → 512-10) and two 3×3 convolutions on 3×32×32 (CIFAR-10's size: 32 and 64
/// channels → ReLU → max-pool 2 → 16384-10).
struct ConvWorkload {
    const char* name;
    std::int64_t channels, image, batch;
};

inline const std::vector<ConvWorkload>& conv_workloads() {
    static const std::vector<ConvWorkload> list{
        {"lenet5_28_b64", 1, 28, 64},
        {"small_cnn_8_b32", 1, 8, 32},
        {"conv2_32_b32", 3, 32, 32},
    };
    return list;
}

/// Recurrent forward + backward (of the outputs' sum, gradients dropped after): one layer, input
/// and hidden size 256, 64 steps, batch 32, time-major.
struct RecurrentWorkload {
    const char* name;
    bool lstm;  ///< else a GRU
    std::int64_t input, hidden, steps, batch;
};

inline const std::vector<RecurrentWorkload>& recurrent_workloads() {
    static const std::vector<RecurrentWorkload> list{
        {"lstm_h256_t64_b32", true, 256, 256, 64, 32},
        {"gru_h256_t64_b32", false, 256, 256, 64, 32},
    };
    return list;
}

/// Layers forward + backward (of the output's sum, the input requiring grad too, gradients
/// dropped after), in training mode, batch 32 unless named: a ResNet basic block (3×3 conv,
/// BatchNorm, ReLU, 3×3 conv, BatchNorm, + input, ReLU; 64 channels, 32×32, convs without
/// bias), a depthwise-separable block (depthwise 3×3 conv 64 channels, BatchNorm, ReLU, 1×1
/// conv to 128, BatchNorm, ReLU; 32×32), 2×2 max and average pooling of [32, 64, 32, 32], and a
/// TransformerEncoderLayer (d_model 128, 4 heads, feed-forward 512, dropout 0, post-norm, ReLU)
/// over 128 tokens, batch 16, sequence first.
struct BlockWorkload {
    const char* name;
};

inline const std::vector<BlockWorkload>& block_workloads() {
    static const std::vector<BlockWorkload> list{{"resnet_basic_64_32_b32"},
                                                 {"depthwise_separable_64_32_b32"},
                                                 {"max_pool2_64_32_b32"},
                                                 {"avg_pool2_64_32_b32"},
                                                 {"transformer_d128_h4_t128_b16"}};
    return list;
}

/// Optimizer updates: `tensors` parameters of `elements` float32 each.
struct UpdateWorkload {
    const char* name;
    std::int64_t tensors, elements;
};

inline const std::vector<UpdateWorkload>& update_workloads() {
    static const std::vector<UpdateWorkload> list{{"1x10M", 1, 10'000'000},
                                                  {"1000x10k", 1000, 10'000}};
    return list;
}

inline constexpr int kChainOps = 100;  ///< ops of the chain benchmark (then one backward)

}  // namespace compare
