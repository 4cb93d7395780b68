#pragma once
// Feature standardisation, fitted on training data only (the lecture's feature scaling).

#include "descent/lifetime.hpp"
#include "descent/state.hpp"
#include "descent/tensor.hpp"

namespace descent::data {

/// x ← (x − mean)/std per feature (column), with mean and std fitted on training data only;
/// a constant feature keeps std 1 so that it maps to 0 instead of NaN.
class Standardizer {
  public:
    /// Fits on x [N, F] (population std, as scikit-learn's StandardScaler).
    Standardizer& fit(const Tensor& x);
    Tensor transform(const Tensor& x) const;
    Tensor fit_transform(const Tensor& x) { return fit(x).transform(x); }
    const Tensor& mean() const { return mean_; }
    const Tensor& std() const { return std_; }
    bool fitted() const { return mean_.defined(); }

    /// {"mean", "std"} once fitted (no tensors before), and the text "config"
    /// ("Standardizer"), for checkpoints.
    StateDict state_dict() const;
    /// Checks a state_dict(): without tensors it unfits; otherwise both entries, 1-D of one
    /// length and floating dtype, the mean finite and the std positive and finite.
    StagedLoad stage_load(const StateDict& state);
    void load_state_dict(const StateDict& state) { stage_load(state).apply(); }
    const Lifetime& lifetime() const { return lifetime_; }

  private:
    Tensor mean_, std_;
    Lifetime lifetime_;
};

}  // namespace descent::data
