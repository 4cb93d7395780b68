#pragma once
// descent::Error and its subclasses: every message names the operation and the shapes, dtypes
// or keys involved, e.g. "matmul: cannot multiply [3,4] by [5,6]".

#include <stdexcept>
#include <string>

namespace descent {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Shapes that do not fit the operation (broadcasting, matmul, reshape, concat, ...).
class ShapeError : public Error {
  public:
    using Error::Error;
};

/// A dtype the operation does not accept, or two operands of different dtypes.
class DtypeError : public Error {
  public:
    using Error::Error;
};

/// An index, slice bound or dimension out of range.
class IndexError : public Error {
  public:
    using Error::Error;
};

/// Misuse of the tape: freed graph, modified saved tensor, non-scalar backward, ...
class AutogradError : public Error {
  public:
    using Error::Error;
};

/// A malformed or unreadable file (checkpoints): names the file and what is wrong with it.
class FormatError : public Error {
  public:
    using Error::Error;
};

/// A NaN or Inf produced while anomaly mode is on.
class AnomalyError : public Error {
  public:
    using Error::Error;
};

}  // namespace descent
