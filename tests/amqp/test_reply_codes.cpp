// Every reply code RabbitMQ can be made to send, provoked on the real broker and caught as its typed
// error (the table in amqp/errors.hpp): through squall's own API where it can send the offending method,
// otherwise through a proxy between squall and the broker that injects the offending frame into the
// client's stream (the broker answers with connection.close, which squall maps).
//
// Not provokable on RabbitMQ 3.10, so covered by make_close_error's table test (test_codec_errors.cpp)
// only: 311 and 313 (RabbitMQ answers 406 and 540 instead), 402 (it answers 530), 502 (a malformed table
// resets the connection), 506 and 541 (resource and internal failures).
#include <doctest/doctest.h>

#include <string>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/detail/wire.hpp"
#include "squall/coro/locks.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

template <class E>
void check_close(const std::exception_ptr& e, uint16_t code, const char* text) {
    REQUIRE_MESSAGE(holds<E>(e), test::what_of<std::exception>(e));
    try {
        std::rethrow_exception(e);
    } catch (const ClosedError& err) {
        CHECK(err.reply_code() == code);
        CHECK_MESSAGE(err.reply_text().find(text) != std::string::npos, err.reply_text());
    }
}

// Copies `from` to `to` until either side closes.
Task<void> pump(std::shared_ptr<IOStream> from, std::shared_ptr<IOStream> to) {
    try {
        for (;;) {
            std::string chunk = co_await from->read_bytes_partial(65536);
            to->write_buffered(std::move(chunk));
        }
    } catch (...) {
        // One side closed: the proxied connection is over.
    }
    if (!to->closed()) to->close();
}

// A TCP proxy in front of the broker; inject() writes raw bytes into the client-to-broker direction.
struct InjectingProxy {
    std::string broker_host;
    uint16_t broker_port = 0;
    std::shared_ptr<IOStream> upstream;
    Event done;  // set once both pumps have ended

    Task<void> serve(std::shared_ptr<IOStream> client) {
        co_await forward(std::move(client));
        done.set();
    }

    Task<void> forward(std::shared_ptr<IOStream> client) {
        TCPClient connector(client->loop());
        std::shared_ptr<IOStream> up;
        try {
            up = co_await connector.connect(broker_host, broker_port);
        } catch (...) {
            client->close();
            co_return;
        }
        upstream = up;
        auto a = start(pump(client, up));
        auto b = start(pump(up, client));
        co_await a;
        co_await b;
    }
};

// Opens a connection and channel 1 through the proxy, injects `bytes` and returns the connection's close
// reason (the broker's connection.close).
Task<std::exception_ptr> close_after_injecting(IOLoop& loop, const std::string& url, std::string bytes) {
    auto broker = ConnectionOptions::from_url(url);
    auto proxy = std::make_shared<InjectingProxy>();
    proxy->broker_host = broker.host;
    proxy->broker_port = broker.port;
    TCPServer server(loop, [proxy](std::shared_ptr<IOStream> s, SocketAddress) { return proxy->serve(s); });
    server.listen(0, "127.0.0.1");
    ConnectionOptions options = broker;
    options.port = server.port();
    auto conn = co_await Connection::open(loop, options);
    auto ch = co_await conn->channel();
    REQUIRE(ch->id() == 1);
    REQUIRE(proxy->upstream);
    proxy->upstream->write_buffered(bytes);
    co_await with_timeout(10s, conn->wait_closed());
    std::exception_ptr reason = conn->close_reason();
    CHECK(ch->close_reason() != nullptr);
    server.stop(true);
    co_await server.stopped();
    // The client's socket is closed, so the pumps see its end: wait for them, or the loop would end
    // with their frames suspended (ASan reports them as leaks).
    co_await with_timeout(10s, proxy->done.wait());
    co_return reason;
}

