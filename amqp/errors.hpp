// AMQP errors (DESIGN.md section 5), all deriving from squall::Error.
//
//   FrameError              malformed bytes from the peer (or a peer that does not speak AMQP 0-9-1): the
//                           connection is unusable afterwards, always. Nothing squall is about to *send*
//                           raises it: a frame too large for frame_max is MessageTooLargeError.
//   MessageTooLargeError    a UsageError: a frame squall was asked to send exceeds the negotiated frame_max
//                           (e.g. a header table of a publish); raised before anything is written, the
//                           connection goes on
//   ClosedError             common (virtual) base of the close errors: reply code, text, class and method
//   ConnectionClosedError   a ClosedError: the connection was closed (by the broker, or locally); one
//                           subclass per hard-error reply code, see the table below
//   ConnectionLostError     a ConnectionClosedError: the transport failed without a connection.close
//                           (reset, EOF); code 0
//   HeartbeatTimeoutError   a ConnectionLostError: nothing arrived for two heartbeat intervals
//   ChannelClosedError      a ClosedError: one channel was closed; the connection and other channels go
//                           on; one subclass per soft-error reply code, see the table below
//   AccessRefusedError      a ClosedError: 403 at either scope (see below)
//   ConsumerCancelledError  a consumer ended: cancelled by the broker (queue deleted) or by the client
//   MessageNackedError      publisher confirms: the broker nacked a message
//   MessageReturnedError    a mandatory message was returned as unroutable (reply_code 312 NO_ROUTE)
//   RpcError                an RpcServer's handler failed (amqp/rpc.hpp)
//
// Every reply code RabbitMQ sends, with the class make_close_error() builds and what makes RabbitMQ 3.10
// send it (checked against the real broker in tests/amqp/test_reply_codes.cpp where it can be provoked):
//
//   code scope       class                         RabbitMQ sends it when
//   311  channel     ContentTooLargeError          (spec: content too large to accept; RabbitMQ itself
//                                                  answers an oversized message with 406)
//   312  basic.return MessageReturnedError         a mandatory message could not be routed (not a close);
//        channel     NoRouteError                  (a channel.close with 312, which RabbitMQ never sends)
//   313  channel     NoConsumersError              (spec: immediate delivery impossible; RabbitMQ refuses
//                                                  immediate with 540 instead)
//   320  connection  ConnectionForcedError         an operator closed the connection (rabbitmqctl
//                                                  close_connection, the management UI) or the node shuts
//                                                  down
//   402  connection  InvalidPathError              (spec: connection.open with an invalid vhost path;
//                                                  RabbitMQ answers 530)
//   403  connection  ConnectionAccessRefusedError  login refused (wrong user or password, SASL failure)
//        channel     ChannelAccessRefusedError     no permission for the operation (configure/write/read
//                                                  on a resource), or a reserved "amq." name
//   404  channel     NotFoundError                 no such queue or exchange (passive declare, bind,
//                                                  publish to a missing exchange, consume)
//   405  channel     ResourceLockedError           an exclusive queue of another connection
//   406  channel     PreconditionFailedError       redeclare with other arguments, unknown delivery tag
//                                                  in an ack, delete if-unused/if-empty that does not hold,
//                                                  message larger than max_message_size
//   501  connection  BrokerFrameError              the broker could not parse a frame from the client
//                                                  (bad frame end octet, frame type, size)
//   502  connection  BrokerSyntaxError             (spec: illegal field values; RabbitMQ 3.10 resets the
//                                                  connection on an undecodable field table instead)
//   503  connection  CommandInvalidError           an invalid command, e.g. exchange.declare of an
//                                                  unknown exchange type
//   504  connection  ChannelProtocolError          a method on a channel that is not open, or a second
//                                                  channel.open on an open one (CHANNEL_ERROR)
//   505  connection  UnexpectedFrameError          a content header or body where none was expected
//   506  connection  ResourceError                 the broker lacks a resource it needs for the request
//   530  connection  NotAllowedError               a vhost that does not exist or that the user may not
//                                                  access; reuse of a consumer tag on one channel
//   540  connection  NotImplementedError           channel.flow active=false, basic.publish immediate=true
//   541  connection  InternalError                 an internal broker failure
//
// A code at the scope the table does not list (a soft code at connection scope other than 403, a hard
// code at channel scope) gives the plain ConnectionClosedError / ChannelClosedError; reply_code() says
// which. Every class keeps reply_code(), reply_text(), class_id() and method_id() of the close.
//
//   std::exception_ptr e = amqp::make_close_error(amqp::CloseScope::channel, 404, "NOT_FOUND - no queue 'q'",
//                                                 50, 10, /*channel=*/3);
//   // -> NotFoundError: "channel 3 closed: 404 NOT_FOUND - no queue 'q' (caused by queue.declare)"
//
// 403 at either scope: AccessRefusedError names the code at either scope, and the concrete error is
// ChannelAccessRefusedError (a ChannelClosedError, with channel()) or ConnectionAccessRefusedError (a
// ConnectionClosedError). `catch (const AccessRefusedError&)` catches a failed login and a refused channel
// operation alike; catch the scope class when the scope matters. A vhost the user may not access is 530
// NotAllowedError, not 403. ClosedError is a virtual base so that these classes hold one ClosedError (and
// one squall::Error).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "squall/coro/errors.hpp"

