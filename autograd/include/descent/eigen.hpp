#pragma once
// Eigen views of tensors, no copies: t.map<T>() and t.mutable_map<T>() (every element as a flat
// array), t.matrix<T>() (a 2-D tensor as a row-major matrix). Include this header to use them:
// <Eigen/Core> takes most of a translation unit's compile time, so the other headers leave it
// out.
//
//   #include <descent/eigen.hpp>
//   double norm = x.map<float>().matrix().norm();

#include <Eigen/Core>

#include "descent/tensor.hpp"

namespace descent {

template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>, Eigen::Aligned64>;
template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>, Eigen::Aligned64>;

template <class T>
auto Tensor::map() const {
    return ConstArrayMap<T>(data<T>(), numel());
}

template <class T>
auto Tensor::mutable_map() {
    return ArrayMap<T>(mutable_data<T>(), numel());
}

template <class T>
auto Tensor::matrix() const {
    check_rank(2, "matrix");
    return ConstMatrixMap<T>(data<T>(), size(0), size(1));
}

}  // namespace descent
