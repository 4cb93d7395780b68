#pragma once
// The kernels' side of the thread settings (threads.hpp).

namespace descent::detail {

/// While alive, OpenMP's thread count on the calling thread is 1, and the count it had is put
/// back after: a library built on OpenMP (Eigen's GEMM, oneDNN) then runs single-threaded there
/// and never starts a team — descent splits the work over its own pool instead.
class OneOpenMpThread {
  public:
    OneOpenMpThread();
    ~OneOpenMpThread();
    OneOpenMpThread(const OneOpenMpThread&) = delete;
    OneOpenMpThread& operator=(const OneOpenMpThread&) = delete;

  private:
    int previous_;
};

}  // namespace descent::detail
