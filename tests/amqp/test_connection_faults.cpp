// Faults: heartbeat expiry through a proxy that stops forwarding, and malformed frames from a fake
// server after a valid handshake (bad frame end, oversized frame, unknown method, truncated table).
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/detail/wire.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

// Copies from `from` to `to` while *forwarding is true; afterwards reads and drops.
Task<void> pump(std::shared_ptr<IOStream> from, std::shared_ptr<IOStream> to,
                std::shared_ptr<bool> forwarding, std::shared_ptr<int> live) {
    ++*live;
    try {
        for (;;) {
            std::string chunk = co_await from->read_bytes_partial(65536);
            if (*forwarding) to->write_buffered(std::move(chunk));
        }
    } catch (...) {
    }
    // A proxy that stopped forwarding is a black hole: it passes on no close either (else the broker's
    // own missed-heartbeat close would reach the client before the client's heartbeat timeout).
    if (*forwarding && !to->closed()) to->close();
    --*live;
}

// Reads one frame sent by the client (and returns its channel and method id; (0,0) for non-methods).
Task<spec::MethodId> read_client_frame(std::shared_ptr<IOStream> s) {
    for (;;) {
        FrameParse p = parse_frame(s->read_buffer().view(), 0);
        if (p.complete()) {
            spec::MethodId id{};
            if (p.frame->type == spec::kFrameMethod) id = spec::peek_method_id(p.frame->payload);
            s->read_buffer().consume(p.size);
            co_return id;
        }
        co_await s->fill();
    }
}

// A fake broker: handshake, open-ok for channel 1, then `evil` bytes; records the client's last method.
// On the client's connection.close it records the reply code, looks whether the client keeps the socket
// open for the close-ok (it must, for an orderly close), answers close-ok (unless reply_close_ok is false)
// and records whether the client then closes.
struct FakeBroker {
    std::string evil;
    bool reply_close_ok = true;
    spec::MethodId last_from_client{};
    uint16_t close_code = 0;
    bool open_while_awaiting_close_ok = false;
    bool closed_after_close_ok = false;
    Event done;

    Task<void> serve(std::shared_ptr<IOStream> s) {
        try {
            co_await s->read_bytes(8);  // protocol header
            std::string out;
            append_method_frame(out, 0,
                                spec::ConnectionStart{.version_major = 0,
                                                      .version_minor = 9,
                                                      .server_properties = {{"product", "fake"}},
                                                      .mechanisms = "PLAIN AMQPLAIN",
                                                      .locales = "en_US"});
            s->write_buffered(out);
            CHECK(co_await read_client_frame(s) == spec::ConnectionStartOk::kId);
            out.clear();
            append_method_frame(out, 0,
                                spec::ConnectionTune{.channel_max = 10, .frame_max = 4096, .heartbeat = 0});
            s->write_buffered(out);
            CHECK(co_await read_client_frame(s) == spec::ConnectionTuneOk::kId);
            CHECK(co_await read_client_frame(s) == spec::ConnectionOpen::kId);
            out.clear();
            append_method_frame(out, 0, spec::ConnectionOpenOk{});
            s->write_buffered(out);
            CHECK(co_await read_client_frame(s) == spec::ChannelOpen::kId);
            out.clear();
            append_method_frame(out, 1, spec::ChannelOpenOk{});
            out += evil;
            s->write_buffered(out);
            for (;;) {
                FrameParse p = parse_frame(s->read_buffer().view(), 0);
                if (!p.complete()) {
                    co_await s->fill();
                    continue;
                }
                last_from_client = {};
                if (p.frame->type == spec::kFrameMethod)
                    last_from_client = spec::peek_method_id(p.frame->payload);
                if (last_from_client == spec::ConnectionClose::kId) {
                    close_code = spec::decode_method_as<spec::ConnectionClose>(p.frame->payload).reply_code;
                }
                s->read_buffer().consume(p.size);
                if (last_from_client == spec::ConnectionClose::kId) break;
            }
            // The client said why it closes; it must now wait for close-ok with the socket open.
            Future<std::string> eof = start(s->read_until_close());
            co_await squall::sleep(s->loop(), 100ms);
            open_while_awaiting_close_ok = !eof.done();
            if (reply_close_ok) {
                out.clear();
                append_method_frame(out, 0, spec::ConnectionCloseOk{});
                s->write_buffered(out);
            }
            co_await with_timeout(15s, eof);
            closed_after_close_ok = reply_close_ok;
        } catch (...) {
            // The client went away (or a read failed): what was recorded says how far it got.
        }
        done.set();
    }
};