std::string method_frame(uint16_t channel, const spec::Method& m) {
    std::string out;
    append_method_frame(out, channel, m);
    return out;
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("reply codes: 530 for a vhost the user may not access is NotAllowedError", 120s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        const std::string vhost = unique_name("no-access");
        testing::rabbitmqctl({"add_vhost", vhost});  // guest has no permissions on it
        auto options = ConnectionOptions::from_url(url);
        options.vhost = vhost;
        std::exception_ptr e = co_await error_of(Connection::open(loop, options));
        testing::try_rabbitmqctl({"delete_vhost", vhost});
        check_close<NotAllowedError>(e, 530, "NOT_ALLOWED");
        CHECK(holds<ConnectionClosedError>(e));
        CHECK_FALSE(holds<AccessRefusedError>(e));
        CHECK(test::what_of<NotAllowedError>(e).find("connection closed: 530") != std::string::npos);
    }

    SQUALL_TEST_CASE("reply codes: 320 from rabbitmqctl close_connection is ConnectionForcedError", 120s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        std::vector<std::string> items{"pid"};
        std::string pid = co_await squall::amqp::test::broker_connection_info(loop, *conn, items);
        REQUIRE(!pid.empty());
        testing::rabbitmqctl({"close_connection", pid, "closed by the squall test"});
        co_await with_timeout(10s, conn->wait_closed());
        check_close<ConnectionForcedError>(conn->close_reason(), 320, "closed by the squall test");
    }

    SQUALL_TEST_CASE("reply codes: 403, 404, 405 and 406 close the channel with their class", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        auto other = co_await Connection::open(loop, url);
        {
            auto ch = co_await conn->channel();
            QueueDeclareOptions o{.passive = true};
            auto declare = ch->queue_declare(unique_name("missing"), o);
            auto e = co_await error_of(std::move(declare));
            check_close<NotFoundError>(e, 404, "NOT_FOUND");
        }
        {
            auto ch = co_await conn->channel();
            auto declare = ch->queue_declare("amq.squall-reserved");
            auto e = co_await error_of(std::move(declare));
            check_close<ChannelAccessRefusedError>(e, 403, "ACCESS_REFUSED");
            CHECK(holds<AccessRefusedError>(e));
        }
        const std::string exclusive = unique_name("exclusive");
        {
            auto owner = co_await other->channel();
            QueueDeclareOptions o{.exclusive = true};
            co_await owner->queue_declare(exclusive, o);
            auto ch = co_await conn->channel();
            auto declare = ch->queue_declare(exclusive, o);
            auto e = co_await error_of(std::move(declare));
            check_close<ResourceLockedError>(e, 405, "RESOURCE_LOCKED");
        }
        {
            auto ch = co_await conn->channel();
            const std::string q = unique_name("precondition");
            QueueDeclareOptions plain{.auto_delete = true};
            co_await ch->queue_declare(q, plain);
            QueueDeclareOptions durable{.durable = true};
            auto declare = ch->queue_declare(q, durable);
            auto e = co_await error_of(std::move(declare));
            check_close<PreconditionFailedError>(e, 406, "PRECONDITION_FAILED");
        }
        CHECK(conn->is_open());
        co_await other->close();
        co_await conn->close();
    }

    SQUALL_TEST_CASE("reply codes: 503 for an unknown exchange type is CommandInvalidError", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto declare = ch->exchange_declare(unique_name("ex"), "no-such-type");
        auto e = co_await error_of(std::move(declare));
        check_close<CommandInvalidError>(e, 503, "COMMAND_INVALID");
        co_await conn->wait_closed();
        check_close<CommandInvalidError>(conn->close_reason(), 503, "COMMAND_INVALID");
    }

    SQUALL_TEST_CASE("reply codes: 540 for channel.flow(false) is NotImplementedError", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto e = co_await error_of(ch->flow(false));
        check_close<NotImplementedError>(e, 540, "NOT_IMPLEMENTED");
        // 540 closes the connection: wait until its reader is gone (else the loop ends with it suspended).
        co_await conn->wait_closed();
        check_close<NotImplementedError>(conn->close_reason(), 540, "NOT_IMPLEMENTED");
    }

    SQUALL_TEST_CASE("reply codes: 312 NO_ROUTE comes back as MessageReturnedError", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        co_await ch->confirm_select();
        BasicPublishOptions po{.mandatory = true};
        const std::string nowhere = unique_name("nowhere");
        Confirmation returned = ch->basic_publish("", nowhere, "x", {}, po);
        auto e = co_await error_of(std::move(returned));
        REQUIRE(holds<MessageReturnedError>(e));
        try {
            std::rethrow_exception(e);
        } catch (const MessageReturnedError& err) {
            CHECK(err.reply_code() == 312);
            CHECK(err.reply_text() == "NO_ROUTE");
        }
        co_await conn->close();
    }

    SQUALL_TEST_CASE("reply codes: 501, 504 and 505 for frames the broker refuses", 40s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        // 501: a frame whose end octet is wrong.
        std::string bad_end = method_frame(1, spec::BasicQos{.prefetch_count = 1});
        bad_end.back() = 0;
        auto e501_task = close_after_injecting(loop, url, bad_end);
        auto e501 = co_await std::move(e501_task);
        check_close<BrokerFrameError>(e501, 501, "FRAME_ERROR");
        // 504: a method on a channel that was never opened, and a second channel.open on an open one.
        std::string unopened = method_frame(7, spec::QueueDeclare{.queue = "q"});
        auto e504_task = close_after_injecting(loop, url, unopened);
        auto e504 = co_await std::move(e504_task);
        check_close<ChannelProtocolError>(e504, 504, "expected 'channel.open'");
        std::string reopen = method_frame(1, spec::ChannelOpen{});
        auto e504b_task = close_after_injecting(loop, url, reopen);
        auto e504b = co_await std::move(e504b_task);
        check_close<ChannelProtocolError>(e504b, 504, "second 'channel.open'");
        // 505: a content body without a content method before it.
        std::string body = frame(spec::kFrameBody, 1, "abc");
        auto e505_task = close_after_injecting(loop, url, body);
        auto e505 = co_await std::move(e505_task);
        check_close<UnexpectedFrameError>(e505, 505, "UNEXPECTED_FRAME");
    }
}
