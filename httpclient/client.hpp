// http::Client: an asynchronous HTTP/1.1 client (Tornado's AsyncHTTPClient) with a keep-alive pool, a
// max_clients queue, redirects, gzip, HTTP proxies and TLS.
//
//     squall::http::Client http(loop, {.max_clients = 10});
//     auto resp = co_await http.fetch("http://127.0.0.1:8080/data");
//     squall::http::HTTPRequest upload{.url = "http://127.0.0.1:8080/upload", .method = "POST",
//                                      .body = "x=1", .raise_error = false};
//     auto post = co_await http.fetch(upload);   // named first: the co_await temporaries rule (coro/task.hpp)
//
// One fetch: queue (at most max_clients requests run at once; a queued request gives up after the
// smaller non-zero of its connect_timeout and request_timeout) -> an idle keep-alive connection to the
// same scheme, host, port (and proxy and TLS settings), else resolve + connect (+ CONNECT through the
// proxy) (+ TLS) under connect_timeout -> the exchange (connection.hpp) -> the connection goes back to
// the pool when the response allows it. request_timeout runs from dequeue to the last body byte.
//
// Errors (exceptions from co_await):
//   squall::TimeoutError   "connect_timeout ...", "request_timeout ...", or "timeout in request queue ..."
//   HTTPError              status >= 400 with raise_error (carries the response); also a redirect loop or
//                          more than max_redirects redirects (code = the last 3xx; with raise_error=false
//                          that last 3xx response is returned instead)
//   ProtocolError          malformed or truncated response, max_header_size / max_body_size exceeded
//   StreamClosedError      the connection failed mid-exchange (StaleConnectionError: a reused connection
//                          died before the response and the method is not retried automatically)
//   ConnectError, ResolveError, TlsError   from connecting (iostream/errors.hpp)
//   InvalidURLError, RequestError           the request cannot be sent
//
// Redirects: followed when follow_redirects and the response has a Location; 301/302 after POST and 303
// (except after HEAD) become GET without a body; 307/308 keep the method and body (a body_producer cannot
// be replayed: RequestError). Authorization (header and auth_username) is dropped when the scheme, host or
// port changes. Revisiting a URL with the same method is a loop (HTTPError). effective_url() is the final
// URL; HTTPResponse::request is the final hop's request.
//
// Defaults: fetch(url) starts from options.defaults (with its url replaced); fetch(HTTPRequest) takes the
// request as given, adding only the default headers it does not set and the default user_agent when it
// has none. hostname_mapping redirects connections ("host" or "host:port" -> "host" or "host:port") while
// the Host header, SNI and certificate checks keep the URL's name.
//
// time_info: dns is folded into connect (TCPClient resolves and connects as one step); tls is the
// handshake with the origin (after CONNECT when proxied).
//
// Requests follow the co_await temporaries rule (squall/coro/task.hpp): build an HTTPRequest in a named
// variable; on affected GCC versions fetch(HTTPRequest&&) is deleted, so the temporary form does not compile.
//
// Lifetime: the Client may be destroyed with fetches in flight; they keep its internals alive and finish.
// Destroying it (or close()) fails queued fetches and closes idle connections.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "squall/coro/task.hpp"
#include "squall/httpclient/http2/session.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::http {

// A Client's settings, fixed at construction.
struct ClientOptions {
    std::size_t max_clients = 10;  // requests running at once; the rest wait in FIFO order
    HTTPRequest defaults{};        // see "Defaults" above
    std::map<std::string, std::string> hostname_mapping{};  // Resolver::add_override pairs (see above)
    std::size_t max_idle_per_host = 16;                     // 0: no keep-alive reuse
    Duration idle_timeout = std::chrono::seconds(60);       // an idle pooled connection is closed after this
    // HTTP/2 sessions (streams per connection, windows, PING); their idle_timeout is the one above.
    Http2Options http2{};
};

// Counters for tests and benchmarks.
struct ClientStats {
    std::uint64_t requests = 0;            // exchanges started (redirect hops and retries included)
    std::uint64_t connections_opened = 0;  // new connections (TCP connects)
    std::uint64_t connections_reused = 0;  // exchanges on a pooled connection
    std::uint64_t stale_retries = 0;       // requests retried after a stale pooled connection
};

namespace detail {
class ClientCore;
}

// The asynchronous HTTP client (see the file comment). Belongs to its loop's thread.
class Client {
public:
    // Connections are made on `loop`, which must outlive the client.
    explicit Client(IOLoop& loop, ClientOptions options = {});
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Fetches `url` with options.defaults.
    Task<HTTPResponse> fetch(std::string url);
    Task<HTTPResponse> fetch(const HTTPRequest& request);  // copies the request before returning
#if SQUALL_AWAIT_TEMPORARIES_BUG
    // Deleted where GCC mishandles temporaries in co_await (squall/coro/task.hpp, "the co_await temporaries
    // rule"): `co_await fetch(HTTPRequest{...})` and `co_await fetch({.url = ...})` would corrupt the heap.
    // Name the request first: `HTTPRequest req{...}; co_await client.fetch(req);`.
    Task<HTTPResponse> fetch(HTTPRequest&& request) = delete;
#else
    // Takes the request by move (compilers without the co_await temporaries bug only).
    Task<HTTPResponse> fetch(HTTPRequest&& request);
#endif

    // A prepared request: `url` with options.defaults, or `request` with the defaults fetch(request) adds.
    // Fetching it again and again costs no copy of the request (Go's reusable *http.Request):
    //     auto ping = client.prepare("http://127.0.0.1:8080/ping");
    //     for (int i = 0; i < 3; ++i) auto resp = co_await client.fetch(ping);
    std::shared_ptr<const HTTPRequest> prepare(std::string url) const;
    std::shared_ptr<const HTTPRequest> prepare(const HTTPRequest& request) const;
    // Fetches a prepared request as it is (no defaults added); HTTPResponse::request shares it.
    Task<HTTPResponse> fetch(std::shared_ptr<const HTTPRequest> request);

    // Fails every queued fetch (squall::Error "client closed") and closes idle connections; fetches in
    // progress finish, and their connections are closed rather than pooled. Later fetches fail at once.
    void close();

    IOLoop& loop() const noexcept;                  // the loop it was made with
    std::size_t active() const noexcept;            // fetches holding a slot
    std::size_t queued() const noexcept;            // fetches waiting for one
    std::size_t idle_connections() const noexcept;  // pooled HTTP/1.1 connections waiting for reuse
    const ClientStats& stats() const noexcept;      // counters since construction

private:
    std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace squall::http
