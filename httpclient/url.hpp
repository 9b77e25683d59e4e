// URL: the parts of an http:// or https:// URL the client needs, and RFC 3986 reference resolution for
// redirects.
//
//   auto url = URL::parse("http://user:p%40ss@[::1]:8080/a/b?x=1#frag");
//   url.host;               // "::1" (no brackets; lowercase)
//   url.port;               // 8080 (80 when absent)
//   url.password;           // "p@ss" (percent-decoded)
//   url.request_target();   // "/a/b?x=1" (the fragment is never sent)
//   url.host_header();      // "[::1]:8080"
//   auto next = resolve(url, "../c?y=2");   // http://user:p%40ss@[::1]:8080/c?y=2
//
// Bad URLs throw InvalidURLError saying what is wrong. Spaces and bytes >= 0x80 in the path and query are
// percent-encoded; other control characters are rejected (they would corrupt the request line).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace squall::http {

// A parsed http:// or https:// URL (the fragment is dropped).
struct URL {
    std::string scheme{};    // "http" or "https", lowercase
    std::string username{};  // percent-decoded; empty when absent
    std::string password{};  // percent-decoded; empty when absent
    std::string host{};      // lowercase; IPv6 literals without brackets
    std::uint16_t port = 0;  // the explicit port, else the scheme's default
    std::string path = "/";  // always starts with '/', percent-encoding kept as written
    std::string query{};     // without the '?'; empty when absent
    bool has_query = false;  // "http://h/?" keeps its '?'

    // Parses an absolute http(s) URL; throws InvalidURLError saying what is wrong.
    static URL parse(std::string_view text);

    bool is_https() const noexcept { return scheme == "https"; }  // scheme is "https"
    bool is_ipv6_literal() const noexcept { return host.find(':') != std::string::npos; }  // host has a ':'
    std::uint16_t default_port() const noexcept { return is_https() ? 443 : 80; }          // 443 or 80
    bool has_default_port() const noexcept { return port == default_port(); }  // port is the scheme's default

    // origin-form target for the request line: path[?query].
    std::string request_target() const;
    // The Host header value: host (bracketed when IPv6), with ":port" when the port is not the default.
    std::string host_header() const;
    // host:port with IPv6 brackets, always with the port (CONNECT targets, pool keys).
    std::string host_port() const;
    // The URL written back, userinfo re-encoded, default port omitted, no fragment.
    std::string to_string() const;

    friend bool operator==(const URL&, const URL&) = default;
};

// Resolves `reference` (a Location header value) against `base` per RFC 3986 section 5.2: absolute URLs,
// network-path ("//host/p"), absolute-path, relative-path with dot-segment removal, and query-only
// references. The fragment is dropped. Throws InvalidURLError when the result is not a valid http(s) URL.
URL resolve(const URL& base, std::string_view reference);

namespace detail {
// Append URL::host_header() / URL::host_port() to `out` (no temporary string).
void append_host_header(std::string& out, const URL& url);
void append_host_port(std::string& out, const URL& url);
// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view path);
std::string percent_decode(std::string_view s);
}  // namespace detail

}  // namespace squall::http
