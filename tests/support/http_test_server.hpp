// TestServer: a loopback HTTP/1.1 server for client tests (tornado.testing's AsyncHTTPTestCase server),
// running as coroutines on the test's own IOLoop. Each route answers with exact bytes, so a test can
// send any response, including slow, truncated, malformed and reset ones.
//
//     SQUALL_TEST_CASE("fetch reads a chunked body", 5s) {
//         squall::testing::TestServer server(loop);
//         server.route("/c", [](const TestRequest&) { return Reply::chunked(200, {"hel", "lo"}); });
//         auto resp = co_await client.fetch(server.url("/c"));
//         CHECK(server.connections_accepted() == 1);
//     }
//
// Requests are parsed minimally but strictly (request line, headers, Content-Length or chunked bodies,
// Expect: 100-continue); a malformed request gets a 400 and the connection closes. After a Reply's steps
// the connection waits for the next request (keep-alive) unless a step closed it or the request said
// "Connection: close". The server is destroyed synchronously: every connection closes and every
// coroutine of the server is gone when the destructor returns (see test_fiber.hpp for why).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "squall/ioloop/ioloop.hpp"
#include "tests/support/test_fiber.hpp"

namespace squall::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive lookup of the first header named `name`.
std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name);

struct TestRequest {
    std::string method;
    std::string target;   // as sent: origin-form "/p?q" or absolute-form "http://h/p?q"
    std::string path;     // without the query (and without scheme and authority in absolute-form)
    std::string query;    // without the '?'
    std::string version;  // "HTTP/1.1"
    HeaderList headers;
    std::string body;  // decoded (chunked framing removed)
    bool chunked = false;
    HeaderList trailers;
    std::size_t connection = 0;           // 1-based, in accept order
    std::size_t index_on_connection = 0;  // 1-based

    std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
    // The value of `name` in the query string (percent-decoded), or nullopt.
    std::optional<std::string> query_param(std::string_view name) const;
};

// What the server does for one request: a script of steps run in order.
class Reply {
public:
    struct Step {
        enum class Kind { send, pause, generate, close, reset, hang } kind;
        std::string bytes{};      // send
        Duration delay{};         // pause
        std::uint64_t count = 0;  // generate: body bytes (Reply::pattern)
        bool chunked = false;     // generate: chunked framing
        std::size_t piece = 0;    // generate: bytes per write (and per chunk)
    };
    std::vector<Step> steps;

    // "HTTP/1.1 CODE REASON\r\n" + headers + "\r\n".
    static std::string head(int code, const HeaderList& headers = {});
    // A complete response with Content-Length.
    static Reply text(int code, std::string body, HeaderList headers = {});
    static Reply ok(std::string body) { return text(200, std::move(body)); }
    // Exactly these bytes; the connection then waits for the next request.
    static Reply raw(std::string bytes);
    // Transfer-Encoding: chunked with one chunk per element (empty elements are skipped: an empty chunk
    // would end the body), then the trailers.
    static Reply chunked(int code, const std::vector<std::string>& chunks, const HeaderList& trailers = {},
                         HeaderList headers = {});
    // No Content-Length, no chunking: the body ends when the server closes.
    static Reply close_delimited(int code, std::string body, HeaderList headers = {});
    // Each piece sent after `delay` (the first one too); the connection then stays open.
    static Reply slow(const std::vector<std::string>& pieces, Duration delay);
    // Declares Content-Length: declared_length but sends only `body`, then closes.
    static Reply truncated(int code, std::size_t declared_length, std::string body);
    // These bytes, then close.
    static Reply malformed(std::string bytes);
    // Optionally some bytes, then a TCP reset (SO_LINGER 0).
    static Reply reset(std::string bytes_first = {});
    // Reads and ignores whatever comes until the client closes; never answers.
    static Reply never_answer();
    // A body of n pattern bytes (see pattern()), with Content-Length or chunked, written in pieces of
    // `piece` bytes without holding the body in memory.
    static Reply generated(int code, std::uint64_t n, bool chunked, std::size_t piece = 64 * 1024,
                           HeaderList headers = {});
    // The pattern body: byte i is 'a' + i % 26.
    static std::string pattern(std::uint64_t offset, std::size_t n);

    // Prepends an interim response (e.g. 103 Early Hints with Link headers, or an unsolicited 100).
    Reply& with_interim(int code, const HeaderList& headers = {});
    Reply& then_send(std::string bytes);
    Reply& then_pause(Duration delay);
    Reply& then_close();
    Reply& then_reset();
    Reply& then_hang();
};

// How a route treats "Expect: 100-continue".
enum class ExpectContinue {
    send_100,     // answer "100 Continue", then read the body (default)
    ignore,       // send nothing and wait for the body (the client must give up waiting and send it)
    reply_first,  // call the handler without reading the body, send its reply, then close
};

struct RouteOptions {
    ExpectContinue expect = ExpectContinue::send_100;
};

using Handler = std::function<Reply(const TestRequest&)>;

struct TestServerOptions {
    std::string host = "127.0.0.1";  // numeric ("::1" for IPv6)
    int port = 0;                    // 0: the kernel picks one
    std::size_t max_header_size = 64 * 1024;
    std::size_t max_body_size = 256 * 1024 * 1024;
};

class TestServer {
public:
    explicit TestServer(IOLoop& loop, TestServerOptions options = {});
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    // Routes by exact path (query excluded). Unrouted paths go to the default handler (404).
    void route(std::string path, Handler handler, RouteOptions options = {});
    void set_default(Handler handler, RouteOptions options = {});

    int port() const noexcept { return port_; }
    const std::string& host() const noexcept { return options_.host; }
    // "http://127.0.0.1:PORT" + path_and_query ("[::1]" for IPv6).
    std::string url(std::string_view path_and_query = "/") const;
    // "127.0.0.1:PORT" (for Host headers and proxy targets).
    std::string authority() const;

    std::size_t connections_accepted() const noexcept { return requests_per_connection_.size(); }
    // Requests whose head arrived, per connection in accept order (keep-alive reuse shows as > 1).
    const std::vector<std::size_t>& requests_per_connection() const noexcept {
        return requests_per_connection_;
    }
    std::size_t requests_total() const noexcept;
    // Every request fully received, in order.
    const std::vector<TestRequest>& requests() const noexcept { return requests_; }
    // Connections currently open on the server side.
    std::size_t open_connections() const noexcept { return fibers_.running(); }
    // Closes every open connection now (e.g. to make a client's pooled connection stale). Call it from
    // the test body, never from inside a handler.
    void close_all_connections() noexcept { fibers_.destroy_all(); }

private:
    struct Route {
        Handler handler;
        RouteOptions options;
    };
    detail::Fiber serve(int fd, std::size_t connection);
    const Route& find_route(std::string_view path) const;
    static Reply call_handler(const Route& route, const TestRequest& req);

    IOLoop& loop_;
    TestServerOptions options_;
    int port_ = 0;
    std::map<std::string, Route, std::less<>> routes_;
    Route default_route_;
    std::vector<std::size_t> requests_per_connection_;
    std::vector<TestRequest> requests_;
    std::unique_ptr<detail::Acceptor> acceptor_;
    detail::FiberSet fibers_;
};

namespace detail {
// Runs a reply's steps on a socket. Returns false when the connection must not serve another request
// (closed, reset, hung up, or the peer went away).
Task<bool> run_reply(Socket& sock, const Reply& reply);
}  // namespace detail

}  // namespace squall::testing
