// amqp::Delivery: a message as the broker hands it to the client: delivered to a consumer (basic.deliver),
// fetched (basic.get-ok) or returned (basic.return), with its body, its 14 properties and the delivery
// facts. The kombu-style messaging::Message wraps one and adds decode() and ack-once settling.
//
//     auto msg = co_await consumer->next();
//     std::cout << msg.routing_key << ": " << msg.body << "\n";
//     channel->basic_ack(msg.delivery_tag);
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "squall/amqp/properties.hpp"

namespace squall::amqp {

// One message from the broker (see the top of this file).
struct Delivery {
    std::string body{};            // the content body, as it arrived
    BasicProperties properties{};  // the content header's properties
    uint64_t delivery_tag = 0;     // 0 for a returned message
    bool redelivered = false;      // delivered before and not acknowledged (basic.deliver and get-ok)
    std::string exchange{};        // the exchange it was published to
    std::string routing_key{};     // the routing key it was published with
    std::string consumer_tag{};    // basic.deliver only
    std::optional<uint32_t> message_count{};  // basic.get-ok only: messages left in the queue
    uint16_t channel = 0;                     // the channel it arrived on
};

// A mandatory message the broker could not route (basic.return).
struct ReturnedMessage {
    uint16_t reply_code = 0;   // 312 NO_ROUTE, 313 NO_CONSUMERS
    std::string reply_text{};  // the broker's reason, e.g. "NO_ROUTE"
    Delivery message{};        // delivery_tag 0; exchange and routing_key as published
};

}  // namespace squall::amqp
