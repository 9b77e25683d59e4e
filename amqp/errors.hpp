// AMQP errors (DESIGN.md section 5), all deriving from squall::Error.
//
//   FrameError              malformed bytes from the peer (or a frame over frame_max); the connection is
//                           unusable afterwards
//   ClosedError             common (virtual) base of the close errors: reply code, text, class and method
//     ConnectionClosedError the connection was closed (by the broker, or locally)
//       ConnectionLostError     the transport failed without a connection.close (reset, EOF); code 0
//         HeartbeatTimeoutError nothing arrived for two heartbeat intervals
//       ConnectionAccessRefusedError  403 from connection.close (wrong credentials): also an
//       AccessRefusedError
//     ChannelClosedError    one channel was closed; the connection and other channels go on
//       NotFoundError           404      ResourceLockedError     405      PreconditionFailedError 406
//       ChannelAccessRefusedError 403: also an AccessRefusedError
//     AccessRefusedError    403 at either scope (see below)
//   ConsumerCancelledError  a consumer ended: cancelled by the broker (queue deleted) or by the client
//   MessageNackedError      publisher confirms: the broker nacked a message
//   MessageReturnedError    a mandatory message was returned as unroutable
//   RpcError                an RpcServer's handler failed (amqp/rpc.hpp)
//
// make_close_error() builds the right class from a connection.close / channel.close:
//
//   std::exception_ptr e = amqp::make_close_error(amqp::CloseScope::channel, 404, "NOT_FOUND - no queue 'q'",
//                                                 50, 10, /*channel=*/3);
//   // -> NotFoundError: "channel 3 closed: 404 NOT_FOUND - no queue 'q' (caused by queue.declare)"
//
// NotFound, ResourceLocked and PreconditionFailed derive from ChannelClosedError: 404-406 are the spec's
// channel-level ("soft") errors. 403 is the exception: RabbitMQ also closes the *connection* with 403
// ACCESS_REFUSED when a login fails (authentication_failure_close). So AccessRefusedError names the code at
// either scope, and the concrete error is ChannelAccessRefusedError (a ChannelClosedError, with channel())
// or ConnectionAccessRefusedError (a ConnectionClosedError). `catch (const AccessRefusedError&)` catches a
// failed login and a refused channel operation alike; catch the scope class when the scope matters.
// ClosedError is a virtual base so that these classes hold one ClosedError (and one squall::Error).
// Other codes at connection scope give a plain ConnectionClosedError; check reply_code().
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

#include "squall/coro/errors.hpp"

namespace squall::amqp {

class FrameError : public Error {
public:
    using Error::Error;
};

class ClosedError : public Error {
public:
    ClosedError(const std::string& message, uint16_t reply_code, std::string reply_text, uint16_t class_id,
                uint16_t method_id)
        : Error(message),
          reply_code_(reply_code),
          reply_text_(std::move(reply_text)),
          class_id_(class_id),
          method_id_(method_id) {}

    uint16_t reply_code() const { return reply_code_; }
    const std::string& reply_text() const { return reply_text_; }
    // The method that caused the close, (0, 0) when none did.
    uint16_t class_id() const { return class_id_; }
    uint16_t method_id() const { return method_id_; }

private:
    uint16_t reply_code_;
    std::string reply_text_;
    uint16_t class_id_;
    uint16_t method_id_;
};

class ConnectionClosedError : public virtual ClosedError {
public:
    ConnectionClosedError(uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                          uint16_t method_id = 0);
};

// The transport went away without a connection.close: the peer reset or closed the socket, or a local
// failure (a malformed frame) ended it. reply_code() is 0, reply_text() says what happened and cause() is
// the underlying error (a StreamClosedError, FrameError, ...) when there is one.
class ConnectionLostError : public ConnectionClosedError {
public:
    explicit ConnectionLostError(const std::string& what, std::exception_ptr cause = nullptr);
    const std::exception_ptr& cause() const { return cause_; }

private:
    std::exception_ptr cause_;
};

// Nothing (not even a heartbeat) arrived for two heartbeat intervals.
class HeartbeatTimeoutError : public ConnectionLostError {
public:
    explicit HeartbeatTimeoutError(std::chrono::milliseconds interval);
    std::chrono::milliseconds interval() const { return interval_; }

private:
    std::chrono::milliseconds interval_;
};

class ChannelClosedError : public virtual ClosedError {
public:
    ChannelClosedError(uint16_t channel, uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                       uint16_t method_id = 0);
    uint16_t channel() const { return channel_; }

private:
    uint16_t channel_;
};

// 403 ACCESS_REFUSED at either scope; the concrete classes are below.
class AccessRefusedError : public virtual ClosedError {
protected:
    AccessRefusedError() : ClosedError("access refused", 403, "", 0, 0) {}
};
class ChannelAccessRefusedError : public ChannelClosedError, public AccessRefusedError {
public:
    ChannelAccessRefusedError(uint16_t channel, uint16_t reply_code, std::string reply_text,
                              uint16_t class_id = 0, uint16_t method_id = 0);
};
// A failed login (RabbitMQ: "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN"),
// or a vhost the user may not access.
class ConnectionAccessRefusedError : public ConnectionClosedError, public AccessRefusedError {
public:
    ConnectionAccessRefusedError(uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                                 uint16_t method_id = 0);
};
class NotFoundError : public ChannelClosedError {  // 404
public:
    NotFoundError(uint16_t channel, uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                  uint16_t method_id = 0);
};
class ResourceLockedError : public ChannelClosedError {  // 405
public:
    ResourceLockedError(uint16_t channel, uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                        uint16_t method_id = 0);
};
class PreconditionFailedError : public ChannelClosedError {  // 406
public:
    PreconditionFailedError(uint16_t channel, uint16_t reply_code, std::string reply_text,
                            uint16_t class_id = 0, uint16_t method_id = 0);
};

// A consumer ended: the broker cancelled it (basic.cancel, e.g. its queue was deleted) or the client did.
// Awaiters of Consumer::next() get it once the consumer's buffered messages are drained.
class ConsumerCancelledError : public Error {
public:
    ConsumerCancelledError(std::string consumer_tag, bool by_broker);
    const std::string& consumer_tag() const { return consumer_tag_; }
    bool by_broker() const { return by_broker_; }

private:
    std::string consumer_tag_;
    bool by_broker_;
};

enum class CloseScope { connection, channel };

// The typed error for a close with this reply code: see the table above (connection scope: 403 gives
// ConnectionAccessRefusedError, any other code ConnectionClosedError). `channel` is ignored for
// CloseScope::connection.
std::exception_ptr make_close_error(CloseScope scope, uint16_t reply_code, std::string reply_text,
                                    uint16_t class_id = 0, uint16_t method_id = 0, uint16_t channel = 0);

class MessageNackedError : public Error {
public:
    explicit MessageNackedError(uint64_t delivery_tag);
    uint64_t delivery_tag() const { return delivery_tag_; }

private:
    uint64_t delivery_tag_;
};

class MessageReturnedError : public Error {
public:
    MessageReturnedError(uint16_t reply_code, std::string reply_text, std::string exchange,
                         std::string routing_key);
    uint16_t reply_code() const { return reply_code_; }
    const std::string& reply_text() const { return reply_text_; }
    const std::string& exchange() const { return exchange_; }
    const std::string& routing_key() const { return routing_key_; }

private:
    uint16_t reply_code_;
    std::string reply_text_;
    std::string exchange_;
    std::string routing_key_;
};

// The server's handler failed; what() is its error text as the server reported it.
class RpcError : public Error {
public:
    using Error::Error;
};

}  // namespace squall::amqp
