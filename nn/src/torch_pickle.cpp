// The restricted unpickler (torch_pickle.hpp). Values live in one arena and refer to each other
// by index, so a structure that holds itself (a memo reference appended to its own list) can
// neither leak nor make anything recurse; no code here recurses over values at all. The memo,
// the stack and the MARK nesting are bounded, and each opcode adds at most one value, so memory
// stays linear in the pickle's size. What torch's weights_only=True unpickler would also allow
// beyond a state_dict (sets, byte strings, more torch types) is refused here.

#include "torch_pickle.hpp"

#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "descent/error.hpp"

namespace descent::nn::torch_pickle {
namespace {

constexpr std::size_t kMaxStack = 1 << 20, kMaxMarks = 1000, kMaxMemo = 1 << 21,
                      kMaxValues = 1 << 21;

enum class Kind : std::uint8_t {
    none,
    boolean,
    integer,
    floating,
    string,
    tuple,
    list,
    dict,
    global,
    storage,
    tensor
};

enum class Global : std::uint8_t { ordered_dict, rebuild_tensor, rebuild_parameter, storage_type };

struct Value {
    Kind kind = Kind::none;
    std::int64_t integer = 0;               // integer, boolean; the index of a storage or tensor
    Global global{};                        // global
    FileDtype dtype{};                      // global storage_type
    std::string text = {};                  // string; a global's "module.name"
    std::vector<std::uint32_t> items = {};  // tuple, list; dict keys and values alternating
};

/// A name from the file as messages show it: quoted, escaped, cut at 120 bytes.
std::string quote_text(std::string_view s) {
    return s.size() > 120 ? fmt::format("{:?}...", s.substr(0, 120)) : fmt::format("{:?}", s);
}

std::string_view kind_name(Kind k) {
    constexpr std::string_view names[] = {"None", "bool", "int",    "float",   "str",   "tuple",
                                          "list", "dict", "global", "storage", "tensor"};
    return names[static_cast<int>(k)];
}

struct AllowedGlobal {
    std::string_view name;
    Global global;
    FileDtype dtype;
};
constexpr AllowedGlobal kAllowed[] = {
    {"collections.OrderedDict", Global::ordered_dict, FileDtype::f32},
    {"torch._utils._rebuild_tensor_v2", Global::rebuild_tensor, FileDtype::f32},
    {"torch._utils._rebuild_parameter", Global::rebuild_parameter, FileDtype::f32},
    {"torch.FloatStorage", Global::storage_type, FileDtype::f32},
    {"torch.DoubleStorage", Global::storage_type, FileDtype::f64},
    {"torch.HalfStorage", Global::storage_type, FileDtype::f16},
    {"torch.BFloat16Storage", Global::storage_type, FileDtype::bf16},
    {"torch.LongStorage", Global::storage_type, FileDtype::i64},
    {"torch.IntStorage", Global::storage_type, FileDtype::i32},
    {"torch.ShortStorage", Global::storage_type, FileDtype::i16},
    {"torch.CharStorage", Global::storage_type, FileDtype::i8},
    {"torch.ByteStorage", Global::storage_type, FileDtype::u8},
    {"torch.BoolStorage", Global::storage_type, FileDtype::boolean},
};

class Unpickler {
  public:
    Unpickler(std::string_view pickle, std::string_view source) : in_(pickle), source_(source) {}

    std::vector<std::pair<std::string, TensorView>> run() {
        while (true) {
            if (pos_ >= in_.size()) fail("the pickle ends without STOP");
            const std::size_t at = pos_;
            const auto op = static_cast<unsigned char>(in_[pos_++]);
            if (op == '.') break;
            step(op, at);
        }
        if (stack_.size() != 1 || !marks_.empty()) {
            fail("STOP leaves {} values on the stack and {} marks", stack_.size(), marks_.size());
        }
        return state_dict(stack_.back());
    }

  private:
    template <class... Args>
    [[noreturn]] void fail(fmt::format_string<Args...> what, Args&&... args) const {
        throw FormatError(fmt::format("{}: data.pkl: {}", source_,
                                      fmt::format(what, std::forward<Args>(args)...)));
    }

    std::string_view take(std::uint64_t n) {
        if (n > in_.size() - pos_) fail("the pickle ends inside an opcode at byte {}", pos_);
        const std::string_view out = in_.substr(pos_, n);
        pos_ += n;
        return out;
    }
    std::uint64_t uint_le(int n) {
        const std::string_view b = take(static_cast<std::uint64_t>(n));
        std::uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= std::uint64_t{static_cast<unsigned char>(b[i])} << (8 * i);
        return v;
    }
    std::string_view line() {
        const std::size_t end = in_.find('\n', pos_);
        if (end == std::string_view::npos || end - pos_ > 256) fail("a GLOBAL line is malformed");
        const std::string_view out = in_.substr(pos_, end - pos_);
        pos_ = end + 1;
        return out;
    }

