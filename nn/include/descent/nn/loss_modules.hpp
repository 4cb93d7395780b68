#pragma once
// The losses as modules, as torch.nn's: each holds its options, its weight tensors as buffers
// ("weight", "pos_weight": in state_dict when given, converted by to()), and is called as
// loss(input, target), and prints as torch's ("CrossEntropyLoss()"). Their one-tensor forward
// is an Error naming the module.

#include <string>
#include <string_view>
#include <utility>

#include "descent/nn/loss.hpp"
#include "descent/nn/module.hpp"

namespace descent::nn {

/// What CrossEntropyLoss and NLLLoss share: their options, with options.weight held as the
/// buffer "weight".
class ClassIndexLoss : public Module {
  public:
    /// Undefined without class weights.
    Tensor weight() const { return weight_ ? *weight_ : Tensor{}; }

  protected:
    ClassIndexLoss(std::string_view name, CrossEntropyOptions options);
    /// The options with the buffer (as to() converted it or a load replaced it) as weight.
    CrossEntropyOptions options() const;

  private:
    CrossEntropyOptions options_;
    Tensor* weight_ = nullptr;
};

/// cross_entropy(input, target, options).
class CrossEntropyLoss : public ClassIndexLoss {
  public:
    explicit CrossEntropyLoss(CrossEntropyOptions options = {})
        : ClassIndexLoss("CrossEntropyLoss", std::move(options)) {}
    Tensor forward(const Tensor& input, const Tensor& target) {
        return cross_entropy(input, target, options());
    }
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
};

/// nll_loss(input, target, options).
class NLLLoss : public ClassIndexLoss {
  public:
    explicit NLLLoss(CrossEntropyOptions options = {})
        : ClassIndexLoss("NLLLoss", std::move(options)) {}
    Tensor forward(const Tensor& input, const Tensor& target) {
        return nll_loss(input, target, options());
    }
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
};

/// binary_cross_entropy_with_logits with weight and pos_weight held as buffers.
class BCEWithLogitsLoss : public Module {
  public:
    explicit BCEWithLogitsLoss(BinaryCrossEntropyWithLogitsOptions options = {});
    Tensor forward(const Tensor& input, const Tensor& target);
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
    Tensor weight() const { return weight_ ? *weight_ : Tensor{}; }
    Tensor pos_weight() const { return pos_weight_ ? *pos_weight_ : Tensor{}; }

  private:
    Reduction reduction_;
    Tensor* weight_ = nullptr;
    Tensor* pos_weight_ = nullptr;
};

/// binary_cross_entropy with weight held as the buffer "weight".
class BCELoss : public Module {
  public:
    explicit BCELoss(BinaryCrossEntropyOptions options = {});
    Tensor forward(const Tensor& input, const Tensor& target);
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
    Tensor weight() const { return weight_ ? *weight_ : Tensor{}; }

  private:
    Reduction reduction_;
    Tensor* weight_ = nullptr;
};

/// mse_loss(input, target, reduction).
class MSELoss : public Module {
  public:
    explicit MSELoss(Reduction reduction = Reduction::mean) : reduction_(reduction) {}
    Tensor forward(const Tensor& input, const Tensor& target) {
        return mse_loss(input, target, reduction_);
    }
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }

  private:
    Reduction reduction_;
};

/// l1_loss(input, target, reduction).
class L1Loss : public Module {
  public:
    explicit L1Loss(Reduction reduction = Reduction::mean) : reduction_(reduction) {}
    Tensor forward(const Tensor& input, const Tensor& target) {
        return l1_loss(input, target, reduction_);
    }
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }

  private:
    Reduction reduction_;
};

/// huber_loss(input, target, reduction, delta); delta > 0 is checked here.
class HuberLoss : public Module {
  public:
    explicit HuberLoss(Reduction reduction = Reduction::mean, double delta = 1.0);
    Tensor forward(const Tensor& input, const Tensor& target) {
        return huber_loss(input, target, reduction_, delta_);
    }
    Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }

  private:
    Reduction reduction_;
    double delta_;
};

}  // namespace descent::nn
