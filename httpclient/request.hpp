// HTTPRequest: everything one fetch needs, as an option struct with Tornado's names and defaults.
//
//     squall::http::HTTPRequest req{
//         .url = "http://127.0.0.1:8080/upload",
//         .method = "POST",
//         .headers = {{"Content-Type", "application/json"}},
//         .body = R"({"x": 1})",
//         .request_timeout = std::chrono::seconds(5),
//     };
//     auto resp = co_await client.fetch(req);
//
// Fields must be written in declaration order in a designated initializer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "squall/httpclient/headers.hpp"

namespace squall::http {

// Produces the request body piece by piece for streamed uploads (sent chunked unless the request sets
// Content-Length): each call returns the next piece, std::nullopt at the end. It is called on the loop's
// thread between writes and must return without blocking.
using BodyProducer = std::function<std::optional<std::string>()>;

// Receives body pieces as they arrive (after decompression when decompress_response); when set, the
// response body is not buffered. The view is valid only during the call.
using StreamingCallback = std::function<void(std::string_view piece)>;

// Receives the response head line by line, as Tornado's header_callback: the status line, each header
// line, then an empty line ("\r\n"); lines end with CRLF. Called again for each 1xx response.
using HeaderCallback = std::function<void(std::string_view line)>;

// Which HTTP version a request may use (curl's --http1.1, --http2, --http2-prior-knowledge).
//   automatic              https:// offers h2 and http/1.1 by ALPN and uses what the server picks;
//                          http:// speaks HTTP/1.1 (h2c only by prior knowledge, never by Upgrade)
//   http1_1                HTTP/1.1 only (ALPN offers http/1.1)
//   http2                  as automatic (a server that does not pick h2 is still served by HTTP/1.1)
//   http2_prior_knowledge  HTTP/2 from the first byte, also on http:// (h2c); https:// requires h2 by ALPN
enum class HTTPVersion { automatic, http1_1, http2, http2_prior_knowledge };

// The body bound when max_body_size is unset and the body is collected (100 MiB).
inline constexpr std::size_t kDefaultMaxBodySize = 100 * 1024 * 1024;

// One fetch's request and settings (see the file comment). Zero durations mean "no limit" where noted.
struct HTTPRequest {
    std::string url{};           // http:// or https:// (InvalidURLError otherwise)
    std::string method = "GET";  // sent as given (a token: RequestError otherwise)
    HTTPHeaders headers{};       // sent in order; squall adds Host, Content-Length etc. when absent
    // Request body; std::nullopt sends none (Content-Length: 0 is still written for POST, PUT and PATCH).
    std::optional<std::string> body{};
    BodyProducer body_producer{};  // mutually exclusive with body
    std::string auth_username{};   // Basic authentication when non-empty
    std::string auth_password{};   // with auth_username
    // Resolve + connect (+ proxy CONNECT) + TLS; 0: none. Also bounds the wait in the queue (see Client).
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(20);
    // From dequeue to the last body byte; 0: none (allowed only with a read_timeout).
    std::chrono::milliseconds request_timeout = std::chrono::seconds(20);
    // Idle (inter-byte) read timeout: the response must make progress at least this often, from the
    // request sent to its last byte (each received byte restarts it; aiohttp's sock_read). 0: none.
    std::chrono::milliseconds read_timeout{0};
    bool follow_redirects = true;     // follow 3xx with a Location (303, and 301/302 after POST, become GET)
    int max_redirects = 5;            // more raise RedirectError (with raise_error)
    std::string user_agent{};         // empty: "squall/<version>"
    bool decompress_response = true;  // sends Accept-Encoding: gzip and inflates gzip/deflate bodies
    StreamingCallback streaming_callback{};  // see StreamingCallback
    HeaderCallback header_callback{};        // see HeaderCallback
    // Sends Expect: 100-continue and holds the body until "100 Continue" (or kExpectContinueTimeout).
    bool expect_100_continue = false;
    bool validate_cert = true;  // https: verify the chain and the hostname
    std::string ca_certs{};     // PEM file; empty: the system's store
    std::string client_cert{};  // PEM file
    std::string client_key{};   // PEM file
    bool allow_ipv6 = true;     // false: IPv4 addresses only
    std::string proxy_host{};   // empty: no proxy. http:// goes through as absolute-form, https:// by CONNECT
    std::uint16_t proxy_port = 0;             // with proxy_host
    std::string proxy_username{};             // Proxy-Authorization (Basic) when non-empty
    std::string proxy_password{};             // with proxy_username
    std::size_t max_header_size = 64 * 1024;  // bytes of response head allowed (ProtocolError beyond)
    // Bound on the response body as received (and as inflated). Unset: kDefaultMaxBodySize for a body
    // collected in HTTPResponse::body, none for a body handed to streaming_callback (a download to disk
    // may be as large as it likes); set it to bound a streamed body too. See max_body_size_of().
    std::optional<std::size_t> max_body_size{};
    bool raise_error = true;  // status >= 400 raises HTTPError carrying the response
    // A pooled keep-alive connection can turn out dead (closed by the server while idle) before any
    // response byte arrives. GET, HEAD, OPTIONS, PUT and DELETE are then retried once on a fresh
    // connection; other methods (POST, PATCH...) fail with StreamClosedError unless this is true.
    bool retry_on_stale_connection = false;
    HTTPVersion http_version = HTTPVersion::automatic;  // see HTTPVersion
};

// The body limit in force for `request` (see HTTPRequest::max_body_size).
inline std::size_t max_body_size_of(const HTTPRequest& request) noexcept {
    if (request.max_body_size) return *request.max_body_size;
    return request.streaming_callback ? static_cast<std::size_t>(-1) : kDefaultMaxBodySize;
}

}  // namespace squall::http
