#include "tests/support/http_test_server.hpp"

#include <cctype>
#include <cstdio>
#include <exception>
#include <numeric>

#include "squall/coro/log.hpp"
#include "tests/support/http_test_request.hpp"

namespace squall::testing {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

std::string hex(std::uint64_t n) {
    char b[32];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(n));
    return b;
}

// Whether the connection ends after this request's response (RFC 9112 section 9.3).
bool request_closes(const TestRequest& req) {
    auto conn = req.header("Connection");
    if (conn && detail::iequals(*conn, "close")) return true;
    if (req.version == "HTTP/1.0") return !(conn && detail::iequals(*conn, "keep-alive"));
    return false;
}

}  // namespace

std::optional<std::string_view> find_header(const HeaderList& headers, std::string_view name) {
    for (const auto& [n, v] : headers)
        if (detail::iequals(n, name)) return std::string_view(v);
    return std::nullopt;
}

std::optional<std::string> TestRequest::query_param(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
        auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq)) == name)
            return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    return std::nullopt;
}

// ---------------------------------------------------------------- Reply

std::string Reply::head(int code, const HeaderList& headers) {
    std::string s =
        "HTTP/1.1 " + std::to_string(code) + " " + std::string(detail::reason_phrase(code)) + "\r\n";
    for (const auto& [n, v] : headers) s += n + ": " + v + "\r\n";
    s += "\r\n";
    return s;
}

Reply Reply::text(int code, std::string body, HeaderList headers) {
    if (!find_header(headers, "Content-Type")) headers.emplace_back("Content-Type", "text/plain");
    headers.emplace_back("Content-Length", std::to_string(body.size()));
    return raw(head(code, headers) + body);
}

Reply Reply::raw(std::string bytes) {
    Reply r;
    r.steps.push_back(Step{.kind = Step::Kind::send, .bytes = std::move(bytes)});
    return r;
}

Reply Reply::chunked(int code, const std::vector<std::string>& chunks, const HeaderList& trailers,
                     HeaderList headers) {
    headers.emplace_back("Transfer-Encoding", "chunked");
    std::string s = head(code, headers);
    for (const auto& c : chunks)
        if (!c.empty()) s += hex(c.size()) + "\r\n" + c + "\r\n";
    s += "0\r\n";
    for (const auto& [n, v] : trailers) s += n + ": " + v + "\r\n";
    s += "\r\n";
    return raw(std::move(s));
}

Reply Reply::close_delimited(int code, std::string body, HeaderList headers) {
    headers.emplace_back("Connection", "close");
    return raw(head(code, headers) + body).then_close();
}

Reply Reply::slow(const std::vector<std::string>& pieces, Duration delay) {
    Reply r;
    for (const auto& p : pieces) r.then_pause(delay).then_send(p);
    return r;
}

Reply Reply::truncated(int code, std::size_t declared_length, std::string body) {
    return raw(head(code, {{"Content-Length", std::to_string(declared_length)}}) + body).then_close();
}

Reply Reply::malformed(std::string bytes) {
    return raw(std::move(bytes)).then_close();
}

Reply Reply::reset(std::string bytes_first) {
    Reply r;
    if (!bytes_first.empty()) r.then_send(std::move(bytes_first));
    return r.then_reset();
}

Reply Reply::never_answer() {
    return Reply{}.then_hang();
}

Reply Reply::generated(int code, std::uint64_t n, bool chunked, std::size_t piece, HeaderList headers) {
    if (chunked)
        headers.emplace_back("Transfer-Encoding", "chunked");
    else
        headers.emplace_back("Content-Length", std::to_string(n));
    Reply r = raw(head(code, headers));
    r.steps.push_back(Step{.kind = Step::Kind::generate,
                           .count = n,
                           .chunked = chunked,
                           .piece = piece == 0 ? 64 * 1024 : piece});
    return r;
}

std::string Reply::pattern(std::uint64_t offset, std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (offset + i) % 26);
    return s;
}

Reply& Reply::with_interim(int code, const HeaderList& headers) {
    steps.insert(steps.begin(), Step{.kind = Step::Kind::send, .bytes = head(code, headers)});
    return *this;
}
Reply& Reply::then_send(std::string bytes) {
    steps.push_back(Step{.kind = Step::Kind::send, .bytes = std::move(bytes)});
    return *this;
}
Reply& Reply::then_pause(Duration delay) {
    steps.push_back(Step{.kind = Step::Kind::pause, .delay = delay});
    return *this;
}
Reply& Reply::then_close() {
    steps.push_back(Step{.kind = Step::Kind::close});
    return *this;
}
Reply& Reply::then_reset() {
    steps.push_back(Step{.kind = Step::Kind::reset});
    return *this;
}
Reply& Reply::then_hang() {
    steps.push_back(Step{.kind = Step::Kind::hang});
    return *this;
}