namespace squall::amqp {

// Malformed bytes from the peer: the connection is unusable afterwards (see the list above).
class FrameError : public Error {
public:
    using Error::Error;
};

// A frame squall was asked to send does not fit the negotiated frame_max (a publish's header table, a
// method's arguments). A caller's mistake: nothing was written and the connection and channel go on.
class MessageTooLargeError : public UsageError {
public:
    // `message` is what(); the frame's size and the limit it exceeds.
    MessageTooLargeError(const std::string& message, std::size_t frame_size, uint32_t frame_max)
        : UsageError(message), frame_size_(frame_size), frame_max_(frame_max) {}
    std::size_t frame_size() const { return frame_size_; }  // the size of the frame that did not fit
    uint32_t frame_max() const { return frame_max_; }       // the negotiated limit

private:
    std::size_t frame_size_;
    uint32_t frame_max_;
};

// What every close error has: the reply code and text of the connection.close or channel.close, and the
// method that caused it.
class ClosedError : public Error {
public:
    // `message` is what(); the rest are the close's fields.
    ClosedError(const std::string& message, uint16_t reply_code, std::string reply_text, uint16_t class_id,
                uint16_t method_id)
        : Error(message),
          reply_code_(reply_code),
          reply_text_(std::move(reply_text)),
          class_id_(class_id),
          method_id_(method_id) {}

