// Internals of the loopback test servers: reading one HTTP/1.1 request (head, then body) from a Socket.
// Minimal but strict: a request line of three parts, "name: value" header lines ending in CRLF, a body
// framed by Content-Length or chunked (chunk sizes validated, extensions skipped, trailers kept).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tests/support/http_test_server.hpp"
#include "tests/support/test_fiber.hpp"

namespace squall::testing::detail {

enum class ReadStatus { ok, eof, bad, too_large };

// Reads the request head from `buf` (filled from `sock` as needed) into `req` and consumes it from `buf`.
// eof: the peer closed before a complete head (cleanly between requests when buf was empty).
Task<ReadStatus> read_request_head(Socket& sock, std::string& buf, TestRequest& req, std::size_t max_size);

// Whether the request has a body to read (Content-Length > 0 or chunked), and whether its framing is valid.
bool request_has_body(const TestRequest& req, bool& valid);

// Reads the body the head announces into req.body (chunked decoded).
Task<ReadStatus> read_request_body(Socket& sock, std::string& buf, TestRequest& req, std::size_t max_size);

// Parses a decimal Content-Length (digits only, no overflow).
bool parse_content_length(std::string_view s, std::uint64_t& out);

// http::reason_phrase, with "Status" for a code it does not know (a status line wants a phrase).
std::string_view reason_phrase(int code);

// ASCII case-insensitive equality (header names and tokens).
bool iequals(std::string_view a, std::string_view b);

// An empty response that ends the connection: "HTTP/1.1 CODE REASON", extra_lines (CRLF-terminated),
// Content-Length: 0, Connection: close. (Built outside coroutines: GCC 12 rejects braced header lists of
// string literals inside a co_await expression.)
std::string closing_head(int code, std::string_view extra_lines = {});

}  // namespace squall::testing::detail
