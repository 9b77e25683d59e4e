// Errors of the kombu-style layer (amqp/messaging), and which errors a retry may recover from.
//
//   MessageStateError       a message was acked / rejected / requeued twice, or acked on a no_ack consumer
//   ContentDisallowedError  a consumer received a content type it does not accept (the message is rejected)
//   DecodeError             a body could not be decoded (unknown compression, corrupt or oversized data)
//
// is_recoverable_connection_error(e) says whether a reconnect may fix `e` (kombu's
// recoverable_connection_errors): the connection was lost (reset, EOF, missed heartbeats, a malformed
// frame from the broker: FrameError) or closed by the broker for a reason a new connection may not meet
// (320 forced, 506 resource error, 541 internal error), the TCP connect failed, or a connect or handshake
// timed out. Not recoverable, because the same call would fail again: 403 access refused, 530 not allowed,
// 540 not implemented, 501-505 (the broker refused what the client sent), usage errors
// (MessageTooLargeError: a frame over frame_max), channel-level errors (404, 406, ...) and returned or
// nacked messages.
#pragma once

#include <exception>
#include <string>

#include "squall/coro/errors.hpp"

namespace squall::amqp::messaging {

// A message was acked, rejected or requeued twice, or acked on a no_ack consumer.
class MessageStateError : public Error {
public:
    using Error::Error;
};

// A consumer received a content type it does not accept.
class ContentDisallowedError : public Error {
public:
    // The message names the refused content type.
    explicit ContentDisallowedError(std::string content_type);
    const std::string& content_type() const { return content_type_; }  // the refused content type

private:
    std::string content_type_;
};

// A body could not be decoded.
class DecodeError : public Error {
public:
    using Error::Error;
};

// Whether a reconnect may fix e (see the top of this header); false for a null e.
bool is_recoverable_connection_error(const std::exception_ptr& e);

using squall::describe;  // e.what() for any exception (coro/errors.hpp)

}  // namespace squall::amqp::messaging
