// HTTPResponse: the result of a fetch (status, headers, body, timings), and TimeInfo, the breakdown of
// where its time went.
//
//   auto resp = co_await client.fetch("http://127.0.0.1:8080/");
//   resp.code;                       // 200
//   resp.headers.get("Content-Type");
//   resp.time_info.connect;          // std::chrono::nanoseconds
//   resp.effective_url();            // the URL after redirects
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/request.hpp"

namespace squall::http {

// Durations of the phases of one fetch. A phase that did not happen (dns and connect on a reused
// connection, tls on http://) is zero. total is from fetch() to the last body byte, queue included.
struct TimeInfo {
    std::chrono::nanoseconds queue{0};       // waiting for a free slot under max_clients
    std::chrono::nanoseconds dns{0};         // resolving the host
    std::chrono::nanoseconds connect{0};     // TCP connect
    std::chrono::nanoseconds tls{0};         // TLS handshake
    std::chrono::nanoseconds first_byte{0};  // from request sent to the first response byte
    std::chrono::nanoseconds total{0};       // the whole fetch (see above)
};

// What a fetch returns (and what HTTPError carries).
struct HTTPResponse {
    int code = 0;            // the status code
    std::string reason{};    // the reason phrase as sent (HTTP/2 has none: the standard phrase)
    HTTPHeaders headers{};   // the final response's headers
    std::string body{};      // empty when a streaming_callback received the body
    HTTPHeaders trailers{};  // chunked responses only
    std::string protocol{};  // which protocol served it: "HTTP/1.1" or "HTTP/2"
    std::chrono::nanoseconds request_time{0};  // from dequeue to the end of the body
    TimeInfo time_info{};                      // per-phase durations
    std::shared_ptr<const HTTPRequest>
        request{};  // the request that produced this response (after redirects)

    // The final URL after redirects, as its request gives it (Tornado's effective_url); empty without one.
    std::string_view effective_url() const noexcept {
        return request ? std::string_view(request->url) : std::string_view();
    }
};

}  // namespace squall::http
