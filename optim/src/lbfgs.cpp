// L-BFGS (lbfgs.hpp), iteration for iteration as torch.optim.LBFGS 1.13.

#include "descent/optim/lbfgs.hpp"
#include "descent/eigen.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "descent/grad_mode.hpp"
#include "groups.hpp"
#include "line_search.hpp"
#include "options.hpp"

namespace descent::optim {

struct LBFGS::Memory {
    Eigen::VectorXd d;                      // the last direction
    double t = 0;                           // the last step size
    std::vector<Eigen::VectorXd> old_dirs;  // y_k = g_{k+1} − g_k
    std::vector<Eigen::VectorXd> old_stps;  // s_k = t·d
    std::vector<double> ro;                 // 1/(yᵀs)
    double h_diag = 1;                      // H₀ = (sᵀy/yᵀy)·I
    Eigen::VectorXd prev_flat_grad;
    double prev_loss = 0;
    std::vector<const TensorImpl*> params;  // the parameters the vectors are of, in order
};

namespace {
constexpr std::string_view kPrefix = "lbfgs.";

Tensor vector_tensor(const Eigen::VectorXd& v) {
    Tensor t = zeros({v.size()}, {.dtype = Dtype::float64});
    if (v.size() > 0) t.mutable_map<double>() = v.array();
    return t;
}

Eigen::VectorXd tensor_vector(const Tensor& t) {
    return t.map<double>().matrix();
}

/// The parameters of the one group as one vector: reading, adding to, restoring.
class Flat {
  public:
    explicit Flat(std::vector<Tensor>& params) : params_(params) {}

    Eigen::Index size() const {
        Eigen::Index n = 0;
        for (const auto& p : params_) n += p.numel();
        return n;
    }
    /// Every gradient in order, zeros for a parameter without one.
    Eigen::VectorXd gradient() const {
        Eigen::VectorXd g = Eigen::VectorXd::Zero(size());
        Eigen::Index at = 0;
        for (const auto& p : params_) {
            const Tensor grad = p.grad();
            if (grad.defined()) g.segment(at, p.numel()) = tensor_vector(grad.to(Dtype::float64));
            at += p.numel();
        }
        return g;
    }
    /// θ ← θ + t·d
    void add(double t, const Eigen::VectorXd& d) {
        const NoGradGuard no_grad;
        Eigen::Index at = 0;
        for (auto& p : params_) {
            const Eigen::VectorXd part = d.segment(at, p.numel()) * t;
            p.add_(vector_tensor(part).to(p.dtype()).reshape(p.shape()));
            at += p.numel();
        }
    }
    std::vector<Tensor> copy() const {
        std::vector<Tensor> x;
        for (const auto& p : params_) x.push_back(p.detach().clone());
        return x;
    }
    /// The parameters copy() was taken of get its values back.
    void restore(const std::vector<Tensor>& x) {
        const NoGradGuard no_grad;
        for (std::size_t i = 0; i < params_.size() && i < x.size(); ++i) params_[i].copy_(x[i]);
    }
    std::vector<const TensorImpl*> identities() const {
        std::vector<const TensorImpl*> ids;
        for (const auto& p : params_) ids.push_back(p.impl().get());
        return ids;
    }

