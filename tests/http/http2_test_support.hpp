// Helpers of the Http2Session tests (test_http2_session.cpp, test_http2_errors.cpp): opening a session
// over a stream the test connects, one exchange on it, and closing sessions before the test's loop goes.
#pragma once

#include <squall/testing.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "squall/httpclient/http2/session.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tls.hpp"
#include "tests/support/nginx_fixture.hpp"

namespace squall::http::test {

// Connects to url's host and port (TLS with ALPN "h2", trusting nginx's test CA, for https) and starts a
// session.
inline Task<std::shared_ptr<Http2Session>> open_session(IOLoop& loop, const std::string& url_text,
                                                        Http2Options options = {}) {
    URL url = URL::parse(url_text);
    TCPClient tcp(loop);
    std::string host = url.host == "localhost" ? "127.0.0.1" : url.host;
    auto stream = co_await tcp.connect(host, url.port);
    stream->set_nodelay(true);
    if (url.is_https()) {
        TlsClientOptions tls{.ca_file = squall::testing::nginx_ca_file(), .alpn = {"h2"}};
        auto context = TlsContext::client(tls);
        co_await stream->start_tls(context, url.host);
        REQUIRE(stream->tls()->alpn_selected() == "h2");
    }
    co_return Http2Session::start(stream, url.scheme + "://" + url.host_port(), options);
}

// A session that is closed when the test body ends, also when a failed REQUIRE ends it early (its reader
// keeps it alive until closed). Used like the shared_ptr it holds.
class ClosingSession {
public:
    explicit ClosingSession(std::shared_ptr<Http2Session> session) : session_(std::move(session)) {}
    ClosingSession(ClosingSession&&) noexcept = default;  // the moved-from one holds nothing to close
    ClosingSession& operator=(ClosingSession&&) = delete;
    ~ClosingSession() {
        if (session_) session_->close();
    }
    Http2Session& operator*() const { return *session_; }
    Http2Session* operator->() const { return session_.get(); }
    Http2Session* get() const { return session_.get(); }

private:
    std::shared_ptr<Http2Session> session_;
};

// A session over h2c (prior knowledge) to 127.0.0.1:port, closed with the returned guard.
inline Task<ClosingSession> connect_h2c(IOLoop& loop, std::uint16_t port, Http2Options options = {}) {
    const std::string url = "http://127.0.0.1:" + std::to_string(port);
    co_return ClosingSession(co_await open_session(loop, url, options));
}

// One exchange on `session`.
inline Task<HTTPResponse> fetch_on(Http2Session& session, HTTPRequest request,
                                   TimePoint deadline = TimePoint::max()) {
    HTTPResponse response;
    ExchangeOptions options;
    co_await session.exchange(request, URL::parse(request.url), options, deadline, response);
    co_return response;
}

// Closes the sessions and lets their readers see it before the test's loop goes away (a reader parked
// in a read only resumes on a later loop iteration; a loop destroyed first leaks its frame).
inline Task<void> drain(IOLoop& loop, Http2Session* first, Http2Session* second = nullptr) {
    for (auto* s : {first, second})
        if (s) s->close();
    co_await sleep(loop, std::chrono::milliseconds(50));
}

}  // namespace squall::http::test
