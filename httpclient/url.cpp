#include "squall/httpclient/url.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/headers.hpp"

namespace squall::http {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

[[noreturn]] void fail(std::string_view url, const std::string& why) {
    std::string shown(url.substr(0, 200));
    for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // keep the message printable
    }
    throw InvalidURLError("invalid URL \"" + shown + "\": " + why);
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
bool is_ctl(char c) noexcept {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
}

// Characters allowed in a registered host name, mapped to lowercase; 0 for the others.
constexpr std::array<char, 256> kHostChars = [] {
    std::array<char, 256> t{};
    for (char c = 'a'; c <= 'z'; ++c) t[static_cast<unsigned char>(c)] = c;
    for (char c = 'A'; c <= 'Z'; ++c) t[static_cast<unsigned char>(c)] = static_cast<char>(c - 'A' + 'a');
    for (char c = '0'; c <= '9'; ++c) t[static_cast<unsigned char>(c)] = c;
    for (char c : {'-', '.', '_'}) t[static_cast<unsigned char>(c)] = c;
    return t;
}();

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Encodes spaces and non-ASCII bytes (which browsers send encoded) and rejects control characters.
std::string encode_path_or_query(std::string_view url, std::string_view part, const char* what) {
    // Most targets have nothing to encode or check: copy them as they are.
    bool plain = true;
    for (char ch : part) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '%') {
            plain = false;
            break;
        }
    }
    if (plain) return std::string(part);
    std::string out;
    out.reserve(part.size());
    for (std::size_t i = 0; i < part.size(); ++i) {
        auto c = static_cast<unsigned char>(part[i]);
        if (is_ctl(part[i])) fail(url, std::string("control character in the ") + what);
        if (c == '%') {
            // A stray '%' is sent encoded, as browsers do, so the target stays a valid URI.
            bool escape = i + 2 < part.size() && hex_value(part[i + 1]) >= 0 && hex_value(part[i + 2]) >= 0;
            out += escape ? "%" : "%25";
            continue;
        }
        if (c == ' ' || c >= 0x80) {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string encode_userinfo(std::string_view s) {
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (is_alpha(ch) || is_digit(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '!' ||
            ch == '$' || ch == '&' || ch == '\'' || ch == '(' || ch == ')' || ch == '*' || ch == '+' ||
            ch == ',' || ch == ';' || ch == '=') {
            out += ch;
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
        }
    }
    return out;
}

bool valid_scheme(std::string_view s) noexcept {
    if (s.empty() || !is_alpha(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'; });
}

// The components of a URI reference (RFC 3986 appendix B), each with a "defined" flag.
struct Reference {
    std::string_view scheme, authority, path, query;
    bool has_scheme = false, has_authority = false, has_query = false;
};

// The index of the first '/' or '?' in s (s.size() when none): two memchr, cheaper than find_first_of.
std::size_t path_start(std::string_view s) noexcept {
    std::size_t end = std::min(s.find('/'), s.size());
    return std::min(s.substr(0, end).find('?'), end);
}

// Whether s holds a CR, LF or NUL: eight bytes at a time look for any byte below 0x0e ("hasless" from
// Bit Twiddling Hacks, exact for a limit <= 128), and only a word that has one is looked at closely.
bool has_cr_lf_nul(std::string_view s) noexcept {
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        if (((w - kOnes * 0x0e) & ~w & kHigh) == 0) continue;
        for (std::size_t j = i; j < i + 8; ++j) {
            if (s[j] == '\r' || s[j] == '\n' || s[j] == '\0') return true;
        }
    }
    for (; i < s.size(); ++i) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return true;
    }
    return false;
}

Reference split_reference(std::string_view s) {
    Reference r;
    if (auto hash = s.find('#'); hash != std::string_view::npos) s = s.substr(0, hash);
    // A scheme is what precedes a ':' that comes before any '/' or '?'.
    std::size_t colon = 0;
    while (colon < s.size() && s[colon] != ':' && s[colon] != '/' && s[colon] != '?') ++colon;
    if (colon < s.size() && s[colon] == ':' && valid_scheme(s.substr(0, colon))) {
        r.scheme = s.substr(0, colon);
        r.has_scheme = true;
        s.remove_prefix(colon + 1);
    }
    if (s.substr(0, 2) == "//") {
        s.remove_prefix(2);
        auto end = path_start(s);
        r.authority = s.substr(0, end);
        r.has_authority = true;
        s.remove_prefix(end);
    }
    auto q = s.find('?');
    r.path = s.substr(0, q);
    if (q != std::string_view::npos) {
        r.query = s.substr(q + 1);
        r.has_query = true;
    }
    return r;
}

}  // namespace

namespace detail {

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string remove_dot_segments(std::string_view in) {
    std::string out;
    while (!in.empty()) {
        if (in.starts_with("../")) {
            in.remove_prefix(3);
        } else if (in.starts_with("./")) {
            in.remove_prefix(2);
        } else if (in.starts_with("/./")) {
            in.remove_prefix(2);  // "/./x" -> "/x"
        } else if (in == "/.") {
            in = "/";
        } else if (in.starts_with("/../") || in == "/..") {
            in = in.size() == 3 ? std::string_view("/") : in.substr(3);
            auto last = out.rfind('/');
            out.erase(last == std::string::npos ? 0 : last);
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            auto next = in.find('/', 1);
            auto segment = in.substr(0, next);
            out += segment;
            in.remove_prefix(segment.size());
        }
    }
    return out;
}

}  // namespace detail

namespace {

// The scheme, "http" or "https" in any case, stored lowercase.
void parse_scheme(std::string_view original, const Reference& r, URL& url) {
    if (!r.has_scheme) fail(original, "no scheme (expected http:// or https://)");
    if (iequals(r.scheme, "http")) {
        url.scheme = "http";
    } else if (iequals(r.scheme, "https")) {
        url.scheme = "https";
    } else {
        fail(original, "unsupported scheme \"" + lowercase(r.scheme) + "\" (expected http or https)");
    }
}

// Takes "user:password@" off the front of authority, percent-decoded into the URL.
void parse_userinfo(std::string_view& authority, URL& url) {
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        auto userinfo = authority.substr(0, at);
        authority.remove_prefix(at + 1);
        auto colon = userinfo.find(':');
        url.username = detail::percent_decode(userinfo.substr(0, colon));
        if (colon != std::string_view::npos)
            url.password = detail::percent_decode(userinfo.substr(colon + 1));
    }
}

// The text after a host's ':', and whether there was a ':'.
struct PortText {
    std::string_view text;
    bool present = false;
};

// A bracketed IPv6 literal ("[::1]" or "[::1]:8080"), stored lowercase without its brackets.
PortText parse_ipv6_host(std::string_view original, std::string_view authority, URL& url) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) fail(original, "IPv6 literal without closing ']'");
    auto literal = authority.substr(1, close - 1);
    if (literal.empty() || literal.find(':') == std::string_view::npos ||
        !std::all_of(literal.begin(), literal.end(),
                     [](char c) { return hex_value(c) >= 0 || c == ':' || c == '.'; })) {
        fail(original, "invalid IPv6 literal \"[" + std::string(literal) + "]\"");
    }
    url.host = lowercase(literal);
    auto rest = authority.substr(close + 1);
    if (rest.empty()) return {};
    if (rest[0] != ':') fail(original, "unexpected characters after the IPv6 literal");
    return {rest.substr(1), true};
}

