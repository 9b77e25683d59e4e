// IOStream limits and misuse: max_bytes, max_buffer_size, a second concurrent read, concurrent read and
// write, and a peer reset.
#include <doctest/doctest.h>

#include <cerrno>
#include <squall/testing.hpp>
#include <system_error>

#include "squall/coro/gather.hpp"
#include "squall/coro/start.hpp"
#include "squall/iostream/iostream.hpp"
#include "tests/iostream/net/net_support.hpp"

using namespace std::chrono_literals;
using namespace squall;

SQUALL_TEST_CASE("a delimiter or pattern not found within max_bytes fails with UnsatisfiableReadError", 10s) {
    for (bool regex : {false, true}) {
        auto [a, b] = test::stream_pair(loop);
        co_await a->write(std::string(200, 'a') + "\n");
        std::string what;
        try {
            if (regex)
                co_await b->read_until_regex("\n", 100);
            else
                co_await b->read_until("\n", 100);
        } catch (const UnsatisfiableReadError& e) {
            what = e.what();
        }
        CHECK(what.find("max_bytes (100)") != std::string::npos);
        CHECK(b->closed());
    }
}

SQUALL_TEST_CASE("a delimiter found within max_bytes completes even if more bytes are buffered", 10s) {
    auto [a, b] = test::stream_pair(loop);
    co_await a->write("short\n" + std::string(500, 'z'));
    co_await test::next_iteration(loop);
    std::string line = co_await b->read_until("\n", 10);
    CHECK(line == "short\n");
}

SQUALL_TEST_CASE("exceeding max_buffer_size fails the pending read with StreamBufferFullError", 10s) {
    IOStreamOptions small;
    small.max_buffer_size = 4096;
    small.read_chunk_size = 1024;
    {
        auto [a, b] = test::stream_pair(loop, {}, small);
        co_await a->write(std::string(16 * 1024, 'q'));  // no delimiter anywhere
        std::string what;
        try {
            co_await b->read_until("\n");
        } catch (const StreamBufferFullError& e) {
            what = e.what();
        }
        CHECK(what.find("max_buffer_size (4096") != std::string::npos);
        CHECK(b->closed());
    }
    {
        auto [a, b] = test::stream_pair(loop, {}, small);
        bool full = false;
        try {
            co_await b->read_bytes(8192);  // can never fit
        } catch (const StreamBufferFullError&) {
            full = true;
        }
        CHECK(full);
    }
}

SQUALL_TEST_CASE("a second concurrent read is a UsageError and leaves the first one intact", 10s) {
    auto [a, b] = test::stream_pair(loop);
    auto first = start(b->read_until("\n"));
    bool usage = false;
    try {
        co_await b->read_bytes(1);
    } catch (const UsageError& e) {
        usage = std::string(e.what()).find("already pending") != std::string::npos;
    }
    CHECK(usage);
    co_await a->write("ok\n");
    std::string line = co_await std::move(first);
    CHECK(line == "ok\n");
}

namespace {
Task<void> send_all(std::shared_ptr<IOStream> s, std::string data) {
    for (std::size_t pos = 0; pos < data.size(); pos += 100'000)
        co_await s->write(std::string_view(data).substr(pos, 100'000));
}
Task<std::string> receive(std::shared_ptr<IOStream> s, std::size_t n) {
    std::string out;
    while (out.size() < n) out += co_await s->read_bytes_partial(n - out.size());
    co_return out;
}
}  // namespace

SQUALL_TEST_CASE("reading and writing from two coroutines at once works in both directions", 30s) {
    auto [a, b] = test::stream_pair(loop);
    constexpr std::size_t kSize = 8 << 20;
    std::string ab = test::pattern_bytes(kSize, 1), ba = test::pattern_bytes(kSize, 2);
    auto [x, y, got_b, got_a] =
        co_await gather(send_all(a, ab), send_all(b, ba), receive(b, kSize), receive(a, kSize));
    CHECK(got_b == ab);
    CHECK(got_a == ba);
}

SQUALL_TEST_CASE("a peer reset fails the pending read with StreamClosedError carrying ECONNRESET", 10s) {
    auto [a, b] = test::stream_pair(loop);
    auto pending = start(b->read_until("\n"));
    co_await test::next_iteration(loop);
    linger lg{1, 0};  // close with RST
    ::setsockopt(a->fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    a->close();
    int code = 0;
    bool has_cause = false;
    std::string what;
    try {
        co_await std::move(pending);
    } catch (const StreamClosedError& e) {
        code = e.error_code();
        has_cause = static_cast<bool>(e.real_error());
        what = e.what();
    }
    CHECK(code == ECONNRESET);
    CHECK(has_cause);
    CHECK(what.find("reset") != std::string::npos);
    bool write_fails = false;
    try {
        co_await b->write("x");
    } catch (const StreamClosedError&) {
        write_fails = true;
    }
    CHECK(write_fails);
}
