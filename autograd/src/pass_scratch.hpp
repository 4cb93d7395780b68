#pragma once
// What one reverse pass needs besides the graph: a slot per node (the gradient summed so far,
// the parents still to run) in a flat hash table, and the pass's node lists. A thread keeps
// them between passes, so a training loop's backward allocates none of them.

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "node.hpp"

namespace descent {

/// What a pass keeps per node.
struct Slot {
    int pending_parents = 0;
    bool needed = true;
    bool capture = false;
    Tensor grad;  // the sum of the gradients arrived so far
};

/// Node → Slot for one pass: open addressing with linear probing in one array, grown to keep
/// it at most half full (std::unordered_map allocated every entry). The array outlives the
/// pass: an entry belongs to the current pass only if it carries the pass's number, so
/// clearing the table is one increment once the gradients still held are dropped.
class SlotTable {
  public:
    /// The node's slot, and whether it was just created.
    std::pair<Slot*, bool> try_emplace(Node* node) {
        if (2 * (size_ + 1) > entries_.size()) grow();
        Entry& e = probe(node);
        if (e.pass == pass_) return {&e.slot, false};
        e = Entry{node, pass_, Slot{}};
        ++size_;
        return {&e.slot, true};
    }
    /// The slot of a node of the pass, or nullptr.
    Slot* find(Node* node) {
        if (entries_.empty()) return nullptr;
        Entry& e = probe(node);
        return e.pass == pass_ ? &e.slot : nullptr;
    }
    const Slot* find(Node* node) const { return const_cast<SlotTable*>(this)->find(node); }
    /// The slot of a node known to be in the pass.
    Slot& at(Node* node) { return *find(node); }
    std::size_t size() const { return size_; }
    /// Ends the pass: drops the gradients still held and frees every entry, keeping the array
    /// only up to kKeptEntries (a large graph's table is not left to the thread). `nodes`
    /// lists the pass's nodes when the caller has them all, so that only their entries are
    /// visited.
    void clear(const std::vector<Node*>& nodes) {
        if (entries_.size() > kKeptEntries) {
            entries_ = {};
        } else if (nodes.size() == size_) {
            for (Node* node : nodes) at(node).grad = Tensor{};
        } else {
            for (Entry& e : entries_) e.slot.grad = Tensor{};
        }
        size_ = 0;
        if (++pass_ == 0) {  // after 2³² passes: no stale entry may carry the new number
            for (Entry& e : entries_) e.pass = 0;
            pass_ = 1;
        }
    }

  private:
    static constexpr std::size_t kKeptEntries = 4096;  // 2048 nodes, about 160 KB
    struct Entry {
        Node* node = nullptr;
        std::uint32_t pass = 0;  // the pass the entry belongs to (0: none)
        Slot slot;
    };
    /// The entry of this pass holding node, or the free one where it would go (Fibonacci
    /// hashing of the address, whose low bits are alignment).
    Entry& probe(Node* node) {
        const std::size_t mask = entries_.size() - 1;
        std::size_t i = (reinterpret_cast<std::uintptr_t>(node) >> 4) * 0x9E3779B97F4A7C15u;
        i = (i >> 20) & mask;
        while (entries_[i].pass == pass_ && entries_[i].node != node) i = (i + 1) & mask;
        return entries_[i];
    }
    void grow() {
        std::vector<Entry> old = std::move(entries_);
        entries_ = std::vector<Entry>(old.empty() ? 64 : 2 * old.size());
        for (Entry& e : old)
            if (e.pass == pass_) probe(e.node) = std::move(e);
    }
    std::vector<Entry> entries_;  // a power of two in size
    std::size_t size_ = 0;
    std::uint32_t pass_ = 1;
};

/// The arrays of one pass. A thread keeps the ones of its finished passes for the next; a
/// backward started inside another (from a hook or a custom function) takes a set of its own.
struct PassScratch {
    SlotTable slots;
    std::vector<Node*> order;  // the tape: every node after all the nodes that feed it
    std::vector<Node*> stack;
};

/// A PassScratch for the lifetime of one pass, given back emptied to the thread's spares.
class ScratchLease {
  public:
    ScratchLease() {
        if (spare().empty()) {
            scratch_ = std::make_unique<PassScratch>();
        } else {
            scratch_ = std::move(spare().back());
            spare().pop_back();
        }
    }
    ~ScratchLease() {
        scratch_->slots.clear(scratch_->order);
        empty_keeping_small(scratch_->order);
        empty_keeping_small(scratch_->stack);
        if (spare().size() < kSpares) spare().push_back(std::move(scratch_));  // reserved
    }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
    PassScratch& operator*() const { return *scratch_; }

  private:
    static constexpr std::size_t kSpares = 4;
    static constexpr std::size_t kKeptNodes = 2048;  // as the table's kKeptEntries / 2
    static void empty_keeping_small(std::vector<Node*>& v) {
        if (v.capacity() > kKeptNodes) {
            v = {};  // a large graph does not leave its lists to the thread
        } else {
            v.clear();
        }
    }
    static std::vector<std::unique_ptr<PassScratch>>& spare() {
        thread_local std::vector<std::unique_ptr<PassScratch>> sets = [] {
            std::vector<std::unique_ptr<PassScratch>> v;
            v.reserve(kSpares);
            return v;
        }();
        return sets;
    }
    std::unique_ptr<PassScratch> scratch_;
};

}  // namespace descent