    std::uint32_t add(Value v) {
        if (values_.size() >= kMaxValues) fail("more than {} values", kMaxValues);
        values_.push_back(std::move(v));
        return static_cast<std::uint32_t>(values_.size() - 1);
    }
    void push(std::uint32_t id) {
        if (stack_.size() >= kMaxStack) fail("the stack grows beyond {} values", kMaxStack);
        stack_.push_back(id);
    }
    void push(Value v) { push(add(std::move(v))); }
    std::uint32_t pop() {
        if (stack_.size() <= base()) fail("pops from an empty stack at byte {}", pos_ - 1);
        const std::uint32_t id = stack_.back();
        stack_.pop_back();
        return id;
    }
    std::size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
    /// The values above the top mark, which is removed.
    std::vector<std::uint32_t> pop_mark() {
        if (marks_.empty()) fail("an opcode at byte {} needs a MARK and there is none", pos_ - 1);
        std::vector<std::uint32_t> out(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()),
                                       stack_.end());
        stack_.resize(marks_.back());
        marks_.pop_back();
        return out;
    }
    Value& top(Kind kind, std::string_view op) {
        if (stack_.size() <= base()) fail("{} on an empty stack", op);
        Value& v = values_[stack_.back()];
        if (v.kind != kind) fail("{} on a {}, not a {}", op, kind_name(v.kind), kind_name(kind));
        return v;
    }
    void extend(Kind kind, std::string_view op, const std::vector<std::uint32_t>& items) {
        const std::uint32_t target = stack_.empty() ? 0 : stack_.back();
        for (const std::uint32_t item : items) {
            if (item == target) fail("{} puts a {} into itself", op, kind_name(kind));
        }
        Value& v = top(kind, op);
        v.items.insert(v.items.end(), items.begin(), items.end());
    }
    void memo_put(std::uint64_t index) {
        if (stack_.size() <= base()) fail("a memo put on an empty stack");
        if (memo_.size() >= kMaxMemo && !memo_.contains(index)) {
            fail("the memo grows beyond {} entries", kMaxMemo);
        }
        memo_[index] = stack_.back();
    }
    void memo_get(std::uint64_t index) {
        const auto it = memo_.find(index);
        if (it == memo_.end()) fail("memo entry {} is read but was never written", index);
        push(it->second);
    }
    void tuple(std::vector<std::uint32_t> items) {
        push(Value{.kind = Kind::tuple, .items = std::move(items)});
    }
    void global(std::string_view module, std::string_view name) {
        const std::string full = fmt::format("{}.{}", module, name);
        for (const AllowedGlobal& g : kAllowed) {
            if (g.name == full) {
                push(Value{
                    .kind = Kind::global, .global = g.global, .dtype = g.dtype, .text = full});
                return;
            }
        }
        fail(
            "refuses the global {}: a state_dict holds only OrderedDicts, tensors and typed "
            "storages",
            quote_text(full));
    }
    std::string_view string_of(std::uint32_t id, std::string_view what) const {
        const Value& v = values_[id];
        if (v.kind != Kind::string) fail("{} is a {}, not a str", what, kind_name(v.kind));
        return v.text;
    }
    std::int64_t int_of(std::uint32_t id, std::string_view what) const {
        const Value& v = values_[id];
        if (v.kind != Kind::integer) fail("{} is a {}, not an int", what, kind_name(v.kind));
        return v.integer;
    }
    const Value& tuple_of(std::uint32_t id, std::size_t lo, std::size_t hi,
                          std::string_view what) const {
        const Value& v = values_[id];
        if (v.kind != Kind::tuple || v.items.size() < lo || v.items.size() > hi) {
            fail("{} is a {} of {} items, not a tuple of {} to {}", what, kind_name(v.kind),
                 v.items.size(), lo, hi);
        }
        return v;
    }

    void step(unsigned char op, std::size_t at);
    void reduce();
    void persistent_id();
    Value rebuild_tensor(const Value& args);
    std::vector<std::pair<std::string, TensorView>> state_dict(std::uint32_t root) const;

