// squall::amqp::messaging — the kombu-style layer: entities (Exchange, Queue, Binding), Producer,
// Consumer, Message, SimpleQueue, ConsumerMixin, and BrokerConnection (failover, ensure_connection,
// ensure, automatic recovery). Link squall::messaging.
//
//     auto conn = co_await squall::amqp::BrokerConnection::open(loop, "amqp://guest:guest@127.0.0.1:5672/");
//     squall::amqp::Exchange media{"media", "direct"};
//     squall::amqp::Queue video{"video", media, "video"};
//     squall::amqp::Producer producer(conn, {.exchange = media, .serializer = "json"});
//     squall::amqp::Consumer consumer(conn, {video}, {.prefetch_count = 100});
//
// The layer's main types are also available in squall::amqp (below): squall::amqp::Consumer, Message and
// PublishOptions are this layer's. The low-level client they are built on names its own types after what
// they are (amqp::ChannelConsumer, amqp::Delivery, amqp::BasicPublishOptions), so each name has one meaning.
#pragma once

#include "squall/amqp/messaging/broker_connection.hpp"
#include "squall/amqp/messaging/compression.hpp"
#include "squall/amqp/messaging/consumer.hpp"
#include "squall/amqp/messaging/entity.hpp"
#include "squall/amqp/messaging/errors.hpp"
#include "squall/amqp/messaging/message.hpp"
#include "squall/amqp/messaging/mixins.hpp"
#include "squall/amqp/messaging/producer.hpp"
#include "squall/amqp/messaging/retry.hpp"
#include "squall/amqp/messaging/simple_queue.hpp"

namespace squall::amqp {
using messaging::Binding;
using messaging::BrokerConnection;
using messaging::BrokerOptions;
using messaging::Consumer;
using messaging::ConsumerMixin;
using messaging::ConsumerOptions;
using messaging::Exchange;
using messaging::Message;
using messaging::Producer;
using messaging::ProducerOptions;
using messaging::PublishOptions;
using messaging::Queue;
using messaging::RetryPolicy;
using messaging::SimpleQueue;
}  // namespace squall::amqp
