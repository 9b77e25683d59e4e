#include "squall/amqp/errors.hpp"

#include <string_view>

#include "squall/amqp/spec.hpp"

namespace squall::amqp {
namespace {

// "404 NOT_FOUND - no queue 'q' (caused by queue.declare)"
std::string describe_close(uint16_t reply_code, const std::string& reply_text, uint16_t class_id,
                           uint16_t method_id) {
    std::string s = std::to_string(reply_code);
    s += ' ';
    s += reply_text.empty() ? std::string_view("(no reply text)") : std::string_view(reply_text);
    if (class_id != 0 || method_id != 0) {
        s += " (caused by ";
        s += spec::to_string(spec::MethodId{class_id, method_id});
        s += ')';
    }
    return s;
}

}  // namespace

namespace detail {
std::string channel_close_message(uint16_t channel, uint16_t reply_code, const std::string& reply_text,
                                  uint16_t class_id, uint16_t method_id) {
    return "channel " + std::to_string(channel) +
           " closed: " + describe_close(reply_code, reply_text, class_id, method_id);
}

std::string connection_close_message(uint16_t reply_code, const std::string& reply_text, uint16_t class_id,
                                     uint16_t method_id) {
    return "connection closed: " + describe_close(reply_code, reply_text, class_id, method_id);
}
}  // namespace detail

namespace {
using detail::channel_close_message;
using detail::connection_close_message;
}  // namespace

// ClosedError is a virtual base: the most-derived class initializes it (the initializers that the
// intermediate classes name are skipped then). reply_text is copied, not moved, into the base: the
// message is built from it in the same call and argument evaluation order is unspecified.
ConnectionClosedError::ConnectionClosedError(uint16_t reply_code, std::string reply_text, uint16_t class_id,
                                             uint16_t method_id)
    : ClosedError(connection_close_message(reply_code, reply_text, class_id, method_id), reply_code,
                  reply_text, class_id, method_id) {}

ConnectionLostError::ConnectionLostError(const std::string& what, std::exception_ptr cause)
    : ClosedError("connection lost: " + what, 0, what, 0, 0),
      ConnectionClosedError(0, what),
      cause_(std::move(cause)) {}

HeartbeatTimeoutError::HeartbeatTimeoutError(std::chrono::milliseconds interval)
    : ClosedError(
          "connection lost: no data (not even a heartbeat) from the broker for two heartbeat "
          "intervals of " +
              std::to_string(interval.count()) + " ms",
          0, "missed heartbeats", 0, 0),
      ConnectionLostError("missed heartbeats"),
      interval_(interval) {}

ChannelClosedError::ChannelClosedError(uint16_t channel, uint16_t reply_code, std::string reply_text,
                                       uint16_t class_id, uint16_t method_id)
    : ClosedError(channel_close_message(channel, reply_code, reply_text, class_id, method_id), reply_code,
                  reply_text, class_id, method_id),
      channel_(channel) {}

ChannelAccessRefusedError::ChannelAccessRefusedError(uint16_t channel, uint16_t reply_code,
                                                     std::string reply_text, uint16_t class_id,
                                                     uint16_t method_id)
    : ClosedError(channel_close_message(channel, reply_code, reply_text, class_id, method_id), reply_code,
                  reply_text, class_id, method_id),
      ChannelClosedError(channel, reply_code, reply_text, class_id, method_id) {}

ConnectionAccessRefusedError::ConnectionAccessRefusedError(uint16_t reply_code, std::string reply_text,
                                                           uint16_t class_id, uint16_t method_id)
    : ClosedError(connection_close_message(reply_code, reply_text, class_id, method_id), reply_code,
                  reply_text, class_id, method_id),
      ConnectionClosedError(reply_code, reply_text, class_id, method_id) {}

ConsumerCancelledError::ConsumerCancelledError(std::string consumer_tag, bool by_broker)
    : Error("consumer '" + consumer_tag + "' was cancelled " +
            (by_broker ? std::string("by the broker (its queue was deleted or became unavailable)")
                       : std::string("by the client"))),
      consumer_tag_(std::move(consumer_tag)),
      by_broker_(by_broker) {}

namespace {

template <class E>
std::exception_ptr connection_error(uint16_t code, std::string& text, uint16_t class_id, uint16_t method_id) {
    return std::make_exception_ptr(E(code, std::move(text), class_id, method_id));
}

template <class E>
std::exception_ptr channel_error(uint16_t channel, uint16_t code, std::string& text, uint16_t class_id,
                                 uint16_t method_id) {
    return std::make_exception_ptr(E(channel, code, std::move(text), class_id, method_id));
}

constexpr uint16_t kNoRoute = 312;  // in RabbitMQ's basic.return; the extended spec XML lacks it

}  // namespace

std::exception_ptr make_close_error(CloseScope scope, uint16_t reply_code, std::string reply_text,
                                    uint16_t class_id, uint16_t method_id, uint16_t channel) {
    const uint16_t c = reply_code;
    std::string& t = reply_text;
    if (scope == CloseScope::connection) {
        switch (reply_code) {
            case spec::kConnectionForced:
                return connection_error<ConnectionForcedError>(c, t, class_id, method_id);
            case spec::kInvalidPath:
                return connection_error<InvalidPathError>(c, t, class_id, method_id);
            case spec::kAccessRefused:
                return connection_error<ConnectionAccessRefusedError>(c, t, class_id, method_id);
            case spec::kFrameError:
                return connection_error<BrokerFrameError>(c, t, class_id, method_id);
            case spec::kSyntaxError:
                return connection_error<BrokerSyntaxError>(c, t, class_id, method_id);
            case spec::kCommandInvalid:
                return connection_error<CommandInvalidError>(c, t, class_id, method_id);
            case spec::kChannelError:
                return connection_error<ChannelProtocolError>(c, t, class_id, method_id);
            case spec::kUnexpectedFrame:
                return connection_error<UnexpectedFrameError>(c, t, class_id, method_id);
            case spec::kResourceError:
                return connection_error<ResourceError>(c, t, class_id, method_id);
            case spec::kNotAllowed:
                return connection_error<NotAllowedError>(c, t, class_id, method_id);
            case spec::kNotImplemented:
                return connection_error<NotImplementedError>(c, t, class_id, method_id);
            case spec::kInternalError:
                return connection_error<InternalError>(c, t, class_id, method_id);
            default:
                return connection_error<ConnectionClosedError>(c, t, class_id, method_id);
        }
    }
    switch (reply_code) {
        case spec::kContentTooLarge:
            return channel_error<ContentTooLargeError>(channel, c, t, class_id, method_id);
        case kNoRoute:
            return channel_error<NoRouteError>(channel, c, t, class_id, method_id);
        case spec::kNoConsumers:
            return channel_error<NoConsumersError>(channel, c, t, class_id, method_id);
        case spec::kAccessRefused:
            return channel_error<ChannelAccessRefusedError>(channel, c, t, class_id, method_id);
        case spec::kNotFound:
            return channel_error<NotFoundError>(channel, c, t, class_id, method_id);
        case spec::kResourceLocked:
            return channel_error<ResourceLockedError>(channel, c, t, class_id, method_id);
        case spec::kPreconditionFailed:
            return channel_error<PreconditionFailedError>(channel, c, t, class_id, method_id);
        default:
            return channel_error<ChannelClosedError>(channel, c, t, class_id, method_id);
    }
}

MessageNackedError::MessageNackedError(uint64_t delivery_tag)
    : Error("message with delivery tag " + std::to_string(delivery_tag) + " was nacked by the broker"),
      delivery_tag_(delivery_tag) {}

MessageReturnedError::MessageReturnedError(uint16_t reply_code, std::string reply_text, std::string exchange,
                                           std::string routing_key)
    : Error("message returned by the broker: " + std::to_string(reply_code) + " " + reply_text +
            " (exchange '" + exchange + "', routing key '" + routing_key + "')"),
      reply_code_(reply_code),
      reply_text_(std::move(reply_text)),
      exchange_(std::move(exchange)),
      routing_key_(std::move(routing_key)) {}

}  // namespace squall::amqp
