// reason_phrase: the standard reason phrase of an HTTP status code (RFC 9110 section 15).
//
//   squall::http::reason_phrase(404);  // "Not Found"
//   squall::http::reason_phrase(299);  // "" (a code it does not know)
//
// HTTP/2 sends no reason phrase, so the HTTP/2 session fills HTTPResponse::reason from this; HTTP/1.1
// responses keep the one on their status line. Header-only, so the loopback test servers (which do not
// link the client) answer with the same phrases.
#pragma once

#include <string_view>

namespace squall::http {

// The standard reason phrase of a status code ("Not Found"), or "" for a code without one.
constexpr std::string_view reason_phrase(int code) noexcept {
    switch (code) {
        case 100:
            return "Continue";
        case 103:
            return "Early Hints";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 407:
            return "Proxy Authentication Required";
        case 408:
            return "Request Timeout";
        case 413:
            return "Content Too Large";
        case 417:
            return "Expectation Failed";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

}  // namespace squall::http
