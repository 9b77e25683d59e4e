// TimerQueue: the loop's timers. A binary min-heap ordered by (deadline, sequence number), so equal
// deadlines fire in the order they were added. Cancellation is O(1): the node is freed and its heap
// entry goes stale (detected by generation); stale entries are compacted away when they outnumber the
// live ones, so add+cancel churn does not grow the heap.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "squall/coro/function.hpp"

namespace squall {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Identifies a pending timeout; stale handles are harmless (remove_timeout returns false).
struct TimeoutHandle {
    std::uint32_t index = UINT32_MAX;
    std::uint32_t generation = 0;
    explicit operator bool() const noexcept { return index != UINT32_MAX; }
};

class TimerQueue {
public:
    TimeoutHandle add(TimePoint deadline, Callback cb);
    bool cancel(TimeoutHandle h) noexcept;

    std::size_t size() const noexcept { return live_; }
    bool empty() const noexcept { return live_ == 0; }
    std::optional<TimePoint> next_deadline();

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
    static bool later(const Entry& a, const Entry& b) noexcept {
        return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
    bool stale(const Entry& e) const noexcept {
        const Node& n = nodes_[e.index];
        return !n.live || n.generation != e.generation;
    }
    void pop_stale();
    void compact();

    std::vector<Node> nodes_;
    std::vector<std::uint32_t> free_;
    std::vector<Entry> heap_;
    std::uint64_t next_seq_ = 0;
    std::size_t live_ = 0;
};

}  // namespace squall
