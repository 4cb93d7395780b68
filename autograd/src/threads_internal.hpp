#pragma once
// The product kernel's side of the thread settings (threads.hpp).

namespace descent::detail {

/// While alive, products on this thread use one thread when `work` (m·n·k) is below the
/// parallel threshold, else get_num_threads().
class ProductThreads {
  public:
    explicit ProductThreads(double work);
    ~ProductThreads();
    ProductThreads(const ProductThreads&) = delete;
    ProductThreads& operator=(const ProductThreads&) = delete;

  private:
    int previous_;
};

}  // namespace descent::detail
