#include "recurrent_kernels.hpp"

#include <Eigen/Core>
#include <cstring>

#include "descent/ops.hpp"

namespace descent::nn::detail {
namespace {

/// rows × cols entries of a row-major matrix whose rows are `stride` apart.
template <class T>
using Block = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                         Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using ConstBlock =
    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
               Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using Array = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// `width` columns from gate `gate` on of a step's [N, G·H] rows (a [N, H] state: gate 0, G 1).
template <class T>
Block<T> gate(T* rows, const Geometry& g, std::int64_t gate, std::int64_t width, std::int64_t G) {
    return Block<T>(rows + gate * g.H, g.N, width, Eigen::OuterStride<>(G * g.H));
}
template <class T>
ConstBlock<T> gate(const T* rows, const Geometry& g, std::int64_t gate, std::int64_t width,
                   std::int64_t G) {
    return ConstBlock<T>(rows + gate * g.H, g.N, width, Eigen::OuterStride<>(G * g.H));
}

/// σ(a) = 1/(1 + e⁻ᵃ), as the sigmoid op computes it.
template <class E>
auto sigmoid_of(const E& a) {
    return (1 + (-a).exp()).inverse();
}

/// count elements from src to dst (none, and no pointer read, when count is 0: an empty
/// batch's tensors have no storage).
template <class T>
void copy_elements(T* dst, const T* src, std::int64_t count) {
    if (count > 0) std::memcpy(dst, src, sizeof(T) * static_cast<std::size_t>(count));
}

/// Step `time` of a [L, N, k] tensor.
template <class T>
T* step_of(Tensor& t, std::int64_t time) {
    return t.mutable_data<T>() + time * t.size(1) * t.size(2);
}
template <class T>
const T* step_of(const Tensor& t, std::int64_t time) {
    return t.data<T>() + time * t.size(1) * t.size(2);
}

template <class T>
Trace forward_typed(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                    const ScanWeights& w, const Geometry& g) {
    const auto opts = TensorOptions{.dtype = gates_x.dtype()};
    const std::int64_t H = g.H, G = g.G;
    const bool lstm = kind == CellKind::lstm, gru = kind == CellKind::gru;
    Trace tr{zeros({g.L, g.N, g.P}, opts), {}, {}, {}};
    if (lstm) tr.cs = zeros({g.L, g.N, H}, opts);
    if (lstm || gru) tr.acts = zeros({g.L, g.N, G * H}, opts);
    if (gru || w.weight_hr.defined()) tr.aux = zeros({g.L, g.N, H}, opts);
    Tensor h = start.h;
    const T* c_prev = lstm ? start.c.data<T>() : nullptr;
    for (std::int64_t k = 0; k < g.L; ++k) {
        const std::int64_t t = g.time(k);
        const Tensor hh = linear(h, w.weight_hh, w.bias_hh);  // W_hh·h + b_hh, [N, G·H]
        const T* x = step_of<T>(gates_x, t);
        const T* y = hh.data<T>();
        Tensor next = zeros({g.N, H}, opts);
        auto out = gate(next.mutable_data<T>(), g, 0, H, 1);
        if (lstm) {
            T* a = step_of<T>(tr.acts, t);
            gate(a, g, 0, G * H, G) = gate(x, g, 0, G * H, G) + gate(y, g, 0, G * H, G);
            auto i = gate(a, g, 0, H, G), f = gate(a, g, 1, H, G);
            auto cell = gate(a, g, 2, H, G), o = gate(a, g, 3, H, G);
            i = sigmoid_of(i);
            f = sigmoid_of(f);
            cell = cell.tanh();
            o = sigmoid_of(o);
            auto c = gate(step_of<T>(tr.cs, t), g, 0, H, 1);
            c = f * gate(c_prev, g, 0, H, 1) + i * cell;  // c' = σ(f)⊙c + σ(i)⊙tanh(g)
            out = o * c.tanh();                           // h' = σ(o)⊙tanh(c')
            c_prev = step_of<T>(tr.cs, t);
            if (w.weight_hr.defined()) {
                copy_elements(step_of<T>(tr.aux, t), next.data<T>(), g.N * H);
                next = linear(next, w.weight_hr);  // h' ← W_hr·h'
            }
        } else if (gru) {
            T* a = step_of<T>(tr.acts, t);
            gate(a, g, 0, 2 * H, G) = sigmoid_of(gate(x, g, 0, 2 * H, G) + gate(y, g, 0, 2 * H, G));
            auto r = gate(a, g, 0, H, G), z = gate(a, g, 1, H, G), n = gate(a, g, 2, H, G);
            n = (gate(x, g, 2, H, G) + r * gate(y, g, 2, H, G)).tanh();  // tanh(x_n + r⊙h_n)
            gate(step_of<T>(tr.aux, t), g, 0, H, 1) = gate(y, g, 2, H, G);
            out = n + z * (gate(h.data<T>(), g, 0, H, 1) - n);  // (1 − z)⊙n + z⊙h
        } else if (kind == CellKind::rnn_tanh) {
            out = (gate(x, g, 0, H, 1) + gate(y, g, 0, H, 1)).tanh();
        } else {
            out = (gate(x, g, 0, H, 1) + gate(y, g, 0, H, 1)).max(T(0));
        }
        copy_elements(step_of<T>(tr.hs, t), next.data<T>(), g.N * g.P);
        h = std::move(next);
    }
    return tr;
}

/// The state before every step, in time order: start before the first step run.
template <class T>
Tensor previous_states(const Tensor& all, const Tensor& start, const Geometry& g) {
    Tensor prev = zeros(all.shape(), {.dtype = all.dtype()});
    const std::int64_t row = all.size(1) * all.size(2);
    for (std::int64_t k = 0; k < g.L; ++k) {
        const T* from = k == 0 ? start.data<T>() : step_of<T>(all, g.time(k - 1));
        copy_elements(step_of<T>(prev, g.time(k)), from, row);
    }
    return prev;
}

/// Σ over steps and rows of a[t]ᵀ·b[t] for a [L, N, m] and b [L, N, k]: the [m, k] product.
Tensor summed_outer(const Tensor& a, const Tensor& b) {
    return matmul(a.reshape({-1, a.size(2)}), b.reshape({-1, b.size(2)}), true, false);
}

template <class T>
std::vector<Tensor> backward_typed(CellKind kind, const std::vector<Tensor>& in, const Trace& tr,
                                   const Tensor& d_hs, const Tensor& d_cs, const Geometry& g) {
    const Tensor& weight_hh = in[3];
    const bool lstm = kind == CellKind::lstm, gru = kind == CellKind::gru;
    const bool projected = lstm && in[5].numel() > 0;
    const auto opts = TensorOptions{.dtype = d_hs.dtype()};
    const std::int64_t H = g.H, G = g.G;
    Tensor d_gates = zeros({g.L, g.N, G * H}, opts);
    // the gradient of W_hh·h + b_hh: d_gates but for a GRU's n gate, where it is r⊙d_n
    Tensor d_hh = gru ? zeros({g.L, g.N, G * H}, opts) : d_gates;
    Tensor d_h_all = projected ? zeros({g.L, g.N, g.P}, opts) : Tensor{};
    Tensor dh_next = zeros({g.N, g.P}, opts);
    Tensor dc_next = lstm ? zeros({g.N, H}, opts) : Tensor{};
    for (std::int64_t k = g.L - 1; k >= 0; --k) {
        const std::int64_t t = g.time(k);
        Tensor dh = dh_next;  // a fresh tensor of this step's own
        Block<T>(dh.mutable_data<T>(), g.N, g.P, Eigen::OuterStride<>(g.P)) +=
            ConstBlock<T>(step_of<T>(d_hs, t), g.N, g.P, Eigen::OuterStride<>(g.P));
        if (projected) {
            copy_elements(step_of<T>(d_h_all, t), dh.data<T>(), g.N * g.P);
            dh = matmul(dh, in[5]);  // through h' = W_hr·h_raw
        }
        const auto d = gate(dh.data<T>(), g, 0, H, 1);
        T* ds = step_of<T>(d_gates, t);
        Tensor d_direct;
        if (lstm) {
            const T* a = step_of<T>(tr.acts, t);
            const auto i = gate(a, g, 0, H, G), f = gate(a, g, 1, H, G);
            const auto cell = gate(a, g, 2, H, G), o = gate(a, g, 3, H, G);
            const Array<T> tc = gate(step_of<T>(tr.cs, t), g, 0, H, 1).tanh();
            const T* cp = k == 0 ? in[2].data<T>() : step_of<T>(tr.cs, g.time(k - 1));
            auto dc_carry = gate(dc_next.mutable_data<T>(), g, 0, H, 1);
            const Array<T> dc =
                dc_carry + gate(step_of<T>(d_cs, t), g, 0, H, 1) + d * o * (1 - tc * tc);
            gate(ds, g, 0, H, G) = dc * cell * i * (1 - i);                  // pre-activation of i
            gate(ds, g, 1, H, G) = dc * gate(cp, g, 0, H, 1) * f * (1 - f);  // of f
            gate(ds, g, 2, H, G) = dc * i * (1 - cell * cell);               // of g
            gate(ds, g, 3, H, G) = d * tc * o * (1 - o);                     // of o
            dc_carry = dc * f;                                               // ∂/∂c_{t−1}
        } else if (gru) {
            const T* a = step_of<T>(tr.acts, t);
            const auto r = gate(a, g, 0, H, G), z = gate(a, g, 1, H, G), n = gate(a, g, 2, H, G);
            const T* hp = k == 0 ? in[1].data<T>() : step_of<T>(tr.hs, g.time(k - 1));
            const Array<T> dn = d * (1 - z) * (1 - n * n);  // pre-activation of n
            const Array<T> dr = dn * gate(step_of<T>(tr.aux, t), g, 0, H, 1) * r * (1 - r);
            gate(ds, g, 0, H, G) = dr;
            gate(ds, g, 1, H, G) = d * (gate(hp, g, 0, H, 1) - n) * z * (1 - z);
            gate(ds, g, 2, H, G) = dn;
            T* dhh = step_of<T>(d_hh, t);
            gate(dhh, g, 0, 2 * H, G) = gate(static_cast<const T*>(ds), g, 0, 2 * H, G);
            gate(dhh, g, 2, H, G) = dn * r;
            d_direct = zeros({g.N, H}, opts);
            gate(d_direct.mutable_data<T>(), g, 0, H, 1) = d * z;  // through z⊙h
        } else if (kind == CellKind::rnn_tanh) {
            const auto h = gate(step_of<T>(tr.hs, t), g, 0, H, 1);
            gate(ds, g, 0, H, 1) = d * (1 - h * h);
        } else {
            const auto h = gate(step_of<T>(tr.hs, t), g, 0, H, 1);
            gate(ds, g, 0, H, 1) = (h > T(0)).select(d, T(0));
        }
        const Tensor d_step = d_hh.slice(0, t, t + 1).reshape({g.N, G * H});
        dh_next = matmul(d_step, weight_hh);
        if (gru) dh_next = dh_next + d_direct;
    }
    std::vector<Tensor> grads(6);
    grads[0] = d_gates;
    grads[1] = dh_next;
    if (lstm) grads[2] = dc_next;
    grads[3] = summed_outer(d_hh, previous_states<T>(tr.hs, in[1], g));
    if (in[4].numel() > 0) grads[4] = d_hh.reshape({-1, G * H}).sum(0);
    if (projected) grads[5] = summed_outer(d_h_all, tr.aux);
    return grads;
}

}  // namespace

Trace forward_steps(CellKind kind, const Tensor& gates_x, const LSTMState& start,
                    const ScanWeights& weights, const Geometry& g) {
    return gates_x.dtype() == Dtype::float64
               ? forward_typed<double>(kind, gates_x, start, weights, g)
               : forward_typed<float>(kind, gates_x, start, weights, g);
}

std::vector<Tensor> backward_steps(CellKind kind, const std::vector<Tensor>& inputs,
                                   const Trace& trace, const Tensor& d_hs, const Tensor& d_cs,
                                   const Geometry& g) {
    return d_hs.dtype() == Dtype::float64
               ? backward_typed<double>(kind, inputs, trace, d_hs, d_cs, g)
               : backward_typed<float>(kind, inputs, trace, d_hs, d_cs, g);
}

}  // namespace descent::nn::detail
