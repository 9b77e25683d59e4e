// Idle memory: a stream with nothing buffered and no read pending holds no read chunk (it went back to
// the thread's BlockPool), a parked one (watch_idle) no write block or TLS buffer either, and reads after
// that still get every byte, on both backends.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/coro/start.hpp"
#include "squall/iostream/block_pool.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tcp_server.hpp"
#include "tests/iostream/net/net_support.hpp"
#include "tests/support/certs.hpp"

using namespace std::chrono_literals;
using namespace squall;
using squall::test::Split;

SQUALL_TEST_CASE("an idle stream holds no read chunk, and the reads after it get every byte", 30s) {
    auto [a, b] = test::stream_pair(loop);
    co_await a->write("hello\r\n");
    CHECK(co_await b->read_until("\r\n") == "hello\r\n");
    CHECK(b->read_buffer().capacity() == 0);  // everything consumed, no read pending: chunk given back
    CHECK(b->held_buffer_bytes() == 0);
    CHECK(BlockPool::local().free_chunks() > 0);  // the chunk waits in the pool for the next recv

    // Bytes left over after a read keep the chunk; consuming them gives it back.
    co_await a->write("one two");
    CHECK(co_await b->read_bytes(4) == "one ");
    for (int i = 0; i < 100 && b->read_buffer().size() < 3; ++i) co_await b->fill();
    CHECK(b->read_buffer().capacity() > 0);
    CHECK(co_await b->read_bytes(3) == "two");
    CHECK(b->read_buffer().capacity() == 0);

    // Idle in between every read: 1 MiB in random splits, read with each kind, arrives intact.
    const std::string payload = test::pattern_bytes(1 << 20, 7);
    const std::string message = "LINE\r\n" + payload + "END;";
    auto writer = start(test::write_split(loop, a, message, Split::random, 11));
    CHECK(co_await b->read_until("\r\n") == "LINE\r\n");
    std::string got;
    while (got.size() < payload.size()) got += co_await b->read_bytes_partial(payload.size() - got.size());
    CHECK(got == payload);
    CHECK(co_await b->read_until_regex("END;") == "END;");
    co_await std::move(writer);
    CHECK(b->read_buffer().capacity() == 0);
}

SQUALL_TEST_CASE("watch_idle gives back the spare write block; the stream works after unwatch_idle", 30s) {
    auto [a, b] = test::stream_pair(loop);
    co_await b->write("request");  // a small write: copied into a write block, kept as the spare
    CHECK(b->held_buffer_bytes() > 0);
    REQUIRE(b->watch_idle([] {}));
    CHECK(b->held_buffer_bytes() == 0);
    b->unwatch_idle();
    co_await b->write("again");
    CHECK(co_await a->read_bytes(12) == "requestagain");
    co_await a->write(std::string(200000, 'z'));
    CHECK(co_await b->read_bytes(200000) == std::string(200000, 'z'));
    CHECK(b->read_buffer().capacity() == 0);
}

SQUALL_TEST_CASE("a parked TLS stream holds no buffer of its own; the next exchange decrypts every byte",
                 30s) {
    auto handler = [](std::shared_ptr<IOStream> s, SocketAddress) -> Task<void> {
        for (;;) {
            std::string n = co_await s->read_until("\n");
            if (n == "bye\n") break;
            co_await s->write(test::pattern_bytes(std::stoul(n), 3));
        }
        co_await s->close_after_flush();
    };
    test::TlsLoopbackServer server(loop, handler);
    auto s = co_await server.connect();
    for (std::size_t n : {100u, 300000u, 5u}) {
        CAPTURE(n);
        co_await s->write(std::to_string(n) + "\n");
        CHECK(co_await s->read_bytes(n) == test::pattern_bytes(n, 3));
        REQUIRE(s->watch_idle([] {}));
        CHECK(s->held_buffer_bytes() == 0);
        CHECK(s->read_buffer().capacity() == 0);
        co_await squall::sleep(loop, 20ms);  // TLS 1.3 session tickets may arrive while parked
        REQUIRE(s->watching_idle());
        CHECK(s->held_buffer_bytes() == 0);
        s->unwatch_idle();
    }
    co_await s->write("bye\n");
    server.stop(true);
    co_await server.stopped();
}
