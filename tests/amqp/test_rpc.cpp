// RpcClient / RpcServer (amqp/rpc.hpp) against RabbitMQ: call and reply in both reply modes, 1,000 calls in
// flight, timeouts with the late reply dropped, handler errors, unroutable requests, acks after replies.
#include <doctest/doctest.h>

#include <set>
#include <squall/testing.hpp>
#include <string>
#include <vector>

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/rpc.hpp"
#include "squall/coro/gather.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

// Replies "echo:<body>"; "fail" throws; "slow:<ms>" sleeps first.
RpcHandler echo_handler(IOLoop& loop) {
    return [&loop](const Delivery& request) -> Task<std::string> {
        if (request.body == "fail") throw std::runtime_error("the handler refused 'fail'");
        if (request.body.rfind("slow:", 0) == 0)
            co_await squall::sleep(loop, std::chrono::milliseconds(std::stoi(request.body.substr(5))));
        co_return "echo:" + request.body;
    };
}

QueueDeclareOptions auto_delete_queue() {
    return QueueDeclareOptions{.auto_delete = true};
}

Task<std::string> call_one(RpcClient& client, std::string queue, std::string body) {
    co_return co_await client.call(std::move(queue), std::move(body), 10s);
}

Task<void> round_trip(IOLoop& loop, ReplyMode mode) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    auto conn = co_await Connection::open(loop, url);
    std::string queue = unique_name("rpc");
    RpcServerOptions server_options{.prefetch_count = 4, .queue = auto_delete_queue()};
    auto server = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                            std::move(server_options));
    RpcClientOptions client_options{.reply_mode = mode};
    auto client = co_await RpcClient::create(co_await conn->channel(), std::move(client_options));
    if (mode == ReplyMode::direct_reply_to) {
        CHECK(client->reply_to() == kDirectReplyTo);
    } else {
        CHECK(client->reply_to().rfind("amq.gen-", 0) == 0);  // server-named
    }
    CHECK(co_await client->call(queue, "hello", 5s) == "echo:hello");
    Delivery reply = co_await client->call_message(queue, std::string("\0bin\xff", 5), 5s);
    CHECK(reply.body == std::string("echo:\0bin\xff", 10));
    REQUIRE(reply.properties.correlation_id.has_value());
    CHECK(client->in_flight() == 0);
    co_await server->stop();
    CHECK(server->handled() == 2);
    co_await client->close();
    co_await conn->close();
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("rpc: a call gets its reply through direct reply-to", 20s) {
        co_await round_trip(loop, ReplyMode::direct_reply_to);
    }

    SQUALL_TEST_CASE("rpc: a call gets its reply through an exclusive callback queue", 20s) {
        co_await round_trip(loop, ReplyMode::callback_queue);
    }

    SQUALL_TEST_CASE("rpc: 1,000 calls in flight each get their own reply", 60s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::string queue = unique_name("rpc-many");
        RpcServerOptions server_options{.prefetch_count = 100, .queue = auto_delete_queue()};
        auto server = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                                std::move(server_options));
        auto client = co_await RpcClient::create(co_await conn->channel());
        std::vector<Task<std::string>> calls;
        for (int i = 0; i < 1000; ++i) calls.push_back(call_one(*client, queue, std::to_string(i)));
        std::vector<std::string> replies = co_await gather(std::move(calls));
        REQUIRE(replies.size() == 1000);
        for (int i = 0; i < 1000; ++i) CHECK(replies[static_cast<size_t>(i)] == "echo:" + std::to_string(i));
        CHECK(client->in_flight() == 0);
        CHECK(client->late_replies() == 0);
        CHECK(server->handled() == 1000);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("rpc: a call without a reply in time fails with TimeoutError; the late reply is dropped",
                     20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::string queue = unique_name("rpc-timeout");
        RpcServerOptions server_options{.prefetch_count = 4, .queue = auto_delete_queue()};
        auto server = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                                std::move(server_options));
        auto client = co_await RpcClient::create(co_await conn->channel());
        auto t0 = loop.time();
        auto e = co_await error_of(client->call(queue, "slow:400", 100ms));
        REQUIRE(holds<TimeoutError>(e));
        CHECK(loop.time() - t0 < 350ms);
        CHECK(what_of<TimeoutError>(e).find("no reply within 100 ms") != std::string::npos);
        CHECK(client->in_flight() == 0);
        // The slow reply arrives later and is dropped; the next call still gets its own reply.
        co_await squall::sleep(loop, 500ms);
        CHECK(client->late_replies() == 1);
        CHECK(co_await client->call(queue, "after", 5s) == "echo:after");
        co_await conn->close();
    }

    SQUALL_TEST_CASE("rpc: a handler error reaches the caller as RpcError and the request is acked", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::string queue = unique_name("rpc-error");
        RpcServerOptions server_options{.prefetch_count = 1, .queue = QueueDeclareOptions{}};
        auto server = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                                std::move(server_options));
        auto client = co_await RpcClient::create(co_await conn->channel());
        auto e = co_await error_of(client->call(queue, "fail", 5s));
        REQUIRE(holds<RpcError>(e));
        CHECK(what_of<RpcError>(e).find("the handler refused 'fail'") != std::string::npos);
        CHECK(server->failed() == 1);
        // The server goes on, and nothing is left unacked or queued.
        CHECK(co_await client->call(queue, "ok", 5s) == "echo:ok");
        co_await server->stop();
        auto ch = co_await conn->channel();
        QueueDeclareOptions passive{.passive = true};
        auto state = co_await ch->queue_declare(queue, std::move(passive));
        CHECK(state.message_count == 0);
        co_await ch->queue_delete(queue);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("rpc: a request is acked only after its reply: unanswered, it is redelivered", 30s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::string queue = unique_name("rpc-ack");
        // The first server's handler parks until released, so the request sits unacked while it runs.
        Event release;
        RpcHandler parked = [&release](const Delivery& request) -> Task<std::string> {
            co_await release.wait();
            co_return "parked:" + request.body;
        };
        auto server_channel = co_await conn->channel();
        RpcServerOptions server_options{.prefetch_count = 1, .queue = QueueDeclareOptions{}};
        auto server = co_await RpcServer::start(server_channel, queue, parked, std::move(server_options));
        auto client = co_await RpcClient::create(co_await conn->channel());
        Future<std::string> reply = squall::start(client->call(queue, "x", 20s));
        while (server->in_progress() == 0) co_await squall::sleep(loop, 5ms);

        // Delivered, not acked: the queue holds no ready message. The server's channel dies mid-request.
        auto observer = co_await conn->channel();
        QueueDeclareOptions passive{.passive = true};
        CHECK((co_await observer->queue_declare(queue, passive)).message_count == 0);
        co_await server_channel->close();
        uint32_t ready = 0;
        for (int i = 0; i < 200 && ready == 0; ++i) {
            ready = (co_await observer->queue_declare(queue, passive)).message_count;
            if (ready == 0) co_await squall::sleep(loop, 10ms);
        }
        CHECK(ready == 1);  // requeued by the broker: it was never acked
        release.set();      // the parked handler finishes; its reply cannot be sent on the closed channel
        co_await server->stop();
        CHECK(server->handled() == 0);
        CHECK_FALSE(reply.done());

        // A new server answers the redelivered request, and the waiting call gets that answer.
        RpcServerOptions second_options{.prefetch_count = 1, .declare = false};
        auto second = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                                std::move(second_options));
        CHECK(co_await reply == "echo:x");
        CHECK(second->handled() == 1);
        CHECK((co_await observer->queue_declare(queue, passive)).message_count == 0);
        co_await observer->queue_delete(queue);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("rpc: an unroutable request fails at once with MessageReturnedError", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        auto client = co_await RpcClient::create(co_await conn->channel());
        auto t0 = loop.time();
        auto e = co_await error_of(client->call(unique_name("nobody-listens"), "hi", 5s));
        REQUIRE(holds<MessageReturnedError>(e));
        CHECK(loop.time() - t0 < 2s);
        CHECK(client->in_flight() == 0);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("rpc: a request without reply_to is rejected and the server goes on", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::string queue = unique_name("rpc-noreply");
        RpcServerOptions server_options{.prefetch_count = 2, .queue = auto_delete_queue()};
        auto server = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                                std::move(server_options));
        auto raw = co_await conn->channel();
        co_await raw->basic_publish("", queue, "no reply_to");
        auto client = co_await RpcClient::create(co_await conn->channel());
        CHECK(co_await client->call(queue, "fine", 5s) == "echo:fine");
        CHECK(server->rejected() == 1);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("rpc: pending calls fail with the close reason when the client's channel closes", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::string queue = unique_name("rpc-close");
        RpcServerOptions server_options{.prefetch_count = 4, .queue = auto_delete_queue()};
        auto server = co_await RpcServer::start(co_await conn->channel(), queue, echo_handler(loop),
                                                std::move(server_options));
        auto client = co_await RpcClient::create(co_await conn->channel());
        Future<std::string> slow = squall::start(client->call(queue, "slow:2000", 10s));
        co_await squall::sleep(loop, 50ms);
        CHECK(client->in_flight() == 1);
        co_await client->channel()->close();
        auto e = co_await error_of(slow);
        CHECK(e != nullptr);
        CHECK(holds<ChannelClosedError>(e));
        CHECK(client->in_flight() == 0);
        co_await server->stop();
        co_await conn->close();
    }
}
