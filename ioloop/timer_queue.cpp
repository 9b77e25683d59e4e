#include "squall/ioloop/timer_queue.hpp"

#include <algorithm>

namespace squall {

std::uint32_t TimerQueue::new_node(Callback cb) {
    std::uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        index = static_cast<std::uint32_t>(nodes_.size());
        nodes_.emplace_back();
    }
    Node& n = nodes_[index];
    n.cb = std::move(cb);
    n.live = true;
    ++live_;
    return index;
}

TimeoutHandle TimerQueue::add(TimePoint deadline, Callback cb) {
    std::uint32_t index = new_node(std::move(cb));
    std::uint32_t generation = nodes_[index].generation;
    heap_.push_back(Entry{deadline, next_seq_++, index, generation});
    std::push_heap(heap_.begin(), heap_.end(), later);
    return TimeoutHandle{index, generation};
}

TimeoutHandle TimerQueue::add_after(Duration delay, Callback cb) {
    std::uint32_t index = new_node(std::move(cb));
    std::uint32_t generation = nodes_[index].generation;
    relative_.push_back(Relative{delay, next_seq_++, index, generation});
    return TimeoutHandle{index, generation};
}

void TimerQueue::settle(TimePoint now) {
    if (relative_.empty()) return;
    for (const Relative& r : relative_) {
        if (stale(r)) continue;  // cancelled before the clock was read: never reached the heap
        heap_.push_back(Entry{now + r.delay, r.seq, r.index, r.generation});
        std::push_heap(heap_.begin(), heap_.end(), later);
    }
    relative_.clear();
}

bool TimerQueue::cancel(TimeoutHandle h) noexcept {
    if (h.index >= nodes_.size()) return false;
    Node& n = nodes_[h.index];
    if (!n.live || n.generation != h.generation) return false;
    n.cb.reset();
    n.live = false;
    ++n.generation;
    free_.push_back(h.index);
    --live_;
    // The earliest timer is the one most often cancelled (a timeout guarding the next reply): its entry
    // leaves at once, so a single pending timer never leaves stale entries behind.
    pop_stale();
    // Stale entries may at most equal live ones (plus slack), bounding memory under add+cancel churn.
    if (heap_.size() > 64 && heap_.size() > 2 * live_) compact();
    if (relative_.size() > 64 && relative_.size() > 2 * live_)
        std::erase_if(relative_, [this](const Relative& r) { return stale(r); });
    return true;
}

void TimerQueue::compact() {
    std::erase_if(heap_, [this](const Entry& e) { return stale(e); });
    std::make_heap(heap_.begin(), heap_.end(), later);
}

void TimerQueue::pop_stale() {
    while (!heap_.empty() && stale(heap_.front())) {
        std::pop_heap(heap_.begin(), heap_.end(), later);
        heap_.pop_back();
    }
}

std::optional<TimePoint> TimerQueue::next_deadline(TimePoint now) {
    settle(now);
    pop_stale();
    if (heap_.empty()) return std::nullopt;
    return heap_.front().deadline;
}

std::size_t TimerQueue::run_due(TimePoint now) {
    settle(now);
    const std::uint64_t seq_limit = next_seq_;
    std::size_t ran = 0;
    for (;;) {
        pop_stale();
        if (heap_.empty()) break;
        const Entry top = heap_.front();
        if (top.deadline > now || top.seq >= seq_limit) break;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        heap_.pop_back();
        Node& n = nodes_[top.index];
        Callback cb = std::move(n.cb);
        n.live = false;
        ++n.generation;
        free_.push_back(top.index);
        --live_;
        cb();  // may add or cancel timers: nodes_ may reallocate, so no reference is kept across it
        ++ran;
    }
    return ran;
}

}  // namespace squall
