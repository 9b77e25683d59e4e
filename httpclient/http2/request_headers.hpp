// The HTTP/2 header list of a request (RFC 9113 section 8.3): pseudo-headers :method, :scheme,
// :authority and :path, then the request's fields with lowercase names, without the connection-specific
// ones HTTP/2 forbids (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade; Host becomes
// :authority; TE only as "trailers"). Defaults as on HTTP/1.1: user-agent, accept-encoding: gzip when
// decompress_response, authorization from auth_username or the URL's userinfo, content-length for a fixed
// body (and 0 for POST, PUT and PATCH without one).
//
//     RequestHeaders h;
//     build_request_headers(h, request, URL::parse(request.url));   // throws RequestError as write_request does
//     nghttp2_submit_request(nghttp2, nullptr, h.fields.data(), h.fields.size(), /* data provider... */ nullptr,
//                            nullptr);
#pragma once

#include <nghttp2/nghttp2.h>

#include <string>
#include <vector>

#include "squall/httpclient/request.hpp"
#include "squall/httpclient/url.hpp"

namespace squall::http {

// A request's HTTP/2 header list for nghttp2_submit_request, and the bytes it points into.
struct RequestHeaders {
    std::vector<nghttp2_nv> fields;  // point into storage and into the request (valid while both live)
    std::string storage;             // lowercased names and generated values
};

// Fills `out` (its previous contents are replaced). Throws RequestError for an invalid method, a header
// name that is not a token, CR/LF/NUL in a value, a body together with body_producer, or a Content-Length
// that contradicts the body.
void build_request_headers(RequestHeaders& out, const HTTPRequest& request, const URL& url);

}  // namespace squall::http