// A registered name or IPv4 address, with an optional ":port".
PortText parse_named_host(std::string_view original, std::string_view authority, URL& url) {
    PortText port;
    auto colon = authority.find(':');
    auto name = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = {authority.substr(colon + 1), true};
    // Lowercased and checked in one pass.
    url.host.resize(name.size());
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        char folded = kHostChars[static_cast<unsigned char>(c)];
        if (folded == 0) {
            fail(original, std::string("invalid character '") + (is_ctl(c) ? '?' : c) + "' in host");
        }
        url.host[i] = folded;
    }
    return port;
}

// The explicit port when there is one (an empty one, "host:", means the default), else the scheme's.
void parse_port(std::string_view original, PortText port, URL& url) {
    url.port = url.default_port();
    if (!port.present || port.text.empty()) return;
    std::string_view text = port.text;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !is_digit(text[0])) {
        fail(original, "port \"" + std::string(text.substr(0, 20)) + "\" is not a number");
    }
    if (value < 1 || value > 65535) fail(original, "port " + std::string(text) + " is out of range 1..65535");
    url.port = static_cast<std::uint16_t>(value);
}

// The path ("/" when empty) and the query, encoded as browsers send them.
void parse_path_and_query(std::string_view original, const Reference& r, URL& url) {
    url.path = r.path.empty() ? std::string("/") : encode_path_or_query(original, r.path, "path");
    if (r.has_query) {
        url.has_query = true;
        url.query = encode_path_or_query(original, r.query, "query");
    }
}

}  // namespace

