// The steps most tests against the private RabbitMQ begin with or wait on, written once:
//
//     SQUALL_TEST_CASE("basic.get returns what was published", 10s) {
//         SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);    // a Connection to amqp_url() and a channel on it
//         auto q = co_await squall::testing::exclusive_queue(*ch);
//         ch->basic_publish("", q.queue, "hello");
//         auto m = co_await squall::testing::get_when_routed(loop, *ch, q.queue);
//         REQUIRE(m);
//         CHECK(m->body == "hello");
//         co_await conn->close();
//     }
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/support/rabbitmq_fixture.hpp"

// The prologue of a test coroutine (the body of a SQUALL_TEST_CASE, with `loop` in scope) that needs one
// channel: declares `url` as SQUALL_AMQP_URL_OR_RETURN does (returns when the broker is missing and that is
// allowed), `conn` = Connection::open(loop, url) and `ch` = conn->channel().
#define SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch)                  \
    SQUALL_AMQP_URL_OR_RETURN(url);                                   \
    auto conn = co_await ::squall::amqp::Connection::open(loop, url); \
    auto ch = co_await conn->channel()

namespace squall::testing {

// queue.declare of a server-named exclusive queue (gone with the connection). The options are named here:
// a braced temporary inside the caller's co_await would be destroyed twice by GCC 12.
inline Task<amqp::QueueDeclareResult> exclusive_queue(amqp::Channel& ch) {
    amqp::QueueDeclareOptions exclusive{.exclusive = true};
    co_return co_await ch.queue_declare("", exclusive);
}

// basic.get (no_ack) on `queue` until it returns a message or 50 tries 20 ms apart found none: the broker
// routes a publish asynchronously, so a get right after it may find the queue still empty. nullopt when
// nothing came.
inline Task<std::optional<amqp::Delivery>> get_when_routed(IOLoop& loop, amqp::Channel& ch,
                                                           std::string queue) {
    std::optional<amqp::Delivery> got;
    for (int attempt = 0; attempt < 50 && !got; ++attempt) {
        got = co_await ch.basic_get(queue, true);
        if (!got) co_await squall::sleep(loop, std::chrono::milliseconds(20));
    }
    co_return got;
}

}  // namespace squall::testing
