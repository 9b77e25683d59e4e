// Connection: URL parsing, handshake against RabbitMQ, failures (refused, credentials, vhost, not AMQP,
// timeout), graceful close both ways, blocked state.
#include <doctest/doctest.h>

#include <sstream>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

TEST_SUITE("amqp") {
    TEST_CASE("parse_url reads every part and applies the defaults") {
        Url d = parse_url("amqp://");
        CHECK(d.user == "guest");
        CHECK(d.password == "guest");
        CHECK(d.host == "localhost");
        CHECK(d.port == 5672);
        CHECK(d.vhost == "/");
        CHECK_FALSE(d.tls);

        Url u = parse_url(
            "amqp://us%40er:p%3Ass@example.com:5673/my%2fvhost?heartbeat=10&frame_max=8192&"
            "channel_max=64&connection_timeout=2.5");
        CHECK(u.user == "us@er");
        CHECK(u.password == "p:ss");
        CHECK(u.host == "example.com");
        CHECK(u.port == 5673);
        CHECK(u.vhost == "my/vhost");
        CHECK(u.heartbeat == 10);
        CHECK(u.frame_max == 8192u);
        CHECK(u.channel_max == 64);
        CHECK(u.connection_timeout == std::chrono::milliseconds(2500));

        CHECK(parse_url("amqp://h/%2f").vhost == "/");
        CHECK(parse_url("amqp://h//").vhost == "/");
        CHECK(parse_url("amqp://h/").vhost == "/");
        CHECK(parse_url("amqp://h/v").vhost == "v");
        Url s = parse_url("amqps://[::1]/?verify=none");
        CHECK(s.tls);
        CHECK(s.port == 5671);
        CHECK(s.host == "::1");
        CHECK(s.verify_peer == false);

        CHECK_THROWS_AS(parse_url("http://h/"), UsageError);
        CHECK_THROWS_AS(parse_url("amqp://h:99999/"), UsageError);
        CHECK_THROWS_AS(parse_url("amqp://h/?hearbeat=1"), UsageError);
        CHECK_THROWS_AS(parse_url("amqp://h/%zz"), UsageError);
        CHECK_THROWS_AS(parse_url("amqp://h/a/b"), UsageError);
        CHECK_THROWS_AS(parse_url("amqp://h/?verify=none"), UsageError);  // TLS options need amqps
    }

    TEST_CASE("AccessRefusedError catches a refused login and a refused channel operation") {
        auto login =
            make_close_error(CloseScope::connection, 403, "ACCESS_REFUSED - Login was refused", 10, 11);
        CHECK(holds<AccessRefusedError>(login));
        CHECK(holds<ConnectionClosedError>(login));
        CHECK(holds<ConnectionAccessRefusedError>(login));
        CHECK_FALSE(holds<ChannelClosedError>(login));
        CHECK(holds<squall::Error>(login));
        auto ch = make_close_error(CloseScope::channel, 403, "ACCESS_REFUSED - no", 40, 10, 2);
        CHECK(holds<AccessRefusedError>(ch));
        CHECK(holds<ChannelClosedError>(ch));
        CHECK_FALSE(holds<ConnectionClosedError>(ch));
        CHECK(holds<ClosedError>(ch));
        HeartbeatTimeoutError hb(std::chrono::milliseconds(2000));
        CHECK(std::string(hb.what()).find("2000 ms") != std::string::npos);
        CHECK(hb.reply_code() == 0);
    }

    SQUALL_TEST_CASE("open negotiates tune values and close is graceful", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url + "?heartbeat=30&frame_max=65536&channel_max=100");
        CHECK(conn->is_open());
        CHECK(conn->frame_max() == 65536u);
        CHECK(conn->channel_max() == 100);
        CHECK(conn->heartbeat() == 30s);
        CHECK(conn->server_properties().find("product") != nullptr);
        auto ch = co_await conn->channel();
        CHECK(ch->id() == 1);
        co_await conn->close();
        CHECK(conn->is_closed());
        CHECK(ch->is_closed());
        CHECK(holds<ConnectionClosedError>(conn->close_reason()));
        // Operations after close fail with the close reason.
        auto e = co_await error_of(conn->channel());
        CHECK(holds<ConnectionClosedError>(e));
        co_await conn->close();  // idempotent
    }

    SQUALL_TEST_CASE("heartbeat 0 from the client disables heartbeats", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url + "?heartbeat=0");
        CHECK(conn->heartbeat() == 0s);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("open with the other SASL mechanism and a named vhost", 20s) {
        auto url = testing::amqp_vhost_url();
        if (url.empty()) co_return;
        auto options = ConnectionOptions::from_url(url);
        CHECK(options.vhost == "squall-test");
        options.mechanism = SaslMechanism::amqplain;
        options.connection_name = "squall amqplain test";
        auto conn = co_await Connection::open(loop, options);
        auto ch = co_await conn->channel();
        auto q = co_await exclusive_queue(*ch);
        CHECK(q.queue.rfind("amq.gen-", 0) == 0);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("wrong password raises AccessRefusedError", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto options = ConnectionOptions::from_url(url);
        options.password = "not-the-password";
        auto e = co_await error_of(Connection::open(loop, options));
        REQUIRE(e);
        CHECK(holds<AccessRefusedError>(e));
        CHECK(holds<ConnectionClosedError>(e));
        CHECK(test::what_of<squall::Error>(e).find("ACCESS_REFUSED") != std::string::npos);
    }

    SQUALL_TEST_CASE("unknown vhost raises NotAllowedError 530", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto options = ConnectionOptions::from_url(url);
        options.vhost = unique_name("no-such-vhost");
        std::exception_ptr e = co_await error_of(Connection::open(loop, options));
        REQUIRE(holds<NotAllowedError>(e));
        try {
            std::rethrow_exception(e);
        } catch (const ConnectionClosedError& err) {
            CHECK(err.reply_code() == 530);
            CHECK(err.reply_text().find("NOT_ALLOWED") != std::string::npos);
        }
    }

    SQUALL_TEST_CASE("connection refused is a ConnectError", 10s) {
        // Bind a port, then close it: nothing listens there.
        TCPServer server(loop, [](std::shared_ptr<IOStream>, SocketAddress) -> Task<void> { co_return; });
        server.listen(0, "127.0.0.1");
        uint16_t port = server.port();
        server.stop();
        co_await server.stopped();
        auto e = co_await error_of(
            Connection::open(loop, "amqp://guest:guest@127.0.0.1:" + std::to_string(port) + "/"));
        CHECK(holds<ConnectionRefusedError>(e));
    }

    SQUALL_TEST_CASE("a peer that answers HTTP is reported as not AMQP", 10s) {
        TCPServer server(loop, [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
            co_await s->read_bytes(8);
            co_await s->write("HTTP/1.1 400 Bad Request\r\n\r\n");
            co_await s->close_after_flush();
        });
        server.listen(0, "127.0.0.1");
        auto e = co_await error_of(
            Connection::open(loop, "amqp://127.0.0.1:" + std::to_string(server.port()) + "/"));
        REQUIRE(holds<FrameError>(e));
        auto what = test::what_of<FrameError>(e);
        CHECK(what.find("is not an AMQP 0-9-1 broker") != std::string::npos);
        CHECK(what.find("HTTP/1.1 400 Bad Request") != std::string::npos);
        server.stop(true);
        co_await server.stopped();
        co_await squall::sleep(loop, 50ms);
    }

    SQUALL_TEST_CASE("a peer that answers another protocol header is reported", 10s) {
        TCPServer server(loop, [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
            co_await s->read_bytes(8);
            co_await s->write(std::string("AMQP\x01\x01\x00\x0a", 8));
            co_await s->close_after_flush();
        });
        server.listen(0, "127.0.0.1");
        auto e = co_await error_of(
            Connection::open(loop, "amqp://127.0.0.1:" + std::to_string(server.port()) + "/"));
        REQUIRE(holds<FrameError>(e));
        CHECK(test::what_of<FrameError>(e).find("protocol header AMQP 1-1-0-10") != std::string::npos);
        server.stop(true);
        co_await server.stopped();
        co_await squall::sleep(loop, 50ms);
    }

    SQUALL_TEST_CASE("a silent peer hits connection_timeout", 10s) {
        TCPServer server(loop, [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
            try {
                co_await s->read_until_close();
            } catch (...) {
            }
        });
        server.listen(0, "127.0.0.1");
        auto t0 = loop.time();
        auto e = co_await error_of(Connection::open(
            loop, "amqp://127.0.0.1:" + std::to_string(server.port()) + "/?connection_timeout=0.3"));
        REQUIRE(holds<TimeoutError>(e));
        CHECK(test::what_of<TimeoutError>(e).find("connection.start") != std::string::npos);
        CHECK(loop.time() - t0 < 2s);
        server.stop(true);
        co_await server.stopped();
        co_await squall::sleep(loop, 50ms);  // the handler sees the close and ends
    }

    SQUALL_TEST_CASE("broker closing the connection fails pending operations with 320", 60s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto options = ConnectionOptions::from_url(url);
        options.connection_name = unique_name("close-me");
        auto conn = co_await Connection::open(loop, options);
        auto ch = co_await conn->channel();
        auto q = co_await exclusive_queue(*ch);
        auto consumer = co_await ch->consume(q.queue);
        Future<Delivery> pending = consumer->next();

        // Find the connection's pid by its client-side port and close it.
        std::vector<std::string> items{"pid"};  // named: GCC 12 rejects a braced literal list in co_await
        std::string pid = co_await squall::amqp::test::broker_connection_info(loop, *conn, items);
        REQUIRE(!pid.empty());
        testing::rabbitmqctl({"close_connection", pid, "closed by the squall test"});
        auto e = co_await error_of(pending);
        REQUIRE(holds<ConnectionForcedError>(e));
        try {
            std::rethrow_exception(e);
        } catch (const ConnectionClosedError& err) {
            CHECK(err.reply_code() == 320);
            CHECK(err.reply_text().find("closed by the squall test") != std::string::npos);
        }
        co_await conn->wait_closed();
        CHECK(conn->is_closed());
        CHECK(holds<ConnectionClosedError>(ch->close_reason()));
    }
}