URL URL::parse(std::string_view text) {
    const std::string_view original = text;
    text = detail::trim_ows(text);
    if (text.empty()) fail(original, "empty URL");
    if (has_cr_lf_nul(text)) fail(original, "CR, LF or NUL in URL");
    Reference r = split_reference(text);
    URL url;
    parse_scheme(original, r, url);
    if (!r.has_authority) fail(original, "no \"//\" and host after the scheme");

    std::string_view authority = r.authority;
    parse_userinfo(authority, url);
    PortText port = authority.starts_with('[') ? parse_ipv6_host(original, authority, url)
                                               : parse_named_host(original, authority, url);
    if (url.host.empty()) fail(original, "empty host");
    parse_port(original, port, url);
    parse_path_and_query(original, r, url);
    return url;
}

std::string URL::request_target() const {
    std::string target = path;
    if (has_query) {
        target += '?';
        target += query;
    }
    return target;
}

namespace detail {

namespace {
void append_host(std::string& out, const URL& url) {
    if (url.is_ipv6_literal()) {
        out += '[';
        out += url.host;
        out += ']';
    } else {
        out += url.host;
    }
}

void append_port(std::string& out, std::uint16_t port) {
    char text[6];
    char* p = text + sizeof text;
    unsigned n = port;
    do {
        *--p = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    *--p = ':';
    out.append(p, static_cast<std::size_t>(text + sizeof text - p));
}
}  // namespace

void append_host_header(std::string& out, const URL& url) {
    append_host(out, url);
    if (!url.has_default_port()) append_port(out, url.port);
}

void append_host_port(std::string& out, const URL& url) {
    append_host(out, url);
    append_port(out, url.port);
}

}  // namespace detail

std::string URL::host_header() const {
    std::string out;
    detail::append_host_header(out, *this);
    return out;
}

std::string URL::host_port() const {
    std::string out;
    detail::append_host_port(out, *this);
    return out;
}

std::string URL::to_string() const {
    std::string out = scheme + "://";
    if (!username.empty() || !password.empty()) {
        out += encode_userinfo(username);
        if (!password.empty()) {
            out += ':';
            out += encode_userinfo(password);
        }
        out += '@';
    }
    out += host_header();
    out += request_target();
    return out;
}

URL resolve(const URL& base, std::string_view reference) {
    Reference r = split_reference(detail::trim_ows(reference));
    if (r.has_scheme) return URL::parse(reference);

    std::string authority;
    std::string path;
    std::string_view query;
    bool has_query = r.has_query;
    if (r.has_authority) {
        authority = r.authority;
        path = detail::remove_dot_segments(r.path);
        query = r.query;
    } else {
        // Base authority as written by to_string (userinfo kept: same origin).
        std::string base_text = base.to_string();
        auto after_scheme = base_text.substr(base.scheme.size() + 3);
        authority = after_scheme.substr(0, after_scheme.find('/'));
        if (r.path.empty()) {
            path = base.path;
            if (r.has_query) {
                query = r.query;
            } else {
                query = base.query;
                has_query = base.has_query;
            }
        } else if (r.path.starts_with('/')) {
            path = detail::remove_dot_segments(r.path);
            query = r.query;
        } else {
            // Merge (RFC 3986 5.2.3): the base path up to its last '/', then the reference.
            std::string merged = base.path.substr(0, base.path.rfind('/') + 1);
            merged += r.path;
            path = detail::remove_dot_segments(merged);
            query = r.query;
        }
    }
    std::string target = base.scheme + "://" + authority + path;
    if (has_query) {
        target += '?';
        target += query;
    }
    return URL::parse(target);
}

}  // namespace squall::http
