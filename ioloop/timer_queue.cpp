#include "squall/ioloop/timer_queue.hpp"

#include <algorithm>
#include <stdexcept>

namespace squall {

std::uint32_t TimerQueue::grow() {
    if (nodes_.size() >= UINT32_MAX - 1) throw std::length_error("TimerQueue: too many timers");
    // free_ keeps room for every node, so freeing one (noexcept) never allocates.
    if (free_.capacity() < nodes_.size() + 1) free_.reserve(2 * nodes_.size() + 16);
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void TimerQueue::push_heap(const Entry& e) {
    heap_.push_back(e);
    std::push_heap(heap_.begin(), heap_.end(), later);
}

TimeoutHandle TimerQueue::add(TimePoint deadline, Callback&& cb) {
    if (heap_.size() == heap_.capacity()) heap_.reserve(heap_.size() * 2 + 16);
    const std::uint32_t index = new_node(std::move(cb));  // nothing below throws
    Node& n = nodes_[index];
    n.where = Where::heap;
    push_heap(Entry{deadline, next_seq_++, index, n.generation});
    return TimeoutHandle{index, n.generation};
}

void TimerQueue::settle(TimePoint now) {
    if (relative_.empty()) return;
    heap_.reserve(heap_.size() + relative_.size());  // the pushes below do not throw
    for (const Relative& r : relative_) {
        Node& n = nodes_[r.index];
        n.where = Where::heap;
        push_heap(Entry{now + r.delay, r.seq, r.index, n.generation});
    }
    relative_.clear();
}

void TimerQueue::compact() noexcept {
    std::erase_if(heap_, [this](const Entry& e) { return stale(e); });
    std::make_heap(heap_.begin(), heap_.end(), later);
}

void TimerQueue::pop_stale() noexcept {
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
        Callback cb = std::move(nodes_[top.index].cb);
        free_node(top.index);
        cb();  // may add or cancel timers: nodes_ may reallocate, so no reference is kept across it
        ++ran;
    }
    return ran;
}

}  // namespace squall