    std::string_view in_;
    std::string_view source_;
    std::size_t pos_ = 0;
    std::vector<Value> values_;
    std::vector<std::uint32_t> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, std::uint32_t> memo_;
    std::vector<Storage> storages_;
    std::vector<TensorView> tensors_;
};

void Unpickler::step(unsigned char op, std::size_t at) {
    switch (op) {
        case 0x80: {  // PROTO
            const auto version = uint_le(1);
            if (version < 2 || version > 5) fail("pickle protocol {} (expected 2 to 5)", version);
            return;
        }
        case 0x95:  // FRAME: a length hint only
            uint_le(8);
            return;
        case '(':  // MARK
            if (marks_.size() >= kMaxMarks) fail("MARKs nest deeper than {}", kMaxMarks);
            marks_.push_back(stack_.size());
            return;
        case '}':  // EMPTY_DICT
            return push(Value{.kind = Kind::dict});
        case ']':  // EMPTY_LIST
            return push(Value{.kind = Kind::list});
        case ')':  // EMPTY_TUPLE
            return tuple({});
        case 't':  // TUPLE
            return tuple(pop_mark());
        case 0x85:    // TUPLE1
        case 0x86:    // TUPLE2
        case 0x87: {  // TUPLE3
            std::vector<std::uint32_t> items(op - 0x84);
            for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
            return tuple(std::move(items));
        }
        case 'N':  // NONE
            return push(Value{.kind = Kind::none});
        case 0x88:  // NEWTRUE
        case 0x89:  // NEWFALSE
            return push(Value{.kind = Kind::boolean, .integer = op == 0x88});
        case 'J':  // BININT
            return push(
                Value{.kind = Kind::integer, .integer = static_cast<std::int32_t>(uint_le(4))});
        case 'K':  // BININT1
            return push(Value{.kind = Kind::integer, .integer = std::int64_t(uint_le(1))});
        case 'M':  // BININT2
            return push(Value{.kind = Kind::integer, .integer = std::int64_t(uint_le(2))});
        case 0x8a: {  // LONG1
            const auto n = static_cast<int>(uint_le(1));
            if (n > 8) fail("an integer of {} bytes does not fit in int64", n);
            std::uint64_t v = uint_le(n);
            if (n > 0 && n < 8 && (v >> (8 * n - 1)) != 0) v |= ~std::uint64_t{0} << (8 * n);
            return push(Value{.kind = Kind::integer, .integer = static_cast<std::int64_t>(v)});
        }
        case 'G':  // BINFLOAT: no float is ever read from a state_dict, so its value is not kept
            take(8);
            return push(Value{.kind = Kind::floating});
        case 'X':     // BINUNICODE
        case 0x8c:    // SHORT_BINUNICODE
        case 0x8d: {  // BINUNICODE8
            const std::uint64_t n = uint_le(op == 'X' ? 4 : op == 0x8c ? 1 : 8);
            return push(Value{.kind = Kind::string, .text = std::string(take(n))});
        }
        case 'q':  // BINPUT
            return memo_put(uint_le(1));
        case 'r':  // LONG_BINPUT
            return memo_put(uint_le(4));
        case 0x94:  // MEMOIZE
            return memo_put(memo_.size());
        case 'h':  // BINGET
            return memo_get(uint_le(1));
        case 'j':  // LONG_BINGET
            return memo_get(uint_le(4));
        case 'c': {  // GLOBAL
            const std::string module(line());
            return global(module, line());
        }
        case 0x93: {  // STACK_GLOBAL
            const std::string name(string_of(pop(), "the STACK_GLOBAL name"));
            return global(string_of(pop(), "the STACK_GLOBAL module"), name);
        }
        case 'R':  // REDUCE
            return reduce();
        case 'Q':  // BINPERSID
            return persistent_id();
        case 'b': {  // BUILD: the state of an OrderedDict (torch's _metadata), ignored
            const Value& state = values_[pop()];
            if (state.kind != Kind::dict && state.kind != Kind::none) {
                fail("BUILD with a {} state", kind_name(state.kind));
            }
            top(Kind::dict, "BUILD");
            return;
        }
        case 's': {  // SETITEM
            const std::uint32_t value = pop(), key = pop();
            return extend(Kind::dict, "SETITEM", {key, value});
        }
        case 'u': {  // SETITEMS
            const std::vector<std::uint32_t> items = pop_mark();
            if (items.size() % 2 != 0) fail("SETITEMS with an odd number of values");
            return extend(Kind::dict, "SETITEMS", items);
        }
        case 'a':  // APPEND
            return extend(Kind::list, "APPEND", {pop()});
        case 'e':  // APPENDS
            return extend(Kind::list, "APPENDS", pop_mark());
        default:
            fail("opcode 0x{:02x} at byte {} is not one a state_dict uses", op, at);
    }
}

void Unpickler::reduce() {
    const std::uint32_t args_id = pop(), callable_id = pop();
    const Value& callable = values_[callable_id];
    if (callable.kind != Kind::global) fail("REDUCE calls a {}", kind_name(callable.kind));
    const Value& args = tuple_of(args_id, 0, 7, fmt::format("the arguments of {}", callable.text));
    switch (callable.global) {
        case Global::ordered_dict:
            if (!args.items.empty()) fail("collections.OrderedDict is called with arguments");
            return push(Value{.kind = Kind::dict});
        case Global::rebuild_tensor:
            return push(rebuild_tensor(args));
        case Global::rebuild_parameter: {
            const Value& a = tuple_of(args_id, 3, 3, "the arguments of _rebuild_parameter");
            if (values_[a.items[0]].kind != Kind::tensor) {
                fail("_rebuild_parameter of a {}", kind_name(values_[a.items[0]].kind));
            }
            return push(a.items[0]);
        }
        case Global::storage_type:
            break;
    }
    fail("REDUCE calls {}, which is not callable here", callable.text);
}

void Unpickler::persistent_id() {
    const Value& pid = tuple_of(pop(), 5, 5, "a persistent id");
    if (string_of(pid.items[0], "a persistent id's tag") != "storage") {
        fail("a persistent id is not a storage");
    }
    const Value& type = values_[pid.items[1]];
    if (type.kind != Kind::global || type.global != Global::storage_type) {
        fail("a persistent id's storage type is a {}", kind_name(type.kind));
    }
    Storage s{.key = std::string(string_of(pid.items[2], "a storage key")),
              .dtype = type.dtype,
              .numel = int_of(pid.items[4], "a storage's element count")};
    string_of(pid.items[3], "a storage location");
    if (s.numel < 0) fail("storage {} has {} elements", quote_text(s.key), s.numel);
    storages_.push_back(std::move(s));
    push(Value{.kind = Kind::storage, .integer = std::int64_t(storages_.size() - 1)});
}

Value Unpickler::rebuild_tensor(const Value& args) {
    if (args.items.size() < 6) fail("_rebuild_tensor_v2 with {} arguments", args.items.size());
    const Value& storage = values_[args.items[0]];
    if (storage.kind != Kind::storage) fail("_rebuild_tensor_v2 of a {}", kind_name(storage.kind));
    TensorView t{.storage = storages_[static_cast<std::size_t>(storage.integer)],
                 .offset = int_of(args.items[1], "a storage offset")};
    const Value& size = tuple_of(args.items[2], 0, 64, "a tensor's size");
    const Value& stride =
        tuple_of(args.items[3], size.items.size(), size.items.size(), "a tensor's stride");
    if (values_[args.items[4]].kind != Kind::boolean) fail("requires_grad is not a bool");
    if (values_[args.items[5]].kind != Kind::dict) fail("backward_hooks is not a dict");
    const std::string key = quote_text(t.storage.key);
    // The last element's index: offset + Σ (size_i − 1) · stride_i, without overflow.
    std::int64_t last = t.offset, numel = 1;
    bool empty = false;
    for (std::size_t i = 0; i < size.items.size(); ++i) {
        const std::int64_t n = int_of(size.items[i], "a size"),
                           s = int_of(stride.items[i], "a stride");
        if (n < 0 || s < 0) fail("tensor of storage {}: size {} or stride {} < 0", key, n, s);
        t.size.push_back(n);
        t.stride.push_back(s);
        empty = empty || n == 0;
        std::int64_t reach = 0;
        if ((n > 0 && __builtin_mul_overflow(n - 1, s, &reach)) ||
            __builtin_add_overflow(last, reach, &last) ||
            __builtin_mul_overflow(numel, n, &numel)) {
            fail("tensor of storage {}: its size and strides overflow int64", key);
        }
    }
    if (t.offset < 0) fail("tensor of storage {}: offset {} < 0", key, t.offset);
    if (!empty && last >= t.storage.numel) {
        fail("tensor of storage {} reaches element {}, beyond its {} elements", key, last,
             t.storage.numel);
    }
    tensors_.push_back(std::move(t));
    return Value{.kind = Kind::tensor, .integer = std::int64_t(tensors_.size() - 1)};
}

std::vector<std::pair<std::string, TensorView>> Unpickler::state_dict(std::uint32_t root) const {
    const Value& dict = values_[root];
    if (dict.kind != Kind::dict) {
        fail("the pickle holds a {}, not a state_dict (a dict of tensors)", kind_name(dict.kind));
    }
    std::vector<std::pair<std::string, TensorView>> out;
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < dict.items.size(); i += 2) {
        const std::string_view name = string_of(dict.items[i], "a state_dict key");
        const Value& v = values_[dict.items[i + 1]];
        if (v.kind != Kind::tensor)
            fail("state_dict entry {} is a {}", quote_text(name), kind_name(v.kind));
        if (!seen.insert(name).second) fail("state_dict key {} appears twice", quote_text(name));
        out.emplace_back(name, tensors_[static_cast<std::size_t>(v.integer)]);
    }
    return out;
}

}  // namespace

std::vector<std::pair<std::string, TensorView>> unpickle_state_dict(std::string_view pickle,
                                                                    std::string_view source) {
    return Unpickler(pickle, source).run();
}

}  // namespace descent::nn::torch_pickle
