// IOStream reads over real loopback sockets: every read kind under every arrival pattern, large
// transfers, and reads interrupted by a close.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/coro/start.hpp"
#include "squall/iostream/iostream.hpp"
#include "tests/iostream/net/net_support.hpp"

using namespace std::chrono_literals;
using namespace squall;
using squall::test::Split;

SQUALL_TEST_CASE(
    "every read kind completes when the peer writes byte by byte, in random splits, in one burst", 30s) {
    const std::string message = "HELLO\r\nnumber 12345;" + std::string(300, 'x') + "tail-of-stream";
    for (Split split : {Split::byte_by_byte, Split::random, Split::burst}) {
        CAPTURE(test::to_string(split));
        auto [a, b] = test::stream_pair(loop);
        auto writer = start(test::write_split(loop, a, message, split, 7));
        std::string line = co_await b->read_until("\r\n");
        CHECK(line == "HELLO\r\n");
        std::string number = co_await b->read_until_regex("[0-9]+;");
        CHECK(number == "number 12345;");
        std::string exact = co_await b->read_bytes(100);
        CHECK(exact == std::string(100, 'x'));
        std::string partial = co_await b->read_bytes_partial(50);
        CHECK(!partial.empty());
        CHECK(partial.size() <= 50);
        co_await std::move(writer);
        a->close();
        std::string rest = co_await b->read_until_close();
        CHECK(partial + rest == std::string(200, 'x') + "tail-of-stream");
        CHECK(b->closed());
    }
}

SQUALL_TEST_CASE("a 64 MiB transfer read in 64 KiB pieces arrives intact (FNV-1a)", 60s) {
    auto [a, b] = test::stream_pair(loop);
    constexpr std::size_t kChunk = 1 << 20, kTotal = 64 << 20;
    std::vector<std::string> chunks;
    for (std::uint32_t i = 0; i < 4; ++i) chunks.push_back(test::pattern_bytes(kChunk, i + 1));
    test::Fnv1a sent, received;
    for (std::size_t i = 0; i < kTotal / kChunk; ++i) sent.update(chunks[i % 4]);
    auto writer = [](std::shared_ptr<IOStream> s, const std::vector<std::string>& chunks) -> Task<void> {
        for (std::size_t i = 0; i < kTotal / kChunk; ++i) co_await s->write(std::string_view(chunks[i % 4]));
    };
    auto done = start(writer(a, chunks));
    std::size_t got = 0;
    while (got < kTotal) {
        std::string piece = co_await b->read_bytes(64 * 1024);
        REQUIRE(piece.size() == 64 * 1024);
        received.update(piece);
        got += piece.size();
    }
    co_await std::move(done);
    CHECK(received.h == sent.h);
}

SQUALL_TEST_CASE("a 64 MiB transfer read with read_until_close arrives intact (FNV-1a)", 60s) {
    auto [a, b] = test::stream_pair(loop);
    constexpr std::size_t kTotal = 64 << 20;
    std::string payload = test::pattern_bytes(kTotal, 99);
    test::Fnv1a sent;
    sent.update(payload);
    auto writer = [](std::shared_ptr<IOStream> s, std::string data) -> Task<void> {
        co_await s->write(std::move(data));
        s->close();
    };
    auto done = start(writer(a, std::move(payload)));
    std::string all = co_await b->read_until_close();
    co_await std::move(done);
    CHECK(all.size() == kTotal);
    test::Fnv1a received;
    received.update(all);
    CHECK(received.h == sent.h);
}

namespace {

enum class Kind { until, regex, bytes, partial, fill };
const char* kind_name(Kind k) {
    switch (k) {
        case Kind::until:
            return "read_until";
        case Kind::regex:
            return "read_until_regex";
        case Kind::bytes:
            return "read_bytes";
        case Kind::partial:
            return "read_bytes_partial";
        case Kind::fill:
            return "fill";
    }
    return "?";
}

Task<std::string> read_of_kind(std::shared_ptr<IOStream> s, Kind k) {
    switch (k) {
        case Kind::until:
            co_return co_await s->read_until("\n");
        case Kind::regex:
            co_return co_await s->read_until_regex("[0-9]+!");
        case Kind::bytes:
            co_return co_await s->read_bytes(1000);
        case Kind::partial:
            co_return co_await s->read_bytes_partial(1000);
        case Kind::fill:
            co_await s->fill();
            co_return std::string(s->read_buffer().view());
    }
    co_return std::string();
}

}  // namespace

SQUALL_TEST_CASE("a close during each kind of read fails the pending read with StreamClosedError", 20s) {
    for (bool peer_closes : {true, false}) {
        for (Kind k : {Kind::until, Kind::regex, Kind::bytes, Kind::partial, Kind::fill}) {
            CAPTURE(kind_name(k));
            CAPTURE(peer_closes);
            auto [a, b] = test::stream_pair(loop);
            if (k != Kind::partial && k != Kind::fill) co_await a->write("incomplete");
            auto pending = start(read_of_kind(b, k));
            for (int i = 0; i < 3; ++i) co_await test::next_iteration(loop);
            CHECK(!pending.done());
            if (peer_closes)
                a->close();
            else
                b->close();
            std::string what;
            int code = -1;
            try {
                co_await std::move(pending);
            } catch (const StreamClosedError& e) {
                what = e.what();
                code = e.error_code();
            }
            CHECK(code == 0);
            CHECK(what.find(peer_closes ? "closed by peer" : "closed locally") != std::string::npos);
            CHECK(b->closed());
        }
    }
}

