// AMQP errors (DESIGN.md section 5), all deriving from squall::Error.
//
//   FrameError              malformed bytes from the peer (or a frame over frame_max); the connection is
//                           unusable afterwards
//   ClosedError             common base of the two close errors: reply code, text, class and method
//     ConnectionClosedError the connection was closed (by the broker, or locally)
//     ChannelClosedError    one channel was closed; the connection and other channels go on
//       AccessRefusedError      403      NotFoundError           404
//       ResourceLockedError     405      PreconditionFailedError 406
//   MessageNackedError      publisher confirms: the broker nacked a message
//   MessageReturnedError    a mandatory message was returned as unroutable
//
// make_close_error() builds the right class from a connection.close / channel.close:
//
//   std::exception_ptr e = amqp::make_close_error(amqp::CloseScope::channel, 404, "NOT_FOUND - no queue 'q'",
//                                                 50, 10, /*channel=*/3);
//   // -> NotFoundError: "channel 3 closed: 404 NOT_FOUND - no queue 'q' (caused by queue.declare)"
//
// The code-specific classes derive from ChannelClosedError because 403-406 are the spec's channel-level
// ("soft") errors. When the broker closes the whole connection with one of these codes (e.g. 403 for bad
// credentials) the result is a plain ConnectionClosedError; check reply_code().
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "coro/errors.hpp"

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

class ConnectionClosedError : public ClosedError {
  public:
    ConnectionClosedError(uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                          uint16_t method_id = 0);
};

class ChannelClosedError : public ClosedError {
  public:
    ChannelClosedError(uint16_t channel, uint16_t reply_code, std::string reply_text, uint16_t class_id = 0,
                       uint16_t method_id = 0);
    uint16_t channel() const { return channel_; }

  private:
    uint16_t channel_;
};

class AccessRefusedError : public ChannelClosedError {  // 403
  public:
    using ChannelClosedError::ChannelClosedError;
};
class NotFoundError : public ChannelClosedError {  // 404
  public:
    using ChannelClosedError::ChannelClosedError;
};
class ResourceLockedError : public ChannelClosedError {  // 405
  public:
    using ChannelClosedError::ChannelClosedError;
};
class PreconditionFailedError : public ChannelClosedError {  // 406
  public:
    using ChannelClosedError::ChannelClosedError;
};

enum class CloseScope { connection, channel };

// The typed error for a close with this reply code: see the table above. `channel` is ignored for
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

}  // namespace squall::amqp
