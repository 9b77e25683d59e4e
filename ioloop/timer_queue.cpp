#include "squall/ioloop/timer_queue.hpp"

#include <algorithm>

namespace squall {

TimeoutHandle TimerQueue::add(TimePoint deadline, Callback cb) {
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
    heap_.push_back(Entry{deadline, next_seq_++, index, n.generation});
    std::push_heap(heap_.begin(), heap_.end(), later);
    ++live_;
    return TimeoutHandle{index, n.generation};
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
    // Stale entries may at most equal live ones (plus slack), bounding memory under add+cancel churn.
    if (heap_.size() > 64 && heap_.size() > 2 * live_) compact();
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

std::optional<TimePoint> TimerQueue::next_deadline() {
    pop_stale();
    if (heap_.empty()) return std::nullopt;
    return heap_.front().deadline;
}

std::size_t TimerQueue::run_due(TimePoint now) {
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