  private:
    std::vector<Tensor>& params_;
};

}  // namespace

template <class F>
void visit_fields(LBFGSOptions& o, F&& f) {
    f("lr", o.lr);
    f("max_iter", o.max_iter);
    f("max_eval", o.max_eval);
    f("tolerance_grad", o.tolerance_grad);
    f("tolerance_change", o.tolerance_change);
    f("history_size", o.history_size);
    f("strong_wolfe", o.line_search);
}

Hyperparameters hyperparameters(const LBFGSOptions& o) {
    check_count(o.max_iter, 1, "LBFGS", "max_iter");  // before max_eval is derived from it
    LBFGSOptions resolved = o;
    resolved.max_eval = o.max_eval.value_or(o.max_iter * 5 / 4);
    return detail::to_hyperparameters(resolved);
}

LBFGS::LBFGS(std::vector<Tensor> params, LBFGSOptions options)
    : TypedOptimizer("LBFGS", std::move(params), options, {}),
      memory_(std::make_shared<Memory>()) {}

void LBFGS::add_param_group(std::vector<Tensor>, LBFGSOptions) {
    throw Error("LBFGS: one parameter group only (as torch.optim.LBFGS)");
}

Tensor LBFGS::step(const Closure& closure) {
    if (!closure) {
        throw Error("LBFGS: step needs a closure that recomputes the loss: step(closure)");
    }
    groups().prepare_step();
    ParamGroup& group = param_groups().front();
    const auto o = detail::read_options<LBFGSOptions>(group.options);
    const double lr = o.lr, tolerance_grad = o.tolerance_grad;
    const double tolerance_change = o.tolerance_change;
    const std::int64_t max_iter = o.max_iter, max_eval = *o.max_eval;
    const auto history_size = static_cast<std::size_t>(o.history_size);
    const bool strong_wolfe = o.line_search == LineSearch::strong_wolfe;
    Flat flat(group.params);
    const Eigen::Index n = flat.size();
    const std::vector<const TensorImpl*> ids = flat.identities();
    Memory& m = *memory_;
    if (n == 0) throw Error("LBFGS: the parameters hold no elements");
    if (n_iter_ > 0 && m.params != ids) {
        throw Error(fmt::format(
            "LBFGS: the parameters changed since the last step ({} tensors, now {}; {} elements, "
            "now {}): its history is of the old ones; make a new LBFGS for the new parameters",
            m.params.size(), ids.size(), m.d.size(), n));
    }
    m.params = ids;
    const auto evaluate = [&] {  // the loss, after the closure's backward, and the gradient
        const GradModeGuard grad_mode(true);
        const Tensor loss = closure();
        if (!loss.defined() || loss.numel() != 1) {
            throw Error("LBFGS: the closure must return the loss, a one-element tensor");
        }
        if (flat.identities() != ids) {
            throw Error(
                "LBFGS: the closure changed the parameters: L-BFGS works on one fixed "
                "set of parameters");
        }
        groups().prepare_step();
        if (!std::isfinite(loss.item())) {
            throw Error(fmt::format("LBFGS: the closure's loss is {}", loss.item()));
        }
        Eigen::VectorXd g = flat.gradient();
        if (!g.allFinite()) {
            Eigen::Index at = 0;
            while (std::isfinite(g[at])) ++at;
            throw Error(fmt::format("LBFGS: element {} of the gradient is {}", at, g[at]));
        }
        return std::pair(loss, std::move(g));
    };

    auto [orig_loss, flat_grad] = evaluate();
    double loss = orig_loss.item();
    std::int64_t current_evals = 1;
    ++func_evals_;
    if (flat_grad.cwiseAbs().maxCoeff() <= tolerance_grad) return orig_loss;  // optimal already

    for (std::int64_t n_iter = 1;; ++n_iter) {
        ++n_iter_;
        if (n_iter_ == 1) {  // the first direction: steepest descent
            m.d = -flat_grad;
            m.old_dirs.clear();
            m.old_stps.clear();
            m.ro.clear();
            m.h_diag = 1;
        } else {
            const Eigen::VectorXd y = flat_grad - m.prev_flat_grad, s = m.d * m.t;
            const double ys = y.dot(s);
            if (ys > 1e-10) {  // keep the pair only where the curvature condition holds
                if (m.old_dirs.size() == history_size) {
                    m.old_dirs.erase(m.old_dirs.begin());
                    m.old_stps.erase(m.old_stps.begin());
                    m.ro.erase(m.ro.begin());
                }
                m.old_dirs.push_back(y);
                m.old_stps.push_back(s);
                m.ro.push_back(1.0 / ys);
                m.h_diag = ys / y.dot(y);
            }
            // two-loop recursion: d = −H·g
            const std::size_t k = m.old_dirs.size();
            std::vector<double> al(k);
            Eigen::VectorXd q = -flat_grad;
            for (std::size_t i = k; i-- > 0;) {
                al[i] = m.old_stps[i].dot(q) * m.ro[i];
                q -= al[i] * m.old_dirs[i];
            }
            m.d = q * m.h_diag;
            for (std::size_t i = 0; i < k; ++i) {
                const double be_i = m.old_dirs[i].dot(m.d) * m.ro[i];
                m.d += (al[i] - be_i) * m.old_stps[i];
            }
        }
        m.prev_flat_grad = flat_grad;
        m.prev_loss = loss;
        m.t = n_iter_ == 1 ? std::min(1.0, 1.0 / flat_grad.cwiseAbs().sum()) * lr : lr;
        const double gtd = flat_grad.dot(m.d);  // the directional derivative
        if (gtd > -tolerance_change) break;

        std::int64_t ls_evals = 0;
        bool optimal = false;
        if (strong_wolfe) {
            const std::vector<Tensor> x_init = flat.copy();
            const detail::Directional phi = [&](double t) {
                flat.add(t, m.d);
                try {
                    auto [f, g] = evaluate();
                    flat.restore(x_init);
                    return std::pair(f.item(), std::move(g));
                } catch (...) {  // the parameters back at the last accepted point
                    flat.restore(x_init);
                    throw;
                }
            };
            auto found = detail::strong_wolfe(phi, m.t, m.d, loss, flat_grad, gtd);
            loss = found.f;
            flat_grad = std::move(found.g);
            m.t = found.t;
            ls_evals = found.evaluations;
            flat.add(m.t, m.d);
            optimal = flat_grad.cwiseAbs().maxCoeff() <= tolerance_grad;
        } else {
            flat.add(m.t, m.d);
            if (n_iter != max_iter) {  // re-evaluate unless this was the last iteration
                auto [f, g] = evaluate();
                loss = f.item();
                flat_grad = std::move(g);
                optimal = flat_grad.cwiseAbs().maxCoeff() <= tolerance_grad;
                ls_evals = 1;
            }
        }
        current_evals += ls_evals;
        func_evals_ += ls_evals;
        if (n_iter == max_iter || current_evals >= max_eval || optimal) break;
        if ((m.d * m.t).cwiseAbs().maxCoeff() <= tolerance_change) break;  // no step left
        if (std::abs(loss - m.prev_loss) < tolerance_change) break;        // no progress
    }
    return orig_loss;
}

void LBFGS::save_extra(StateDict& out) const {
    const Memory& m = *memory_;
    const std::string p(kPrefix);
    const auto real = [](double v) { return scalar_tensor(v, {.dtype = Dtype::float64}); };
    out.emplace_back(p + "func_evals", int_tensor({func_evals_}, {}));
    out.emplace_back(p + "n_iter", int_tensor({n_iter_}, {}));
    out.emplace_back(p + "d", vector_tensor(m.d));
    out.emplace_back(p + "t", real(m.t));
    out.emplace_back(p + "h_diag", real(m.h_diag));
    out.emplace_back(p + "prev_flat_grad", vector_tensor(m.prev_flat_grad));
    out.emplace_back(p + "prev_loss", real(m.prev_loss));
    out.emplace_back(p + "history", int_tensor({static_cast<std::int64_t>(m.ro.size())}, {}));
    for (std::size_t i = 0; i < m.ro.size(); ++i) {
        out.emplace_back(fmt::format("{}old_dirs.{}", p, i), vector_tensor(m.old_dirs[i]));
        out.emplace_back(fmt::format("{}old_stps.{}", p, i), vector_tensor(m.old_stps[i]));
        out.emplace_back(fmt::format("{}ro.{}", p, i), real(m.ro[i]));
    }
}

StagedLoad LBFGS::stage_extra(StateReader& in) {
    const std::string p(kPrefix);
    const Eigen::Index n = Flat(param_groups().front().params).size();
    const std::int64_t func_evals = in.count(p + "func_evals");
    const std::int64_t n_iter = in.count(p + "n_iter");
    const Shape flat{n_iter > 0 ? n : 0};  // no vectors before the first step
    const auto vector = [&](const std::string& key, const Shape& shape) {
        return tensor_vector(in.floats(key, shape, Dtype::float64));
    };
    auto memory = std::make_shared<Memory>();
    memory->d = vector(p + "d", flat);
    memory->t = in.real(p + "t");
    memory->h_diag = in.real(p + "h_diag", above(0));  // sᵀy/yᵀy, kept only where sᵀy > 0
    memory->prev_flat_grad = vector(p + "prev_flat_grad", flat);
    memory->prev_loss = in.real(p + "prev_loss");
    // the history size the loaded group will have
    const std::int64_t history_size =
        checked_int64(in.real("param_groups.0.history_size", at_least(1)), in.op(), "history_size");
    const std::int64_t history = in.count(p + "history", 0, n_iter > 0 ? history_size : 0);
    for (std::int64_t i = 0; i < history; ++i) {
        memory->old_dirs.push_back(vector(fmt::format("{}old_dirs.{}", p, i), {n}));
        memory->old_stps.push_back(vector(fmt::format("{}old_stps.{}", p, i), {n}));
        memory->ro.push_back(in.real(fmt::format("{}ro.{}", p, i), above(0)));  // 1/(yᵀs)
    }
    memory->params = Flat(param_groups().front().params).identities();
    return [this, func_evals, n_iter, memory = std::move(memory)] {
        func_evals_ = func_evals;
        n_iter_ = n_iter;
        memory_ = memory;
    };
}

}  // namespace descent::optim
