#pragma once
// Feature standardisation, fitted on training data only (the lecture's feature scaling).

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

    /// {"mean", "std"} once fitted (nothing before), for checkpoints.
    NamedTensors state_dict() const;
    /// Restores state_dict(): an empty state unfits it; otherwise both entries, 1-D of one
    /// length and floating dtype, std positive — else an Error, and nothing changes.
    void load_state_dict(const NamedTensors& state);

  private:
    Tensor mean_, std_;
};

}  // namespace descent::data
