// amqp::Confirmation: what Channel::basic_publish returns. Awaiting it waits for the broker's publisher
// confirm when the channel is in confirm mode (confirm_select), and completes at once otherwise.
//
//     co_await ch->confirm_select();
//     co_await ch->basic_publish("", "jobs", body);   // MessageNackedError, MessageReturnedError
//
//     std::vector<amqp::Confirmation> window;           // many in flight, awaited later
//     for (auto& b : bodies) window.push_back(ch->basic_publish("", "jobs", b));
//     for (auto& c : window) co_await c;
//
// Cost: nothing is allocated outside confirm mode; in confirm mode one future state per message.
// A failure nobody awaits is logged (never lost).
#pragma once

#include <optional>
#include <utility>

#include "squall/coro/future.hpp"

namespace squall::amqp {

// One publish's confirm (see the top of this file); awaitable once.
class Confirmation {
public:
    // Completed successfully (not in confirm mode).
    Confirmation() = default;
    // Resolves with `confirm` (the channel's future for this publish's ack).
    explicit Confirmation(Future<void> confirm) : future_(std::move(confirm)) {}

    // The broker answered (or nothing is to be waited for).
    bool done() const { return !future_.valid() || future_.done(); }
    // The confirm as a Future (a ready one outside confirm mode), for add_done_callback or gather.
    Future<void> future() const { return future_.valid() ? future_ : make_ready_future(); }

    // The awaitable interface: waits for the confirm; throws MessageNackedError, MessageReturnedError or
    // the channel's close error.
    bool await_ready() {
        if (!future_.valid()) return true;
        awaiter_.emplace(std::move(future_).operator co_await());
        return awaiter_->await_ready();
    }
    void await_suspend(std::coroutine_handle<> h) { awaiter_->await_suspend(h); }
    void await_resume() {
        if (awaiter_) awaiter_->await_resume();
    }

private:
    Future<void> future_;
    std::optional<Future<void>::Awaiter> awaiter_;
};

}  // namespace squall::amqp
