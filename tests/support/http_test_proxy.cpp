#include "tests/support/http_test_proxy.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>

#include "tests/support/http_test_request.hpp"

namespace squall::testing {

namespace {

// Splits "host:port" / "[v6]:port" (port required). Returns false when malformed.
bool split_host_port(std::string_view hp, std::string& host, int& port) {
    auto colon = hp.rfind(':');
    if (colon == std::string_view::npos || colon + 1 >= hp.size()) return false;
    std::string_view h = hp.substr(0, colon);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    std::uint64_t p = 0;
    if (h.empty() || !detail::parse_content_length(hp.substr(colon + 1), p) || p == 0 || p > 65535)
        return false;
    host = std::string(h);
    port = static_cast<int>(p);
    return true;
}

struct Tunnel {
    std::unique_ptr<detail::Socket> client;
    std::unique_ptr<detail::Socket> upstream;
};

// Copies bytes one way until EOF or an error, then half-closes the other side.
detail::Fiber pump(std::shared_ptr<Tunnel> t, bool client_to_upstream) {
    detail::Socket& from = client_to_upstream ? *t->client : *t->upstream;
    detail::Socket& to = client_to_upstream ? *t->upstream : *t->client;
    std::string buf;
    for (;;) {
        buf.clear();
        if (co_await from.read_some(buf) <= 0) break;
        if (!co_await to.write_all(buf)) break;
    }
    to.shutdown_write();
}

}  // namespace

std::string basic_auth(std::string_view user, std::string_view password) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string in = std::string(user) + ":" + std::string(password);
    std::string out = "Basic ";
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
    }
    if (std::size_t rest = in.size() - i; rest > 0) {
        unsigned v = (unsigned char)in[i] << 16 | (rest == 2 ? (unsigned char)in[i + 1] << 8 : 0u);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

TestProxy::TestProxy(IOLoop& loop, TestProxyOptions options) : loop_(loop), options_(std::move(options)) {
    int fd = detail::listen_on(options_.host, options_.port, port_);
    acceptor_ = std::make_unique<detail::Acceptor>(loop_, fd, [this](int cfd) {
        ++connections_;
        fibers_.start(serve(cfd));
    });
}

TestProxy::~TestProxy() {
    acceptor_.reset();
    fibers_.destroy_all();
}

bool TestProxy::authorized(const TestRequest& req) const {
    if (options_.username.empty()) return true;
    auto got = req.header("Proxy-Authorization");
    return got && *got == basic_auth(options_.username, options_.password);
}

detail::Fiber TestProxy::serve(int fd) {
    using detail::ReadStatus;
    auto client = std::make_unique<detail::Socket>(loop_, fd);
    std::string buf;
    for (;;) {
        TestRequest req;
        auto status = co_await detail::read_request_head(*client, buf, req, 64 * 1024);
        if (status == ReadStatus::eof) co_return;
        if (status != ReadStatus::ok) {
            co_await client->write_all(detail::closing_head(400));
            co_return;
        }
        if (!authorized(req)) {
            ++refused_;
            co_await client->write_all(
                detail::closing_head(407, "Proxy-Authenticate: Basic realm=\"squall-test\"\r\n"));
            co_return;
        }
        if (req.method == "CONNECT") {
            std::string host;
            int port = 0;
            std::unique_ptr<detail::Socket> upstream;
            if (!options_.allow_connect) {
                ++refused_;
                co_await client->write_all(detail::closing_head(403));
                co_return;
            }
            int err = -EINVAL;
            if (split_host_port(req.target, host, port))
                err = co_await detail::Socket::connect(loop_, host, port, upstream);
            if (err != 0) {
                ++refused_;
                co_await client->write_all(detail::closing_head(502));
                co_return;
            }
            tunnels_.push_back(req.target);
            if (!co_await client->write_all(std::string_view("HTTP/1.1 200 Connection established\r\n\r\n")))
                co_return;
            // Bytes the client sent after the CONNECT head (e.g. an eager TLS ClientHello) go first.
            if (!buf.empty() && !co_await upstream->write_all(buf)) co_return;
            auto t = std::make_shared<Tunnel>(Tunnel{std::move(client), std::move(upstream)});
            fibers_.start(pump(t, true));
            fibers_.start(pump(t, false));
            co_return;
        }
        if (!req.target.starts_with("http://")) {
            ++refused_;
            co_await client->write_all(detail::closing_head(400));
            co_return;
        }
        // Expect: 100-continue is answered here; the upstream gets the whole body at once.
        bool valid;
        auto expect = req.header("Expect");
        if (detail::request_has_body(req, valid) && expect && detail::iequals(*expect, "100-continue") &&
            !co_await client->write_all(std::string_view("HTTP/1.1 100 Continue\r\n\r\n")))
            co_return;
        status = co_await detail::read_request_body(*client, buf, req, 256 * 1024 * 1024);
        if (status != ReadStatus::ok) {
            if (status != ReadStatus::eof) co_await client->write_all(detail::closing_head(400));
            co_return;
        }
        forwarded_.push_back(req);
        co_await forward(*client, std::move(req));
        co_return;  // the relayed response said "Connection: close"
    }
}

Task<void> TestProxy::forward(detail::Socket& client, TestRequest req) {
    std::string_view rest = std::string_view(req.target).substr(std::strlen("http://"));
    auto slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    std::string host;
    int port = 80;
    if (authority.find(':') != std::string_view::npos && authority.back() != ']') {
        if (!split_host_port(authority, host, port)) host.clear();
    } else {
        host = std::string(authority);
    }
    std::unique_ptr<detail::Socket> upstream;
    int err = -EINVAL;
    if (!host.empty()) err = co_await detail::Socket::connect(loop_, host, port, upstream);
    if (err != 0) {
        ++refused_;
        co_await client.write_all(detail::closing_head(502));
        co_return;
    }
    std::string out = req.method + " " +
                      (slash == std::string_view::npos ? "/" : std::string(rest.substr(slash))) +
                      " HTTP/1.1\r\n";
    for (const auto& [n, v] : req.headers) {
        if (detail::iequals(n, "Proxy-Authorization") || detail::iequals(n, "Proxy-Connection") ||
            detail::iequals(n, "Connection") || detail::iequals(n, "Expect") ||
            detail::iequals(n, "Transfer-Encoding") || detail::iequals(n, "Content-Length"))
            continue;
        out += n + ": " + v + "\r\n";
    }
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
        out += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
    out += "Connection: close\r\n\r\n" + req.body;
    if (!co_await upstream->write_all(out)) co_return;

    // Relay the first head with "Connection: close", then everything else as it comes.
    std::string buf;
    std::size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (buf.size() > 64 * 1024 || co_await upstream->read_some(buf) <= 0) {
            co_await client.write_all(detail::closing_head(502));
            co_return;
        }
    }
    std::string head;
    std::string_view lines(buf.data(), end + 2);
    while (!lines.empty()) {
        auto eol = lines.find("\r\n");
        std::string_view line = lines.substr(0, eol + 2);
        lines.remove_prefix(eol + 2);
        auto colon = line.find(':');
        if (!head.empty() && colon != std::string_view::npos &&
            (detail::iequals(line.substr(0, colon), "Connection") ||
             detail::iequals(line.substr(0, colon), "Keep-Alive")))
            continue;
        head += line;
    }
    head += "Connection: close\r\n\r\n";
    buf.erase(0, end + 4);
    if (!co_await client.write_all(head + buf)) co_return;
    for (;;) {
        buf.clear();
        if (co_await upstream->read_some(buf) <= 0) break;
        if (!co_await client.write_all(buf)) break;
    }
}

}  // namespace squall::testing
