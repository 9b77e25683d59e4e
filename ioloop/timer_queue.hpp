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
// and no heap operation. Clock reads are what costs most on a VM whose TSC reads trap (~0.2-0.4 us here).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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
    TimeoutHandle add(TimePoint deadline, Callback cb);
    // Fires `delay` after the next clock reading given to run_due / next_deadline (see above).
    TimeoutHandle add_after(Duration delay, Callback cb);
    // Removes a pending timer; false when it already ran or was removed (the handle is stale).
    bool cancel(TimeoutHandle h) noexcept;

    // Pending timers.
    std::size_t size() const noexcept { return live_; }
    bool empty() const noexcept { return live_ == 0; }
    // `now`: the current time (it settles the relative timers added since the last reading).
    std::optional<TimePoint> next_deadline(TimePoint now);

    // Runs the timers due at `now` that existed when the call began (a timer added by a callback for
    // `now` runs on the next call). Returns how many ran.
    std::size_t run_due(TimePoint now);

private:
    struct Node {
        Callback cb;
        std::uint32_t generation = 0;
        bool live = false;
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
        std::uint32_t generation;
    };
    static bool later(const Entry& a, const Entry& b) noexcept {
        return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
    bool stale(const Entry& e) const noexcept {
        const Node& n = nodes_[e.index];
        return !n.live || n.generation != e.generation;
    }
    bool stale(const Relative& r) const noexcept {
        const Node& n = nodes_[r.index];
        return !n.live || n.generation != r.generation;
    }
    std::uint32_t new_node(Callback cb);
    void settle(TimePoint now);
    void pop_stale();
    void compact();

    std::vector<Node> nodes_;
    std::vector<std::uint32_t> free_;
    std::vector<Entry> heap_;
    std::vector<Relative> relative_;  // added by add_after since the last clock reading
    std::uint64_t next_seq_ = 0;
    std::size_t live_ = 0;
};

}  // namespace squall