    uint16_t reply_code() const { return reply_code_; }            // 404, 320, ...; 0 for a lost connection
    const std::string& reply_text() const { return reply_text_; }  // the broker's text ("NOT_FOUND - ...")
    // The method that caused the close, (0, 0) when none did.
    uint16_t class_id() const { return class_id_; }
    uint16_t method_id() const { return method_id_; }

private:
    uint16_t reply_code_;
    std::string reply_text_;
    uint16_t class_id_;
    uint16_t method_id_;
};

// The connection was closed (by the broker's connection.close, or locally); every channel on it is closed
// with it.
class ConnectionClosedError : public virtual ClosedError {
public:
    // The close's fields.
    ConnectionClosedError(uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                          uint16_t method_id = 0);
};

// The transport went away without a connection.close: the peer reset or closed the socket, or a local
// failure (a malformed frame) ended it. reply_code() is 0, reply_text() says what happened and cause() is
// the underlying error (a StreamClosedError, FrameError, ...) when there is one.
class ConnectionLostError : public ConnectionClosedError {
public:
    // `what` says what happened; `cause` is the underlying error, if any.
    explicit ConnectionLostError(const std::string& what, std::exception_ptr cause = nullptr);
    const std::exception_ptr& cause() const { return cause_; }  // null when there is none

private:
    std::exception_ptr cause_;
};

// Nothing (not even a heartbeat) arrived for two heartbeat intervals.
class HeartbeatTimeoutError : public ConnectionLostError {
public:
    explicit HeartbeatTimeoutError(std::chrono::milliseconds interval);  // the negotiated heartbeat interval
    std::chrono::milliseconds interval() const { return interval_; }     // the negotiated heartbeat interval

private:
    std::chrono::milliseconds interval_;
};

// One channel was closed (by the broker's channel.close, or locally); the connection and the other
// channels go on.
class ChannelClosedError : public virtual ClosedError {
public:
    // The closed channel and the close's fields.
    ChannelClosedError(uint16_t channel, uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                       uint16_t method_id = 0);
    uint16_t channel() const { return channel_; }  // the closed channel's id

private:
    uint16_t channel_;
};

// 403 ACCESS_REFUSED at either scope; the concrete classes are below.
class AccessRefusedError : public virtual ClosedError {
protected:
    AccessRefusedError() : ClosedError("access refused", 403, "", 0, 0) {}
};
// 403 at channel scope: no permission for the operation (configure / write / read on a resource), or a
// reserved "amq." name.
class ChannelAccessRefusedError : public ChannelClosedError, public AccessRefusedError {
public:
    // The closed channel and the close's fields.
    ChannelAccessRefusedError(uint16_t channel, uint16_t reply_code, std::string reply_text,
                              uint16_t class_id = 0, uint16_t method_id = 0);
};
// A failed login (RabbitMQ: "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN").
// A vhost the user may not access is NotAllowedError (530).
class ConnectionAccessRefusedError : public ConnectionClosedError, public AccessRefusedError {
public:
    // The close's fields.
    ConnectionAccessRefusedError(uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                                 uint16_t method_id = 0);
};

namespace detail {
// what() of a channel-scope and of a connection-scope close ("channel 1 closed: 404 NOT_FOUND - ...").
std::string channel_close_message(uint16_t channel, uint16_t reply_code, const std::string& reply_text,
                                  uint16_t class_id, uint16_t method_id);
std::string connection_close_message(uint16_t reply_code, const std::string& reply_text, uint16_t class_id,
                                     uint16_t method_id);
}  // namespace detail

// A channel.close with one reply code: each channel-scope class of the table above is one of these
// (distinct types, told apart by Code). The constructor takes the close's fields, as make_close_error()
// passes them. ClosedError is a virtual base, so this most-derived class initializes it.
template <uint16_t Code>
class ChannelReplyError : public ChannelClosedError {
public:
    // The closed channel and the close's fields.
    ChannelReplyError(uint16_t channel, uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                      uint16_t method_id = 0)
        : ClosedError(detail::channel_close_message(channel, reply_code, reply_text, class_id, method_id),
                      reply_code, reply_text, class_id, method_id),
          ChannelClosedError(channel, reply_code, reply_text, class_id, method_id) {}
};

// A connection.close with one reply code, as ChannelReplyError is for channel.close.
template <uint16_t Code>
class ConnectionReplyError : public ConnectionClosedError {
public:
    // The close's fields.
    ConnectionReplyError(uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                         uint16_t method_id = 0)
        : ClosedError(detail::connection_close_message(reply_code, reply_text, class_id, method_id),
                      reply_code, reply_text, class_id, method_id),
          ConnectionClosedError(reply_code, reply_text, class_id, method_id) {}
};

// The classes of the table above, one per reply code.
// 311 CONTENT_TOO_LARGE: the broker would not accept a message this large (RabbitMQ answers 406 instead).
using ContentTooLargeError = ChannelReplyError<311>;
// 312 NO_ROUTE as a channel.close (RabbitMQ never sends it: unroutable mandatory messages come back as
// basic.return).
using NoRouteError = ChannelReplyError<312>;
// 313 NO_CONSUMERS: immediate delivery impossible (RabbitMQ refuses immediate with 540 instead).
using NoConsumersError = ChannelReplyError<313>;
// 404 NOT_FOUND: no such queue or exchange (passive declare, bind, publish to a missing exchange, consume).
using NotFoundError = ChannelReplyError<404>;
// 405 RESOURCE_LOCKED: the queue is exclusive to another connection.
using ResourceLockedError = ChannelReplyError<405>;
// 406 PRECONDITION_FAILED: a redeclare with other arguments, an unknown delivery tag in an ack, a delete
// whose if-unused / if-empty does not hold, a message over max_message_size.
using PreconditionFailedError = ChannelReplyError<406>;
// 320 CONNECTION_FORCED: an operator closed the connection (rabbitmqctl close_connection, the management UI)
// or the node shuts down.
using ConnectionForcedError = ConnectionReplyError<320>;
// 402 INVALID_PATH: connection.open with an invalid vhost path (RabbitMQ answers 530 instead).
using InvalidPathError = ConnectionReplyError<402>;
// 501 FRAME_ERROR: the broker could not parse a frame from the client (frame end octet, type, size).
using BrokerFrameError = ConnectionReplyError<501>;
// 502 SYNTAX_ERROR: illegal field values (RabbitMQ 3.10 resets the connection on an undecodable field table
// instead).
using BrokerSyntaxError = ConnectionReplyError<502>;
// 503 COMMAND_INVALID: an invalid command, e.g. exchange.declare of an unknown exchange type.
using CommandInvalidError = ConnectionReplyError<503>;
// 504 CHANNEL_ERROR: a method on a channel that is not open, or a second channel.open on an open one.
using ChannelProtocolError = ConnectionReplyError<504>;
// 505 UNEXPECTED_FRAME: a content header or body where none was expected.
using UnexpectedFrameError = ConnectionReplyError<505>;
// 506 RESOURCE_ERROR: the broker lacks a resource it needs for the request.
using ResourceError = ConnectionReplyError<506>;
// 530 NOT_ALLOWED: a vhost that does not exist or that the user may not access; a consumer tag reused on one
// channel.
using NotAllowedError = ConnectionReplyError<530>;
// 540 NOT_IMPLEMENTED: channel.flow active=false, basic.publish immediate=true.
using NotImplementedError = ConnectionReplyError<540>;
// 541 INTERNAL_ERROR: an internal broker failure.
using InternalError = ConnectionReplyError<541>;

// A consumer ended: the broker cancelled it (basic.cancel, e.g. its queue was deleted) or the client did.
// Awaiters of ChannelConsumer::next() get it once the consumer's buffered messages are drained.
class ConsumerCancelledError : public Error {
public:
    // The consumer's tag, and whether the broker cancelled it.
    ConsumerCancelledError(std::string consumer_tag, bool by_broker);
    const std::string& consumer_tag() const { return consumer_tag_; }  // the consumer that ended
    bool by_broker() const { return by_broker_; }  // true for the broker's basic.cancel, false for cancel()

private:
    std::string consumer_tag_;
    bool by_broker_;
};

// Which close make_close_error() builds an error for: a connection.close or a channel.close.
enum class CloseScope { connection, channel };

// The typed error for a close with this reply code: see the table above. `channel` is ignored for
// CloseScope::connection.
std::exception_ptr make_close_error(CloseScope scope, uint16_t reply_code, std::string reply_text,
                                    uint16_t class_id = 0, uint16_t method_id = 0, uint16_t channel = 0);

// Publisher confirms: the broker nacked the message (basic.nack), so it may not have been queued.
class MessageNackedError : public Error {
public:
    explicit MessageNackedError(uint64_t delivery_tag);      // the publish's sequence number
    uint64_t delivery_tag() const { return delivery_tag_; }  // the publish's sequence number

private:
    uint64_t delivery_tag_;
};

// A mandatory message came back as unroutable (basic.return before its confirm).
class MessageReturnedError : public Error {
public:
    // The basic.return's fields.
    MessageReturnedError(uint16_t reply_code, std::string reply_text, std::string exchange,
                         std::string routing_key);
    uint16_t reply_code() const { return reply_code_; }            // 312 NO_ROUTE
    const std::string& reply_text() const { return reply_text_; }  // "NO_ROUTE"
    // Where the message was published.
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
