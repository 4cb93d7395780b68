#pragma once
// Thread-local switches of the tape: grad mode (is the tape recording?) and anomaly mode
// (does the first NaN/Inf raise an AnomalyError naming its op?).

namespace descent {

bool is_grad_enabled();
void set_grad_enabled(bool enabled);

/// Disables recording for its lifetime: results of ops do not require grad.
class NoGradGuard {
  public:
    NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
    ~NoGradGuard() { set_grad_enabled(previous_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

  private:
    bool previous_;
};

/// Sets grad mode to `enabled` for its lifetime (the engine uses it for create_graph).
class GradModeGuard {
  public:
    explicit GradModeGuard(bool enabled) : previous_(is_grad_enabled()) {
        set_grad_enabled(enabled);
    }
    ~GradModeGuard() { set_grad_enabled(previous_); }
    GradModeGuard(const GradModeGuard&) = delete;
    GradModeGuard& operator=(const GradModeGuard&) = delete;

  private:
    bool previous_;
};

bool is_anomaly_enabled();
void set_detect_anomaly(bool enabled);

/// Turns anomaly detection on for its lifetime.
class AnomalyGuard {
  public:
    AnomalyGuard() : previous_(is_anomaly_enabled()) { set_detect_anomaly(true); }
    ~AnomalyGuard() { set_detect_anomaly(previous_); }
    AnomalyGuard(const AnomalyGuard&) = delete;
    AnomalyGuard& operator=(const AnomalyGuard&) = delete;

  private:
    bool previous_;
};

}  // namespace descent
