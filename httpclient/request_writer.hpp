// Request serialization: the request head (request line and headers) in one buffer, ready to go out in
// one writev together with the body, and chunk framing for streamed uploads.
//
//   auto url = URL::parse(request.url);
//   SerializedRequest out = write_request(request, url, {.keep_alive = true});
//   stream.writev(out.buffers());                // head + body (the body is not copied)
//   if (out.chunked) {                           // body_producer without Content-Length
//       while (auto piece = request.body_producer()) stream.write(encode_chunk(*piece));
//       stream.write(kLastChunk);
//   }
//
// Header names, values, the method and the target are validated: CR, LF or NUL anywhere (header injection)
// and non-token names or methods throw RequestError naming the offending field.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "squall/httpclient/request.hpp"
#include "squall/httpclient/url.hpp"

namespace squall::http {

// How write_request frames a request for its connection.
struct RequestWriterOptions {
    // The request goes to a plain HTTP proxy: absolute-form target ("http://host/path") and, when the
    // request has proxy_username, a Proxy-Authorization header.
    bool via_proxy = false;
    // false adds "Connection: close" (the connection will not be reused).
    bool keep_alive = true;
};

// A request ready to send: head and body are written as they are; a streamed body follows separately.
struct SerializedRequest {
    std::string head{};       // request line, headers and the blank line
    std::string_view body{};  // points into HTTPRequest::body (empty when none or streamed)
    bool chunked = false;     // the body comes from body_producer, chunk-encoded by the caller
    bool streamed = false;  // the body comes from body_producer (chunked, or raw with a user Content-Length)
    bool expect_continue = false;  // wait for "100 Continue" (or a final response) before sending the body

    // head and body, for one gathered write.
    std::array<std::string_view, 2> buffers() const noexcept { return {std::string_view(head), body}; }
};

// The default User-Agent when HTTPRequest::user_agent is empty.
inline constexpr std::string_view kDefaultUserAgent = "squall/0.1";

// Throws RequestError unless the method is a token and at most one of body and body_producer is set:
// the checks every request passes before it is written, on HTTP/1.1 (write_request) and HTTP/2.
void check_method_and_body(const HTTPRequest& request);

// Serializes `request` addressed to `url` (the parsed request.url, or a redirect target). Headers the
// user set win over the defaults (Host, User-Agent, Accept-Encoding, Connection, Authorization).
SerializedRequest write_request(const HTTPRequest& request, const URL& url,
                                const RequestWriterOptions& options = {});
// The same into `out`, reusing the capacity of out.head (a connection keeps one buffer for its requests,
// so a keep-alive request allocates nothing for its head). Every field of `out` is overwritten.
void write_request_into(SerializedRequest& out, const HTTPRequest& request, const URL& url,
                        const RequestWriterOptions& options = {});

// "CONNECT host:port HTTP/1.1" with Host and, when proxy_username is set, Proxy-Authorization: the head
// that opens a tunnel through an HTTP proxy for https:// URLs.
std::string write_connect_request(const HTTPRequest& request, const URL& url);

// Chunk framing for streamed uploads: "<hex size>\r\n<data>\r\n". An empty piece yields nothing (an empty
// chunk would end the body).
std::string encode_chunk(std::string_view data);
void append_chunk(std::string& out, std::string_view data);
// The size line of a chunk of `size` bytes ("1a\r\n"), for writing header, data and kChunkEnd as a writev.
std::string chunk_size_line(std::size_t size);
inline constexpr std::string_view kChunkEnd = "\r\n";        // after a chunk's data
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";  // ends a chunked body (no trailers)

// Base64 (RFC 4648, with padding), and the Basic credentials value "Basic base64(user:password)".
std::string base64_encode(std::string_view data);
std::string basic_auth_value(std::string_view username, std::string_view password);

}  // namespace squall::http
