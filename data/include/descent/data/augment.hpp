#pragma once
// Random image augmentation of batches [N, C, H, W], as torchvision's transforms apply it to each
// image: every sample of a batch gets draws of its own. Each transform draws from a Generator
// of its own, so a run is reproducible from its seeds and, being Stateful, resumes
// bit-identically from a checkpoint (TrainingState) taken mid-epoch. Augmentation is data
// preparation: it records nothing on the tape.
//
//   descent::data::Compose augment(descent::data::RandomCrop(28, {.padding = 4, .seed = 1}),
//                                  descent::data::RandomHorizontalFlip(0.5, 2));
//   descent::Tensor x = augment(batch.x);   // float32 [N, 1, 28, 28]

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "descent/lifetime.hpp"
#include "descent/random.hpp"
#include "descent/spatial.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::data {

/// A transform of a batch [N, C, H, W] with a state (its generator's) to checkpoint.
class Transform {
  public:
    virtual ~Transform() = default;
    virtual Tensor operator()(const Tensor& batch) = 0;
    /// Its configuration, as its state's "config" text ("RandomHorizontalFlip(p=0.5)").
    virtual std::string config() const = 0;
    virtual StateDict state_dict() const = 0;
    virtual StagedLoad stage_load(const StateDict& state) = 0;
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  protected:
    Transform() = default;
    Transform(const Transform&) = default;
    Transform& operator=(const Transform&) = default;

  private:
    Lifetime lifetime_;
};

/// A transform drawing from a generator of its own: seeded by `seed`, or else by a number
/// drawn from the calling thread's generator (manual_seed) when it is made.
class RandomTransform : public Transform {
  public:
    /// {"generator.*"} (Generator::state_dict) and the text "config".
    StateDict state_dict() const override;
    /// Checks the config and the generator's state.
    StagedLoad stage_load(const StateDict& state) override;
    const Generator& generator() const { return generator_; }

  protected:
    explicit RandomTransform(std::optional<std::uint64_t> seed);
    Generator generator_;
};

/// How RandomCrop fills the border it pads: zeros; reflect mirrors the image without repeating
/// its edge (padding < H and < W); replicate repeats the edge.
enum class PaddingMode { zeros, reflect, replicate };

struct RandomCropOptions {
    /// Pixels added on each side (left, right, top, bottom) before cropping; ≥ 0.
    std::int64_t padding = 0;
    PaddingMode padding_mode = PaddingMode::zeros;
    std::optional<std::uint64_t> seed{};
};

/// Each sample's crop of `size` (h, w; one number: square) out of the sample padded by
/// `padding`: its top row uniform in [0, H + 2·padding − h], then its left column uniform in
/// [0, W + 2·padding − w] (no draw where the range is one value). A crop larger than the padded
/// image is an Error.
class RandomCrop : public RandomTransform {
  public:
    explicit RandomCrop(Extents size, RandomCropOptions options = {});
    Tensor operator()(const Tensor& batch) override;
    std::string config() const override;

  private:
    std::int64_t height_, width_;
    RandomCropOptions options_;
};

/// Each sample reversed along W (x[..., W − 1 − j]) with probability p: flipped where a
/// uniform draw u in [0, 1) is below p.
class RandomHorizontalFlip : public RandomTransform {
  public:
    explicit RandomHorizontalFlip(double p = 0.5, std::optional<std::uint64_t> seed = {});
    Tensor operator()(const Tensor& batch) override;
    std::string config() const override;

  private:
    double p_;
};

/// Transforms applied in order; its state holds each one's under "0.", "1.", ... A copy of a
/// Compose shares its transforms.
class Compose : public Transform {
  public:
    explicit Compose(std::vector<std::shared_ptr<Transform>> transforms);
    /// Copies of the given transforms, in order (a Compose in a Compose: the vector form).
    template <class... T>
    requires(sizeof...(T) > 0 &&
             ((std::is_base_of_v<Transform, std::decay_t<T>> &&
               !std::is_same_v<std::decay_t<T>, Compose>)&&...)) explicit Compose(T&&... transforms)
        : Compose(std::vector<std::shared_ptr<Transform>>{
              std::make_shared<std::decay_t<T>>(std::forward<T>(transforms))...}) {}

    Tensor operator()(const Tensor& batch) override;
    std::string config() const override;
    std::int64_t size() const { return static_cast<std::int64_t>(transforms_.size()); }
    Transform& operator[](std::int64_t i) const;

    StateDict state_dict() const override;
    /// Stages every transform's part before it applies any.
    StagedLoad stage_load(const StateDict& state) override;

  private:
    std::vector<std::shared_ptr<Transform>> transforms_;
};

}  // namespace descent::data