SQUALL_TEST_CASE("read_until_close resolves with the data at a clean EOF", 10s) {
    auto [a, b] = test::stream_pair(loop);
    auto pending = start(b->read_until_close());
    co_await a->write("first ");
    co_await test::next_iteration(loop);
    co_await a->write("second");
    a->close();
    std::string all = co_await std::move(pending);
    CHECK(all == "first second");
}

SQUALL_TEST_CASE("buffered data stays readable after the peer closed, then reads fail", 10s) {
    auto [a, b] = test::stream_pair(loop);
    co_await a->write("line one\nrest");
    a->close();
    bool unsatisfied = false;
    try {
        co_await b->read_until("END");  // never comes: the read meets EOF, the stream closes
    } catch (const StreamClosedError&) {
        unsatisfied = true;
    }
    CHECK(unsatisfied);
    CHECK(b->closed());
    std::string line = co_await b->read_until("\n");
    CHECK(line == "line one\n");
    std::string rest = co_await b->read_bytes(4);
    CHECK(rest == "rest");
    bool closed = false;
    try {
        co_await b->read_bytes(1);
    } catch (const StreamClosedError&) {
        closed = true;
    }
    CHECK(closed);
}

SQUALL_TEST_CASE("a big read_bytes cut short by the peer's close keeps the bytes that arrived", 10s) {
    auto [a, b] = test::stream_pair(loop);
    const std::string sent = test::pattern_bytes(300'000, 3);  // the read receives into its result directly
    co_await a->write(std::string_view(sent));
    a->close();
    bool closed = false;
    try {
        co_await b->read_bytes(400'000);
    } catch (const StreamClosedError&) {
        closed = true;
    }
    CHECK(closed);
    std::string kept = co_await b->read_bytes(sent.size());
    CHECK(kept == sent);
}

SQUALL_TEST_CASE("watch_idle: bytes or EOF on an idle stream close it and call back; a read ends the watch",
                 10s) {
    for (bool eof : {false, true}) {
        CAPTURE(eof);
        auto [a, b] = test::stream_pair(loop);
        co_await a->write("response");
        CHECK(co_await b->read_bytes(8) == "response");
        int calls = 0;
        REQUIRE(b->watch_idle([&] { ++calls; }));
        CHECK(b->watching_idle());
        co_await squall::sleep(loop, 30ms);
        CHECK(calls == 0);
        if (eof)
            a->close();
        else
            co_await a->write("stray");
        for (int i = 0; i < 100 && calls == 0; ++i) co_await squall::sleep(loop, 5ms);
        CHECK(calls == 1);
        CHECK(b->closed());
        CHECK_FALSE(b->watching_idle());
    }
    // A read takes over: the bytes it waits for are its own, the watch never fires.
    auto [a, b] = test::stream_pair(loop);
    int calls = 0;
    REQUIRE(b->watch_idle([&] { ++calls; }));
    auto read = start(b->read_bytes(4));
    CHECK_FALSE(b->watching_idle());
    co_await a->write("next");
    CHECK(co_await std::move(read) == "next");
    co_await squall::sleep(loop, 20ms);
    CHECK(calls == 0);
    // Stray bytes already buffered: watch_idle refuses and closes.
    co_await a->write("xy");
    CHECK(co_await b->read_bytes(1) == "x");
    CHECK_FALSE(b->watch_idle([&] { ++calls; }));
    CHECK(b->closed());
    CHECK(calls == 0);
}

namespace {

// Sets *flag when destroyed: the reader's frame unwound (finished or destroyed), not leaked.
struct SetOnExit {
    std::shared_ptr<bool> flag;
    ~SetOnExit() { *flag = true; }
};

Task<void> wait_for_bytes(std::shared_ptr<IOStream> stream, std::shared_ptr<bool> unwound) {
    SetOnExit guard{std::move(unwound)};
    try {
        co_await stream->read_bytes(10);
    } catch (const StreamClosedError&) {
    }
}

// squall-fetch's shape: the task's last act closes what a background reader waits on, then returns.
Task<void> close_under_a_waiting_reader(IOLoop& loop, std::shared_ptr<bool> unwound) {
    auto [a, b] = test::stream_pair(loop);
    spawn(loop, wait_for_bytes(b, std::move(unwound)));
    co_await sleep(loop, 1ms);  // the reader now waits on its read op
    b->close();
    a->close();
}

}  // namespace

SQUALL_LOOP_TEST_CASE(
    "a reader waiting on a stream closed by run_sync's task has unwound when run_sync returns") {
    // The close cancels the reader's op; the cancellation completes in a later iteration. run_sync runs
    // those completions before it returns, so the reader's frame and what it holds are not leaked.
    auto unwound = std::make_shared<bool>(false);
    loop.run_sync(close_under_a_waiting_reader(loop, unwound));
    CHECK(*unwound);
}
