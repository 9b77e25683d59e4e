#include "amqp/errors.hpp"

#include <string_view>

#include "amqp/spec.hpp"

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

// reply_text is copied, not moved, into the base: the message is built from it in the same call and the
// order in which arguments are evaluated is unspecified.
ConnectionClosedError::ConnectionClosedError(uint16_t reply_code, std::string reply_text, uint16_t class_id,
                                             uint16_t method_id)
    : ClosedError("connection closed: " + describe_close(reply_code, reply_text, class_id, method_id),
                  reply_code, reply_text, class_id, method_id) {}

ChannelClosedError::ChannelClosedError(uint16_t channel, uint16_t reply_code, std::string reply_text,
                                       uint16_t class_id, uint16_t method_id)
    : ClosedError("channel " + std::to_string(channel) +
                      " closed: " + describe_close(reply_code, reply_text, class_id, method_id),
                  reply_code, reply_text, class_id, method_id),
      channel_(channel) {}

std::exception_ptr make_close_error(CloseScope scope, uint16_t reply_code, std::string reply_text,
                                    uint16_t class_id, uint16_t method_id, uint16_t channel) {
    if (scope == CloseScope::connection) {
        return std::make_exception_ptr(
            ConnectionClosedError(reply_code, std::move(reply_text), class_id, method_id));
    }
    switch (reply_code) {
        case spec::kAccessRefused:
            return std::make_exception_ptr(
                AccessRefusedError(channel, reply_code, std::move(reply_text), class_id, method_id));
        case spec::kNotFound:
            return std::make_exception_ptr(
                NotFoundError(channel, reply_code, std::move(reply_text), class_id, method_id));
        case spec::kResourceLocked:
            return std::make_exception_ptr(
                ResourceLockedError(channel, reply_code, std::move(reply_text), class_id, method_id));
        case spec::kPreconditionFailed:
            return std::make_exception_ptr(
                PreconditionFailedError(channel, reply_code, std::move(reply_text), class_id, method_id));
        default:
            return std::make_exception_ptr(
                ChannelClosedError(channel, reply_code, std::move(reply_text), class_id, method_id));
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