namespace detail {

namespace {

Task<bool> send_generated(Socket& sock, const Reply::Step& step) {
    // One pattern block, rotated by the offset modulo 26, serves every piece.
    const std::string block = Reply::pattern(0, step.piece + 26);
    std::uint64_t sent = 0;
    while (sent < step.count) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(step.piece, step.count - sent));
        std::string_view data(block.data() + sent % 26, n);
        if (step.chunked) {
            if (!co_await sock.write_all(hex(n) + "\r\n")) co_return false;
            if (!co_await sock.write_all(data)) co_return false;
            if (!co_await sock.write_all(std::string_view("\r\n"))) co_return false;
        } else if (!co_await sock.write_all(data)) {
            co_return false;
        }
        sent += n;
    }
    if (step.chunked) co_return co_await sock.write_all(std::string_view("0\r\n\r\n"));
    co_return true;
}

}  // namespace

Task<bool> run_reply(Socket& sock, const Reply& reply) {
    for (const auto& step : reply.steps) {
        switch (step.kind) {
            case Reply::Step::Kind::send:
                if (!co_await sock.write_all(step.bytes)) co_return false;
                break;
            case Reply::Step::Kind::pause:
                co_await Sleep{sock.loop(), step.delay};
                break;
            case Reply::Step::Kind::generate:
                if (!co_await send_generated(sock, step)) co_return false;
                break;
            case Reply::Step::Kind::close:
                sock.close();
                co_return false;
            case Reply::Step::Kind::reset:
                sock.reset();
                co_return false;
            case Reply::Step::Kind::hang: {
                std::string sink;
                while (co_await sock.read_some(sink) > 0) sink.clear();
                co_return false;
            }
        }
    }
    co_return true;
}

}  // namespace detail

// ---------------------------------------------------------------- TestServer

TestServer::TestServer(IOLoop& loop, TestServerOptions options) : loop_(loop), options_(std::move(options)) {
    default_route_.handler = [](const TestRequest& req) {
        return Reply::text(404, "no route for " + req.path + "\n");
    };
    int fd = detail::listen_on(options_.host, options_.port, port_);
    acceptor_ = std::make_unique<detail::Acceptor>(loop_, fd, [this](int cfd) {
        requests_per_connection_.push_back(0);
        fibers_.start(serve(cfd, requests_per_connection_.size()));
    });
}

TestServer::~TestServer() {
    acceptor_.reset();
    fibers_.destroy_all();
}

void TestServer::route(std::string path, Handler handler, RouteOptions options) {
    routes_[std::move(path)] = Route{std::move(handler), options};
}

void TestServer::set_default(Handler handler, RouteOptions options) {
    default_route_ = Route{std::move(handler), options};
}

std::string TestServer::authority() const {
    bool v6 = options_.host.find(':') != std::string::npos;
    return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_);
}

std::string TestServer::url(std::string_view path_and_query) const {
    return "http://" + authority() + std::string(path_and_query);
}

std::size_t TestServer::requests_total() const noexcept {
    return std::accumulate(requests_per_connection_.begin(), requests_per_connection_.end(), std::size_t{0});
}

const TestServer::Route& TestServer::find_route(std::string_view path) const {
    auto it = routes_.find(path);
    return it == routes_.end() ? default_route_ : it->second;
}

Reply TestServer::call_handler(const Route& route, const TestRequest& req) {
    try {
        return route.handler(req);
    } catch (const std::exception& e) {
        log(LogLevel::error, std::string("test server handler for ") + req.path + " threw: " + e.what());
        return Reply::text(500, std::string("handler threw: ") + e.what() + "\n");
    }
}

detail::Fiber TestServer::serve(int fd, std::size_t connection) {
    using detail::ReadStatus;
    detail::Socket sock(loop_, fd);
    std::string buf;
    for (std::size_t index = 1;; ++index) {
        TestRequest req;
        req.connection = connection;
        req.index_on_connection = index;
        auto status = co_await detail::read_request_head(sock, buf, req, options_.max_header_size);
        if (status == ReadStatus::eof) co_return;
        if (status != ReadStatus::ok) {
            int code = status == ReadStatus::too_large ? 431 : 400;
            co_await sock.write_all(detail::closing_head(code));
            co_return;
        }
        ++requests_per_connection_[connection - 1];
        // Copy: a handler may add routes while this request is served.
        Route route = find_route(req.path);

        bool framing_valid;
        bool has_body = detail::request_has_body(req, framing_valid);
        auto expect = req.header("Expect");
        if (has_body && expect && detail::iequals(*expect, "100-continue")) {
            if (route.options.expect == ExpectContinue::reply_first) {
                requests_.push_back(req);
                if (!co_await detail::run_reply(sock, call_handler(route, req))) co_return;
                // The body was never read, so the connection cannot continue. Half-close and drain
                // rather than close: closing with unread bytes would reset the connection and the
                // client could lose the reply.
                sock.shutdown_write();
                std::string sink;
                while (co_await sock.read_some(sink) > 0) sink.clear();
                co_return;
            }
            if (route.options.expect == ExpectContinue::send_100 &&
                !co_await sock.write_all(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")))
                co_return;
        }
        status = co_await detail::read_request_body(sock, buf, req, options_.max_body_size);
        if (status == ReadStatus::eof) co_return;
        if (status != ReadStatus::ok) {
            int code = status == ReadStatus::too_large ? 413 : 400;
            co_await sock.write_all(detail::closing_head(code));
            co_return;
        }
        requests_.push_back(req);
        if (!co_await detail::run_reply(sock, call_handler(route, req))) co_return;
        if (request_closes(req)) co_return;
    }
}

}  // namespace squall::testing
