// Http2Session against a misbehaving server (tests/support/h2_test_server.py): every bad input arrives as a
// typed error through the awaiting exchange, and a stream-level error leaves the connection usable.
#include <doctest/doctest.h>

#include <squall/testing.hpp>
#include <string>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/http2/session.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "tests/http/http2_test_support.hpp"
#include "tests/http/test_client_support.hpp"
#include "tests/support/h2_test_server.hpp"

using namespace std::chrono_literals;
using namespace squall::http::test;
using squall::StreamClosedError;
using squall::TimePoint;

// What fetching `url` on `session` fails with when it is an E (error_of: nullopt for anything else).
template <class E>
squall::Task<std::optional<std::string>> error_fetching(Http2Session& session, std::string url) {
    HTTPRequest request{.url = std::move(url)};
    co_return co_await error_of<E>(fetch_on(session, request));
}

SQUALL_TEST_CASE("http2 errors: RST_STREAM is a StreamResetError with its code; the connection lives on",
                 20s) {
    squall::testing::H2TestServer server;
    auto session = co_await connect_h2c(loop, server.port());
    auto e = co_await error_fetching<StreamResetError>(*session, server.url("/rst/8"));
    CHECK(contains(e, "CANCEL"));
    try {
        HTTPRequest again{.url = server.url("/rst/2")};
        co_await fetch_on(*session, again);
        FAIL_CHECK("no error");
    } catch (const StreamResetError& err) {
        CHECK(err.code() == 2);
        CHECK(err.error_code() == squall::http::HTTP2ErrorCode::internal_error);
    }
    auto m = co_await error_fetching<StreamResetError>(*session, server.url("/rst-mid/1"));
    CHECK(contains(m, "PROTOCOL_ERROR"));
    auto r = co_await error_fetching<RefusedStreamError>(*session, server.url("/rst/7"));
    CHECK(contains(r, "not processed"));
    HTTPRequest ok{.url = server.url("/ok")};
    auto resp = co_await fetch_on(*session, ok);
    CHECK(resp.body == "hello");
    CHECK(resp.headers.get("x-connection") == "1");
    CHECK(session->can_open_stream());
    co_await drain(loop, session.get());
}

SQUALL_TEST_CASE("http2 errors: GOAWAY before the stream is a RefusedStreamError; after it, a ProtocolError",
                 20s) {
    squall::testing::H2TestServer server;
    auto first = co_await connect_h2c(loop, server.port());
    auto refused = co_await error_fetching<RefusedStreamError>(*first, server.url("/goaway-once"));
    CHECK(contains(refused, "GOAWAY"));
    CHECK_FALSE(first->can_open_stream());
    auto second = co_await connect_h2c(loop, server.port());
    HTTPRequest once{.url = server.url("/goaway-once")};
    auto resp = co_await fetch_on(*second, once);  // the server answers the second time
    CHECK(resp.body == "hello");
    auto cut = co_await error_fetching<ProtocolError>(*second, server.url("/goaway-mid"));
    CHECK(contains(cut, "GOAWAY"));
    co_await drain(loop, first.get(), second.get());
}

SQUALL_TEST_CASE("http2 errors: invalid frames, HPACK garbage and a stream never opened fail the connection",
                 20s) {
    squall::testing::H2TestServer server;
    for (const char* path : {"/bad-frame", "/bad-hpack", "/unopened"}) {
        auto session = co_await connect_h2c(loop, server.port());
        HTTPRequest bad{.url = server.url(path)};
        HTTPRequest bystander{.url = server.url("/bytes/10000000")};  // in flight on the same connection
        auto other = squall::spawn(loop, fetch_on(*session, bystander));
        auto e = co_await error_of<ProtocolError>(fetch_on(*session, bad));
        CAPTURE(path);
        CHECK(contains(e, "HTTP/2 connection"));
        auto o = co_await error_of<ProtocolError>(std::move(other));
        CHECK(contains(o, "HTTP/2 connection"));
        CHECK(session->closed());
        co_await drain(loop, session.get());
    }
}

