// HandlerTable: the readiness handlers (IOLoop::add_handler) of one poller, by fd. Internal.
//
// One ownership model for both backends: each handler is a heap record owned by a unique_ptr (so its
// callback never moves while it runs); remove moves the record to a retired list, and the poller frees
// retired records with sweep() on a later loop iteration, once the record is neither running its callback
// nor armed in the kernel (io_uring: a poll request whose completion is still to come).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "squall/coro/errors.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::detail {

struct HandlerRec {
    int fd;
    std::uint32_t events;
    HandlerCallback cb;
    bool active = true;  // false once removed
    bool armed = false;  // io_uring: a poll request for it is in the kernel
};

class HandlerTable {
public:
    HandlerRec* find(int fd) const noexcept {
        if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size()) return nullptr;
        return by_fd_[static_cast<std::size_t>(fd)].get();
    }

    HandlerRec& add(int fd, std::uint32_t events, HandlerCallback cb) {
        if (fd < 0) throw UsageError("invalid file descriptor");
        auto i = static_cast<std::size_t>(fd);
        if (i >= by_fd_.size()) by_fd_.resize(i * 2 + 16);
        if (by_fd_[i]) throw UsageError("add_handler: fd " + std::to_string(fd) + " already has a handler");
        by_fd_[i] = std::make_unique<HandlerRec>(HandlerRec{fd, events, std::move(cb)});
        return *by_fd_[i];
    }

    // Takes fd's record out of the table (it may be running its callback right now). Returns it, or null
    // when fd has no handler; the caller schedules a sweep().
    HandlerRec* retire(int fd) {
        HandlerRec* rec = find(fd);
        if (!rec) return nullptr;
        rec->active = false;
        retired_.push_back(std::move(by_fd_[static_cast<std::size_t>(fd)]));
        return rec;
    }

    // Frees the retired records that are no longer armed. Call it from a loop callback (never from inside
    // a handler's callback). Returns true when some record must wait for its poll's completion.
    bool sweep() {
        std::erase_if(retired_, [](const std::unique_ptr<HandlerRec>& r) { return !r->armed; });
        return !retired_.empty();
    }

private:
    std::vector<std::unique_ptr<HandlerRec>> by_fd_;
    std::vector<std::unique_ptr<HandlerRec>> retired_;
};

}  // namespace squall::detail
