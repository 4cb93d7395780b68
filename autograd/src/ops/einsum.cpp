// einsum (torch.einsum), composed of differentiable ops:
//   a letter repeated within one operand: its diagonal, Σ_b x[.., a, .., b, ..] · I[a, b];
//   letters no later operand nor the output holds: summed away;
//   operands contracted left to right, each pair as one batched matmul
//     A [batch, left, contracted] · B [batch, contracted, right] → [batch, left, right];
//   finally a permute into the output's order.

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string>

#include "descent/ops.hpp"

namespace descent {
namespace {

/// A tensor whose dim d carries subscript letters[d].
struct Term {
    Tensor x;
    std::string letters;
};

struct Equation {
    std::vector<std::string> inputs;
    std::string output;
};

bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

void check_letters(const std::string& term, std::string_view equation) {
    for (const char c : term) {
        if (!is_letter(c)) {
            throw Error(fmt::format(
                "einsum: subscripts are letters a-z and A-Z, got '{}' in \"{}\"", c, equation));
        }
    }
}

Equation parse(std::string_view equation, std::size_t operand_count) {
    std::string eq;
    for (const char c : equation) {
        if (c != ' ') eq.push_back(c);
    }
    if (eq.find("...") != std::string::npos) {
        throw Error(fmt::format("einsum: \"...\" is not supported, in \"{}\"", equation));
    }
    const std::size_t arrow = eq.find("->");
    if (arrow != std::string::npos && eq.find("->", arrow + 2) != std::string::npos) {
        throw Error(fmt::format("einsum: more than one \"->\" in \"{}\"", equation));
    }
    Equation parsed;
    const std::string lhs = eq.substr(0, arrow);
    for (std::size_t start = 0;;) {
        const std::size_t comma = lhs.find(',', start);
        parsed.inputs.push_back(lhs.substr(start, comma - start));
        check_letters(parsed.inputs.back(), equation);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (parsed.inputs.size() != operand_count) {
        throw Error(fmt::format("einsum: \"{}\" names {} operands, got {}", equation,
                                parsed.inputs.size(), operand_count));
    }
    std::map<char, int> uses;
    for (const std::string& term : parsed.inputs) {
        for (const char c : term) ++uses[c];
    }
    if (arrow == std::string::npos) {  // implicit: the letters used once, alphabetically
        for (const auto& [c, n] : uses) {
            if (n == 1) parsed.output.push_back(c);
        }
        return parsed;
    }
    parsed.output = eq.substr(arrow + 2);
    check_letters(parsed.output, equation);
    for (std::size_t i = 0; i < parsed.output.size(); ++i) {
        const char c = parsed.output[i];
        if (parsed.output.find(c, i + 1) != std::string::npos) {
            throw Error(
                fmt::format("einsum: output subscript '{}' appears twice in \"{}\"", c, equation));
        }
        if (uses.count(c) == 0) {
            throw Error(fmt::format("einsum: output subscript '{}' is in no operand of \"{}\"", c,
                                    equation));
        }
    }
    return parsed;
}

/// The term with each letter repeated inside it reduced to its diagonal.
Term diagonal(Term t) {
    for (std::size_t a = 0; a < t.letters.size(); ++a) {
        std::size_t b = 0;
        while ((b = t.letters.find(t.letters[a], a + 1)) != std::string::npos) {
            const std::int64_t n = t.x.size(static_cast<std::int64_t>(a));
            Shape mask_shape(t.letters.size(), 1);  // I[a, b], broadcast over the other dims
            mask_shape[a] = mask_shape[b] = n;
            const Tensor identity = eye(n, {.dtype = t.x.dtype()}).reshape(mask_shape);
            t.x = sum(t.x * identity, static_cast<std::int64_t>(b));
            t.letters.erase(b, 1);
        }
    }
    return t;
}

/// The term with the dims whose letters are not in `kept` summed away.
Term sum_except(Term t, const std::string& kept) {
    Dims dims;
    std::string left;
    for (std::size_t d = 0; d < t.letters.size(); ++d) {
        if (kept.find(t.letters[d]) == std::string::npos) {
            dims.push_back(static_cast<std::int64_t>(d));
        } else {
            left.push_back(t.letters[d]);
        }
    }
    if (dims.empty()) return t;
    return {sum(t.x, dims), left};
}

/// Dims of t in the order of `letters`, and the product of their sizes.
std::pair<Dims, std::int64_t> dims_of(const Term& t, const std::string& letters) {
    Dims dims;
    std::int64_t size = 1;
    for (const char c : letters) {
        const auto d = static_cast<std::int64_t>(t.letters.find(c));
        dims.push_back(d);
        size *= t.x.size(d);
    }
    return {dims, size};
}

/// a and b contracted over the letters they share that `kept` does not hold.
Term contract(const Term& a, const Term& b, const std::string& kept) {
    std::string batch, left, contracted, right;
    for (const char c : a.letters) {
        const bool shared = b.letters.find(c) != std::string::npos;
        const bool needed = kept.find(c) != std::string::npos;
        (shared ? (needed ? batch : contracted) : left).push_back(c);
    }
    for (const char c : b.letters) {
        if (a.letters.find(c) == std::string::npos) right.push_back(c);
    }
    const auto [a_batch, n_batch] = dims_of(a, batch);
    const auto [a_left, n_left] = dims_of(a, left);
    const auto [a_sum, n_sum] = dims_of(a, contracted);
    const auto [b_batch, unused_batch] = dims_of(b, batch);
    const auto [b_sum, unused_sum] = dims_of(b, contracted);
    const auto [b_right, n_right] = dims_of(b, right);
    std::int64_t elements = 0;
    if (__builtin_mul_overflow(n_batch * n_left, n_right, &elements)) {
        throw ShapeError(fmt::format("einsum: the product of {} and {} is too large to hold",
                                     shape_str(a.x.shape()), shape_str(b.x.shape())));
    }
    Dims a_order = a_batch, b_order = b_batch;
    a_order.insert(a_order.end(), a_left.begin(), a_left.end());
    a_order.insert(a_order.end(), a_sum.begin(), a_sum.end());
    b_order.insert(b_order.end(), b_sum.begin(), b_sum.end());
    b_order.insert(b_order.end(), b_right.begin(), b_right.end());
    const Tensor a3 = permute(a.x, a_order).reshape({n_batch, n_left, n_sum});
    const Tensor b3 = permute(b.x, b_order).reshape({n_batch, n_sum, n_right});
    Shape shape;
    const std::string letters = batch + left + right;
    for (const char c : letters) {
        const std::size_t in_a = a.letters.find(c);
        shape.push_back(in_a != std::string::npos
                            ? a.x.size(static_cast<std::int64_t>(in_a))
                            : b.x.size(static_cast<std::int64_t>(b.letters.find(c))));
    }
    return {matmul(a3, b3).reshape(shape), letters};
}
}  // namespace

Tensor einsum(std::string_view equation, const std::vector<Tensor>& operands) {
    if (operands.empty()) throw Error("einsum: needs at least one operand");
    const Equation eq = parse(equation, operands.size());
    std::map<char, std::int64_t> sizes;
    std::vector<Term> terms;
    for (std::size_t i = 0; i < operands.size(); ++i) {
        const Tensor& x = operands[i];
        if (!x.defined()) throw Error(fmt::format("einsum: operand {} is undefined", i));
        const std::string& letters = eq.inputs[i];
        if (static_cast<std::int64_t>(letters.size()) != x.dim()) {
            throw ShapeError(fmt::format("einsum: operand {} has {} dims, its subscripts \"{}\" {}",
                                         i, x.dim(), letters, letters.size()));
        }
        for (std::size_t d = 0; d < letters.size(); ++d) {
            const std::int64_t n = x.size(static_cast<std::int64_t>(d));
            const auto [it, fresh] = sizes.emplace(letters[d], n);
            if (!fresh && it->second != n) {
                throw ShapeError(fmt::format("einsum: subscript '{}' has sizes {} and {} in \"{}\"",
                                             letters[d], it->second, n, equation));
            }
        }
        terms.push_back(diagonal({x, letters}));
    }
    // letters still needed after operand i: the output's and those of the operands after it
    std::vector<std::string> needed_after(terms.size(), eq.output);
    for (std::size_t i = terms.size() - 1; i > 0; --i) {
        needed_after[i - 1] = needed_after[i] + terms[i].letters;
    }
    Term acc = sum_except(terms[0], needed_after[0]);
    for (std::size_t i = 1; i < terms.size(); ++i) {
        const Term next = sum_except(terms[i], needed_after[i] + acc.letters);
        acc = contract(acc, next, needed_after[i]);  // holds only letters needed_after[i]
    }
    Dims order;
    for (const char c : eq.output) order.push_back(static_cast<std::int64_t>(acc.letters.find(c)));
    if (std::is_sorted(order.begin(), order.end())) return acc.x;
    return permute(acc.x, order);
}

}  // namespace descent