Task<void> expect_frame_error(IOLoop& loop, std::string evil, const char* expected_text,
                              uint16_t expected_code) {
    auto fake = std::make_shared<FakeBroker>();
    fake->evil = std::move(evil);
    TCPServer server(loop, [fake](std::shared_ptr<IOStream> s, SocketAddress) { return fake->serve(s); });
    server.listen(0, "127.0.0.1");
    auto conn = co_await Connection::open(loop, "amqp://127.0.0.1:" + std::to_string(server.port()) + "/");
    CHECK(conn->frame_max() == 4096u);
    CHECK(conn->channel_max() == 10);
    auto ch = co_await conn->channel();
    auto pending = co_await error_of(ch->queue_declare("q"));  // fails when the bad frame is seen
    REQUIRE_MESSAGE(holds<FrameError>(pending), test::what_of<std::exception>(pending));
    CHECK_MESSAGE(test::what_of<FrameError>(pending).find(expected_text) != std::string::npos,
                  test::what_of<FrameError>(pending));
    co_await conn->wait_closed();
    CHECK(holds<FrameError>(conn->close_reason()));
    CHECK(holds<FrameError>(ch->close_reason()));
    co_await with_timeout(5s, fake->done.wait());
    // The client told the broker why (connection.close with 501 / 505 / ...), and closed the socket only
    // after the broker's close-ok: an orderly close, not a reset.
    CHECK(fake->last_from_client == spec::ConnectionClose::kId);
    CHECK(fake->close_code == expected_code);
    CHECK(fake->open_while_awaiting_close_ok);
    CHECK(fake->closed_after_close_ok);
    server.stop(true);
    co_await server.stopped();
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("malformed frame: bad frame end", 15s) {
        co_await expect_frame_error(loop, frame(spec::kFrameHeartbeat, 0, "", 0x00), "bad frame end", 501);
    }

    SQUALL_TEST_CASE("malformed frame: oversized frame", 15s) {
        std::string head;
        amqp::detail::put_u8(head, spec::kFrameBody);
        amqp::detail::put_u16(head, 1);
        amqp::detail::put_u32(head, 100000);
        co_await expect_frame_error(loop, head, "exceeds frame_max 4096", 501);
    }

    SQUALL_TEST_CASE("malformed frame: unknown method", 15s) {
        std::string payload;
        amqp::detail::put_u16(payload, 99);
        amqp::detail::put_u16(payload, 1);
        co_await expect_frame_error(loop, frame(spec::kFrameMethod, 1, payload), "(99, 1)", 501);
    }

    SQUALL_TEST_CASE("malformed frame: truncated table in a content header", 15s) {
        std::string deliver;
        append_method_frame(deliver, 1,
                            spec::BasicDeliver{.consumer_tag = "t",
                                               .delivery_tag = 1,
                                               .redelivered = false,
                                               .exchange = "",
                                               .routing_key = "q"});
        std::string header;
        amqp::detail::put_u16(header, 60);
        amqp::detail::put_u16(header, 0);
        amqp::detail::put_u64(header, 3);
        amqp::detail::put_u16(header, 0x2000);  // headers present
        amqp::detail::put_u32(header, 50);      // a 50-byte table...
        header +=
            "\x01"
            "k";  // ...of which 2 bytes arrive
        co_await expect_frame_error(loop, deliver + frame(spec::kFrameHeader, 1, header), "", 501);
    }

    SQUALL_TEST_CASE("malformed frame: basic.deliver cut short or with bytes after its last argument", 15s) {
        // Deliveries are decoded on a fast path of their own; a malformed one must still be a FrameError.
        std::string good;
        append_method_frame(good, 1,
                            spec::BasicDeliver{.consumer_tag = "tag",
                                               .delivery_tag = 7,
                                               .redelivered = true,
                                               .exchange = "ex",
                                               .routing_key = "rk"});
        std::string payload = good.substr(kFrameHeaderSize, good.size() - kFrameOverhead);
        // Every proper prefix of the arguments (the method id itself kept whole).
        for (size_t cut = 5; cut < payload.size(); cut += 3) {
            co_await expect_frame_error(loop, frame(spec::kFrameMethod, 1, payload.substr(0, cut)),
                                        "basic.deliver", 501);
        }
        co_await expect_frame_error(loop, frame(spec::kFrameMethod, 1, payload + "x"), "basic.deliver", 501);
        // A routing key whose length octet runs past the end of the frame.
        std::string overlong = payload;
        overlong[overlong.size() - 3] = static_cast<char>(200);
        co_await expect_frame_error(loop, frame(spec::kFrameMethod, 1, overlong), "basic.deliver", 501);
    }

    SQUALL_TEST_CASE("malformed frame: content body without a header", 15s) {
        co_await expect_frame_error(loop, frame(spec::kFrameBody, 1, "xyz"), "without a content method", 505);
    }

    SQUALL_TEST_CASE("malformed frame: without a close-ok the socket closes after connection_timeout", 15s) {
        auto fake = std::make_shared<FakeBroker>();
        fake->evil = frame(spec::kFrameBody, 1, "xyz");
        fake->reply_close_ok = false;
        TCPServer server(loop, [fake](std::shared_ptr<IOStream> s, SocketAddress) { return fake->serve(s); });
        server.listen(0, "127.0.0.1");
        auto conn = co_await Connection::open(
            loop, "amqp://127.0.0.1:" + std::to_string(server.port()) + "/?connection_timeout=1");
        auto ch = co_await conn->channel();
        auto pending = co_await error_of(ch->queue_declare("q"));  // fails at once, not after the wait
        CHECK(holds<FrameError>(pending));
        co_await with_timeout(5s, conn->wait_closed());
        co_await with_timeout(5s, fake->done.wait());
        CHECK(fake->close_code == spec::kUnexpectedFrame);
        CHECK(fake->open_while_awaiting_close_ok);  // it waited...
        CHECK(conn->stream()->closed());            // ...and then closed without close-ok
        server.stop(true);
        co_await server.stopped();
    }

    SQUALL_TEST_CASE("heartbeat expiry through a proxy that stops forwarding", 20s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        Url broker = parse_url(url);
        auto forwarding = std::make_shared<bool>(true);
        auto live = std::make_shared<int>(0);
        TCPServer proxy(
            loop,
            [&loop, broker, forwarding, live](std::shared_ptr<IOStream> client, SocketAddress) -> Task<void> {
                TCPClient connector(loop);
                auto upstream = co_await connector.connect(broker.host, broker.port);
                start(pump(upstream, client, forwarding, live));
                co_await pump(client, upstream, forwarding, live);
                if (!upstream->closed()) upstream->close();  // the client is gone: so is its broker side
            });
        proxy.listen(0, "127.0.0.1");
        auto options = ConnectionOptions::from_url(url);
        options.port = proxy.port();
        options.host = "127.0.0.1";
        options.heartbeat = 1s;
        auto conn = co_await Connection::open(loop, options);
        REQUIRE(conn->heartbeat() == 1s);
        auto ch = co_await conn->channel();
        auto q = co_await exclusive_queue(*ch);
        // Heartbeats keep an idle connection alive.
        co_await squall::sleep(loop, 2500ms);
        CHECK(conn->is_open());
        auto consumer = co_await ch->consume(q.queue);
        Future<Delivery> pending = consumer->next();
        *forwarding = false;
        auto t0 = loop.time();
        auto e = co_await error_of(pending);
        auto elapsed = loop.time() - t0;
        REQUIRE_MESSAGE(holds<HeartbeatTimeoutError>(e), test::what_of<std::exception>(e));
        CHECK(holds<ConnectionClosedError>(e));
        CHECK(elapsed >= 1500ms);
        CHECK(elapsed < 4s);
        CHECK(conn->is_closed());
        proxy.stop(true);
        co_await proxy.stopped();
        // The pumps end once both sides closed: wait so no coroutine outlives the loop.
        for (int i = 0; i < 200 && *live > 0; ++i) co_await squall::sleep(loop, 10ms);
        CHECK(*live == 0);
    }
}
