// websocket_connect: URL -> TCP (+ proxy CONNECT tunnel) (+ TLS) -> opening handshake -> connection.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "squall/coro/start.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/response_parser.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/websocket/connection.hpp"
#include "squall/websocket/detail/core.hpp"
#include "squall/websocket/detail/handshake.hpp"

namespace squall::websocket {

namespace {

struct ConnectArgs {
    http::HTTPRequest request;
    WebSocketOptions options;
};

// Closes the stream with a TimeoutError when `limit` expires; the caller turns the resulting stream error
// into that TimeoutError. Removed when destroyed.
class Deadline {
public:
    Deadline(IOLoop& loop, Duration limit, std::shared_ptr<IOStream> stream, std::string what)
        : loop_(loop), state_(std::make_shared<State>()) {
        state_->what = std::move(what);
        if (limit <= Duration::zero()) return;
        armed_ = true;
        handle_ = loop_.call_later(limit, [st = state_, s = std::move(stream)] {
            st->fired = true;
            s->close(std::make_exception_ptr(TimeoutError(st->what)));
        });
    }
    ~Deadline() {
        if (armed_ && !state_->fired) loop_.remove_timeout(handle_);
    }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    bool fired() const noexcept { return state_->fired; }
    const std::string& what() const noexcept { return state_->what; }

private:
    struct State {
        bool fired = false;
        std::string what;
    };
    IOLoop& loop_;
    std::shared_ptr<State> state_;
    TimeoutHandle handle_{};
    bool armed_ = false;
};

std::string http_url_of(const std::string& url) {
    auto starts = [&](std::string_view prefix) {
        return url.size() >= prefix.size() &&
               http::iequals(std::string_view(url).substr(0, prefix.size()), prefix);
    };
    if (starts("ws://")) return "http://" + url.substr(5);
    if (starts("wss://")) return "https://" + url.substr(6);
    throw http::InvalidURLError("websocket URL must start with ws:// or wss://: \"" + url.substr(0, 60) +
                                "\"");
}

// A request naming `url`, for a handshake response's effective_url().
std::shared_ptr<const http::HTTPRequest> request_for(const std::string& url) {
    auto request = std::make_shared<http::HTTPRequest>();
    request->url = url;
    return request;
}

std::shared_ptr<http::HTTPResponse> response_of(http::ResponseParser& parser, const std::string& url) {
    auto resp = std::make_shared<http::HTTPResponse>();
    resp->code = parser.code();
    resp->reason = parser.take_reason();
    resp->headers = parser.take_headers();
    resp->body = parser.take_body();
    resp->request = request_for(url);
    return resp;
}

// Reads a whole HTTP response (a refusal) with the HTTP client's parser.
Task<std::shared_ptr<http::HTTPResponse>> read_response(IOStream& stream, const char* method,
                                                        std::size_t max_header, std::string url) {
    http::ResponseParser parser(
        {.method = method, .max_header_size = max_header, .max_body_size = 1024 * 1024});
    Buffer& buf = stream.read_buffer();
    while (!parser.complete()) {
        if (buf.empty()) {
            bool eof = false;
            try {
                co_await stream.fill();
            } catch (const StreamClosedError& e) {
                if (e.real_error()) throw;
                eof = true;
            }
            if (eof) {
                parser.finish_eof();
                break;
            }
            continue;
        }
        buf.consume(parser.feed(buf.view()));
    }
    co_return response_of(parser, url);
}

// Turns the request into the opening handshake's: the ws:// URL as http://, a GET without a body whose
// response is not decompressed. Returns the parsed http URL.
http::URL to_handshake_request(http::HTTPRequest& req) {
    req.url = http_url_of(req.url);
    http::URL url = http::URL::parse(req.url);
    req.method = "GET";
    req.body.reset();
    req.decompress_response = false;
    return url;
}

// The TLS context for a wss:// URL (null for ws://), with the request's certificate settings.
std::shared_ptr<TlsContext> tls_context_for(const http::HTTPRequest& req, const http::URL& url) {
    if (!url.is_https()) return nullptr;
    return TlsContext::client({.verify_peer = req.validate_cert,
                               .check_hostname = req.validate_cert,
                               .ca_file = req.ca_certs,
                               .cert_file = req.client_cert,
                               .key_file = req.client_key});
}

// The TCP connection's options; TLS starts at connect only without a proxy (else inside the tunnel).
ConnectOptions connect_options_for(const http::HTTPRequest& req, const http::URL& url,
                                   const std::shared_ptr<TlsContext>& tls, bool proxied) {
    ConnectOptions co;
    co.timeout = req.connect_timeout;
    co.allow_ipv6 = req.allow_ipv6;
    if (!proxied && tls) {
        co.tls = tls;
        co.server_hostname = url.host;
    }
    return co;
}

// Opens a CONNECT tunnel to the URL's host through the proxy `stream` is connected to, then TLS inside it
// for wss://. The tunnel and the TLS handshake count against connect_timeout too (from start_time).
Task<void> open_tunnel(IOLoop& loop, const std::shared_ptr<IOStream>& stream, const http::HTTPRequest& req,
                       const http::URL& url, const std::shared_ptr<TlsContext>& tls, TimePoint start_time,
                       const std::string& ws_url) {
    const Duration left = std::max(Duration(std::chrono::milliseconds(1)),
                                   Duration(req.connect_timeout) - (loop.time() - start_time));
    Deadline deadline(loop, left, stream,
                      "connect_timeout of " + squall::format_duration(req.connect_timeout) +
                          " expired while tunnelling to " + url.host_port() + " through the proxy");
    std::exception_ptr failure;
    try {
        std::string connect_head = http::write_connect_request(req, url);
        co_await stream->write(std::move(connect_head));
        auto resp = co_await read_response(*stream, "CONNECT", req.max_header_size, ws_url);
        if (resp->code / 100 != 2) {
            throw WebSocketHandshakeError("websocket: the proxy refused the CONNECT tunnel to " +
                                              url.host_port() + ": HTTP " + std::to_string(resp->code) + " " +
                                              resp->reason,
                                          resp);
        }
        if (tls) co_await stream->start_tls(tls, url.host);
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    if (failure) {
        stream->close();
        if (deadline.fired()) throw TimeoutError(deadline.what());
        std::rethrow_exception(failure);
    }
}

// Reads until the response head is complete; returns its size (with the blank line) in the read buffer.
Task<std::size_t> read_response_head(IOStream& stream, std::size_t max_header_size) {
    Buffer& buf = stream.read_buffer();
    std::size_t end = Buffer::npos;
    std::size_t from = 0;
    for (;;) {
        end = buf.find("\r\n\r\n", from);
        if (end != Buffer::npos) break;
        if (buf.size() > max_header_size)
            throw WebSocketHandshakeError(
                "websocket handshake failed: response head exceeds max_header_size of " +
                    std::to_string(max_header_size) + " bytes",
                nullptr);
        from = buf.size() >= 3 ? buf.size() - 3 : 0;
        co_await stream.fill();
    }
    co_return end + 4;
}

constexpr std::string_view kSwitching = "HTTP/1.1 101";

// Whether a response head is a 101 Switching Protocols.
bool is_switching(std::string_view head) {
    return head.substr(0, kSwitching.size()) == kSwitching &&
           (head[kSwitching.size()] == ' ' || head[kSwitching.size()] == '\r');
}

// The 101 response: status line and headers parsed from its head.
std::shared_ptr<http::HTTPResponse> switching_response(std::string_view head, const std::string& ws_url) {
    const std::size_t line_end = head.find("\r\n");
    auto resp = std::make_shared<http::HTTPResponse>();
    resp->code = 101;
    resp->reason =
        std::string(http::detail::trim_ows(head.substr(kSwitching.size(), line_end - kSwitching.size())));
    resp->request = request_for(ws_url);
    try {
        resp->headers = http::HTTPHeaders::parse(head.substr(line_end + 2));
    } catch (const http::ProtocolError& e) {
        throw WebSocketHandshakeError(std::string("websocket handshake failed: ") + e.what(), resp);
    }
    return resp;
}

// A refusal (anything but 101): read whole, it becomes the WebSocketHandshakeError thrown.
Task<void> throw_refusal(IOStream& stream, std::size_t max_header_size, const std::string& ws_url) {
    std::shared_ptr<http::HTTPResponse> refusal;
    try {
        refusal = co_await read_response(stream, "GET", max_header_size, ws_url);
    } catch (const http::ProtocolError& e) {
        throw WebSocketHandshakeError(std::string("websocket handshake failed: ") + e.what(), nullptr);
    }
    throw WebSocketHandshakeError("websocket handshake failed: HTTP " + std::to_string(refusal->code) + " " +
                                      refusal->reason + " (expected 101 Switching Protocols)",
                                  refusal);
}

// The server's answer to the opening handshake, once checked.
struct Handshake {
    std::shared_ptr<http::HTTPResponse> response;
    detail::HandshakeOutcome outcome;
};

// Sends the opening handshake and reads the answer: a 101 whose headers match what was asked (the frames
// after it stay in the read buffer), else a WebSocketHandshakeError.
Task<Handshake> exchange_handshake(IOStream& stream, const http::HTTPRequest& req, const http::URL& url,
                                   const std::string& key, const WebSocketOptions& opts,
                                   const std::string& ws_url) {
    http::SerializedRequest out = http::write_request(req, url, {.via_proxy = false, .keep_alive = true});
    co_await stream.write(std::move(out.head));
    const std::size_t end = co_await read_response_head(stream, req.max_header_size);
    Buffer& buf = stream.read_buffer();
    const std::string_view head = buf.view().substr(0, end);
    if (!is_switching(head)) {
        co_await throw_refusal(stream, req.max_header_size, ws_url);
    }
    Handshake result;
    result.response = switching_response(head, ws_url);
    buf.consume(end);  // what follows is frames
    try {
        result.outcome = detail::check_handshake_response(result.response->headers, key, opts);
    } catch (const std::invalid_argument& e) {
        throw WebSocketHandshakeError(std::string("websocket handshake failed: ") + e.what(),
                                      result.response);
    }
    co_return std::move(result);
}

// exchange_handshake() within request_timeout; a failure closes the stream, and the stream's end becomes a
// WebSocketHandshakeError.
Task<Handshake> handshake(IOLoop& loop, const std::shared_ptr<IOStream>& stream, const http::HTTPRequest& req,
                          const http::URL& url, const std::string& key, const WebSocketOptions& opts,
                          const std::string& ws_url) {
    Deadline deadline(loop, req.request_timeout, stream,
                      "request_timeout of " + squall::format_duration(req.request_timeout) +
                          " expired during the websocket handshake with " + url.host_port());
    std::exception_ptr failure;
    Handshake result;
    try {
        result = co_await exchange_handshake(*stream, req, url, key, opts, ws_url);
    } catch (const std::exception&) {
        failure = std::current_exception();
    }
    if (failure) {
        stream->close();
        if (deadline.fired()) throw TimeoutError(deadline.what());
        try {
            std::rethrow_exception(failure);
        } catch (const StreamClosedError& e) {
            throw WebSocketHandshakeError(std::string("websocket handshake failed: ") + e.what(), nullptr);
        }
    }
    co_return std::move(result);
}

Task<WebSocketConnection> connect_impl(IOLoop& loop, std::shared_ptr<ConnectArgs> args) {
    http::HTTPRequest& req = args->request;
    const WebSocketOptions& opts = args->options;
    const std::string ws_url = req.url;
    const http::URL url = to_handshake_request(req);
    const std::string key = detail::make_handshake_key();
    detail::add_handshake_headers(req, key, opts);

    const std::shared_ptr<TlsContext> tls = tls_context_for(req, url);
    const bool proxied = !req.proxy_host.empty();
    TCPClient client(loop);
    ConnectOptions co = connect_options_for(req, url, tls, proxied);
    const auto start_time = loop.time();
    auto stream =
        co_await client.connect(proxied ? req.proxy_host : url.host, proxied ? req.proxy_port : url.port, co);
    stream->set_nodelay(true);
    if (proxied) co_await open_tunnel(loop, stream, req, url, tls, start_time, ws_url);

    Handshake shake = co_await handshake(loop, stream, req, url, key, opts, ws_url);
    auto core = std::make_shared<detail::Core>(loop, stream, opts);
    core->response = std::move(*shake.response);
    core->subprotocol = std::move(shake.outcome.subprotocol);
    core->deflate = shake.outcome.deflate;
    core->start();
    co_return WebSocketConnection(std::move(core));
}

}  // namespace

Task<WebSocketConnection> websocket_connect(IOLoop& loop, const std::string& url,
                                            const WebSocketOptions& options) {
    auto args = std::make_shared<ConnectArgs>();
    args->request.url = url;
    args->options = options;
    return connect_impl(loop, std::move(args));
}

Task<WebSocketConnection> websocket_connect(IOLoop& loop, const std::string& url) {
    auto args = std::make_shared<ConnectArgs>();
    args->request.url = url;
    return connect_impl(loop, std::move(args));
}

Task<WebSocketConnection> websocket_connect(IOLoop& loop, const http::HTTPRequest& request,
                                            const WebSocketOptions& options) {
    auto args = std::make_shared<ConnectArgs>();
    args->request = request;
    args->options = options;
    return connect_impl(loop, std::move(args));
}

}  // namespace squall::websocket
