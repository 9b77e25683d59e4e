// TimerQueue: the loop's timers. A binary min-heap ordered by (deadline, sequence number), so equal
// deadlines fire in the order they were added. Cancellation frees the node and leaves its heap entry
// stale (detected by generation); stale entries at the top leave at once (O(log n) each), the others are
// compacted away when they outnumber the live ones, so add+cancel churn does not grow the heap.
//
// Relative timers (add_after, IOLoop::call_later) read no clock when added: they wait in a list until the
// loop next reads its clock (run_due / next_deadline, at most once or twice per iteration), which gives
// them the deadline `that time + delay`. That time is no earlier than the call, so a timer never fires
// before its delay has passed (it may fire later by the rest of the iteration, as every timer may), and a
// timeout added and cancelled within one iteration (the common case: a reply arrived) costs no clock read
// and no heap operation: its node remembers its place in the list, and cancelling moves the list's last
// entry there (O(1), no stale entry; the sequence number, not the list order, orders equal deadlines).
// Clock reads are what costs most on a VM whose TSC reads trap (~0.2-0.4 us here).
//
// Nodes are recycled through a free list, and the callback is moved once, into its node: steady-state
// add+cancel allocates nothing and makes no indirect call but the callback's own move and destruction.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "squall/coro/function.hpp"

namespace squall {

// The loop's clock (monotonic) and its time types: IOLoop::time(), deadlines and delays use them.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Identifies a pending timeout; stale handles are harmless (remove_timeout returns false).
struct TimeoutHandle {
    // The timer's slot and the slot's generation when it was added (internal to TimerQueue).
    std::uint32_t index = UINT32_MAX;
    std::uint32_t generation = 0;
    // False for a default-constructed handle (no timer was ever added).
    explicit operator bool() const noexcept { return index != UINT32_MAX; }
};

// The timer heap behind IOLoop::call_at / call_later (see the file comment). One thread.
class TimerQueue {
public:
    // Fires at `deadline` (the first run_due with now >= deadline).
    TimeoutHandle add(TimePoint deadline, Callback&& cb);
    // Fires `delay` after the next clock reading given to run_due / next_deadline (see above).
    TimeoutHandle add_after(Duration delay, Callback&& cb) {
        if (relative_.size() == relative_.capacity()) relative_.reserve(relative_.size() * 2 + 16);
        const std::uint32_t index = new_node(std::move(cb));  // nothing below throws
        Node& n = nodes_[index];
        n.where = Where::relative;
        n.position = static_cast<std::uint32_t>(relative_.size());
        relative_.push_back(Relative{delay, next_seq_++, index});
        return TimeoutHandle{index, n.generation};
    }
    // Removes a pending timer; false when it already ran or was removed (the handle is stale).
    bool cancel(TimeoutHandle h) noexcept {
        if (h.index >= nodes_.size()) return false;
        Node& n = nodes_[h.index];
        if (n.generation != h.generation || n.where == Where::free) return false;
        const bool in_heap = n.where == Where::heap;
        if (!in_heap) {
            // Fill its place with the list's last entry; the last one (add then cancel) just leaves
            // (copying the entry just written onto itself would stall on store forwarding).
            if (n.position + 1 != relative_.size()) {
                const Relative& last = relative_.back();
                nodes_[last.index].position = n.position;
                relative_[n.position] = last;
            }
            relative_.pop_back();
        }
        // Destroyed last, once the queue is consistent: its destructor may add or cancel timers.
        Callback dead = std::move(n.cb);
        free_node(h.index);
        if (in_heap) drop_stale_entries();
        return true;
    }

    // Pending timers.
    std::size_t size() const noexcept { return live_; }
    bool empty() const noexcept { return live_ == 0; }
    // `now`: the current time (it settles the relative timers added since the last reading).
    std::optional<TimePoint> next_deadline(TimePoint now);

    // Runs the timers due at `now` that existed when the call began (a timer added by a callback for
    // `now` runs on the next call). Returns how many ran.
    std::size_t run_due(TimePoint now);

private:
    // Where a node's timer waits. A freed node's generation has moved on, so its handles and heap
    // entries are stale.
    enum class Where : std::uint8_t { free, relative, heap };
    struct Node {
        Callback cb;
        std::uint32_t generation = 0;
        std::uint32_t position = 0;  // its entry's index in relative_ (Where::relative only)
        Where where = Where::free;
    };
    struct Entry {
        TimePoint deadline;
        std::uint64_t seq;
        std::uint32_t index;
        std::uint32_t generation;
    };
    struct Relative {
        Duration delay;
        std::uint64_t seq;
        std::uint32_t index;
    };
    static bool later(const Entry& a, const Entry& b) noexcept {
        return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
    bool stale(const Entry& e) const noexcept { return nodes_[e.index].generation != e.generation; }

    std::uint32_t new_node(Callback&& cb) {
        std::uint32_t index;
        if (!free_.empty()) {
            index = free_.back();
            free_.pop_back();
        } else {
            index = grow();
        }
        nodes_[index].cb = std::move(cb);
        ++live_;
        return index;
    }
    // Its callback has been moved out (see cancel, run_due).
    void free_node(std::uint32_t index) noexcept {
        Node& n = nodes_[index];
        n.where = Where::free;
        ++n.generation;          // every handle and heap entry of this use is stale from now on
        free_.push_back(index);  // cannot throw: free_ has room for every node (see grow)
        --live_;
    }
    std::uint32_t grow();
    void drop_stale_entries() noexcept {
        // The earliest timer is the one most often cancelled (a timeout guarding the next reply): its
        // entry leaves at once, so a single pending timer never leaves stale entries behind.
        pop_stale();
        // Stale entries may at most equal live ones (plus slack), bounding memory under churn.
        if (heap_.size() > 64 && heap_.size() > 2 * live_) compact();
    }
    void push_heap(const Entry& e);
    void settle(TimePoint now);
    void pop_stale() noexcept;
    void compact() noexcept;

    std::vector<Node> nodes_;
    std::vector<std::uint32_t> free_;  // capacity >= nodes_.size(), so pushing back never allocates
    std::vector<Entry> heap_;
    std::vector<Relative> relative_;  // added by add_after since the last clock reading; no stale entries
    std::uint64_t next_seq_ = 0;
    std::size_t live_ = 0;
};

}  // namespace squall
