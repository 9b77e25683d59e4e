// Publisher-confirm tracking of one channel in confirm mode: one slot per published message in a ring
// indexed by delivery tag, the mandatory messages awaiting their confirm, and the basic.returns not yet
// matched to one. Channel::basic_publish calls track(); the reader hands basic.ack / basic.nack to
// settle() and basic.return to returned(); fail_all() ends every outstanding confirm with the channel's
// close reason.
//
// A mandatory message that the broker cannot route comes back as basic.return *before* its basic.ack;
// the ack then fails the message's confirm with MessageReturnedError (matched to the oldest mandatory
// message with the same exchange and routing key). A return can only belong to a mandatory message still
// awaiting its confirm, so at most that many returns are kept (the oldest are dropped beyond it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "squall/amqp/confirmation.hpp"
#include "squall/coro/future.hpp"

namespace squall::amqp::detail {

class ConfirmTracker {
public:
    // The next published message: its delivery tag is the next one; mandatory ones remember where they went.
    Confirmation track(bool mandatory, std::string_view exchange, std::string_view routing_key);
    // basic.ack / basic.nack from the broker. False for a delivery tag never published (ignored).
    bool settle(uint64_t delivery_tag, bool multiple, bool ack);
    // A basic.return while in confirm mode (kept for the ack of its message).
    void returned(std::string exchange, std::string routing_key, std::exception_ptr error);
    // Fails every outstanding confirm with `reason` and forgets everything (the channel ended).
    void fail_all(const std::exception_ptr& reason);

    std::size_t unconfirmed() const noexcept { return unconfirmed_; }
    bool expects_returns() const noexcept { return !mandatory_.empty(); }

private:
    struct Slot {
        Promise<void> promise;
        bool settled = false;
    };
    struct Returned {
        std::string exchange;
        std::string routing_key;
        std::exception_ptr error;
    };

    uint64_t next_tag_ = 1;
    uint64_t first_tag_ = 1;  // delivery tag of slots_.front()
    std::deque<Slot> slots_;
    std::size_t unconfirmed_ = 0;
    std::map<uint64_t, std::pair<std::string, std::string>> mandatory_;  // tag -> (exchange, routing key)
    std::deque<Returned> returns_;
};

}  // namespace squall::amqp::detail