SQUALL_TEST_CASE("http2 errors: a bad :status and a content-length mismatch are ProtocolErrors", 20s) {
    squall::testing::H2TestServer server;
    auto session = co_await connect_h2c(loop, server.port());
    for (const char* path : {"/bad-status", "/length-mismatch"}) {
        auto e = co_await error_fetching<ProtocolError>(*session, server.url(path));
        CAPTURE(path);
        CHECK(contains(e, "HTTP/2"));
    }
    co_await drain(loop, session.get());
}

SQUALL_TEST_CASE(
    "http2 errors: a header list over max_header_size is a ProtocolError, the connection lives on", 20s) {
    squall::testing::H2TestServer server;
    auto session = co_await connect_h2c(loop, server.port());
    HTTPRequest big{.url = server.url("/big-headers/40000"), .max_header_size = 16 * 1024};
    auto e = co_await error_of<ProtocolError>(fetch_on(*session, big));
    CHECK(contains(e, "max_header_size"));
    HTTPRequest fits{.url = server.url("/big-headers/40000")};
    auto resp = co_await fetch_on(*session, fits);
    CHECK(resp.headers.get("x-big")->size() == 40000);
    CHECK(resp.body == "big");
    co_await drain(loop, session.get());
}

SQUALL_TEST_CASE("http2 errors: DATA beyond the window is a flow-control error, not buffered", 20s) {
    squall::testing::H2TestServer server;
    // A 16 KiB frame into a 1000-byte stream window: over it however fast the client consumes.
    Http2Options small{.stream_window = 1000};
    auto session = co_await connect_h2c(loop, server.port(), small);
    auto e = co_await error_fetching<ProtocolError>(*session, server.url("/window-overflow/50000"));
    CHECK(contains(e, "HTTP/2"));
    co_await drain(loop, session.get());
}

SQUALL_TEST_CASE("http2: WINDOW_UPDATE follows consumption: 1 MiB through a 64 KiB window", 20s) {
    squall::testing::H2TestServer server;
    Http2Options small{.stream_window = 65535, .connection_window = 65535};
    auto session = co_await connect_h2c(loop, server.port(), small);
    std::size_t total = 0, largest = 0;
    HTTPRequest streamed{.url = server.url("/bytes/1048576"),
                         .streaming_callback = [&](std::string_view piece) {
                             total += piece.size();
                             largest = std::max(largest, piece.size());
                         }};
    auto resp = co_await fetch_on(*session, streamed);
    CHECK(resp.code == 200);
    CHECK(total == 1048576);
    CHECK(resp.body.empty());
    CHECK(largest <= 65535);
    co_await drain(loop, session.get());
}

SQUALL_TEST_CASE("http2: trailers, a body over max_body_size, a request deadline that cancels one stream",
                 20s) {
    squall::testing::H2TestServer server;
    auto session = co_await connect_h2c(loop, server.port());
    HTTPRequest trailers{.url = server.url("/trailers")};
    auto resp = co_await fetch_on(*session, trailers);
    CHECK(resp.body == "with trailers");
    CHECK(resp.trailers.get("x-checksum") == "1234");
    HTTPRequest too_big{.url = server.url("/bytes/100000"), .max_body_size = 1000};
    auto e = co_await error_of<ProtocolError>(fetch_on(*session, too_big));
    CHECK(contains(e, "max_body_size"));
    HTTPRequest silent{.url = server.url("/silent"), .request_timeout = 200ms};
    auto t = co_await error_of<squall::TimeoutError>(fetch_on(*session, silent, loop.time() + 200ms));
    CHECK(contains(t, "request_timeout"));
    co_await drain(loop, session.get());
}

SQUALL_TEST_CASE("http2: a peer that stops answering PING is declared dead", 20s) {
    squall::testing::H2TestServer server;
    Http2Options quick{.ping_interval = 100ms, .ping_timeout = 200ms};
    auto session = co_await connect_h2c(loop, server.port(), quick);
    auto e = co_await error_fetching<StreamClosedError>(*session, server.url("/silent"));
    CHECK(contains(e, "PING"));
    CHECK(session->closed());
    co_await drain(loop, session.get());
}
