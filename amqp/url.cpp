#include "squall/amqp/url.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "squall/coro/errors.hpp"

namespace squall::amqp {
namespace {

[[noreturn]] void fail(std::string_view url, const std::string& why) {
    throw UsageError("invalid AMQP URL '" + std::string(url) + "': " + why);
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

template <class T>
T parse_number(std::string_view url, std::string_view name, std::string_view text) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v > std::numeric_limits<T>::max())
        fail(url, std::string(name) + " must be an integer from 0 to " +
                      std::to_string(std::numeric_limits<T>::max()) + ", got '" + std::string(text) + "'");
    return static_cast<T>(v);
}

std::chrono::milliseconds parse_seconds(std::string_view url, std::string_view name, std::string_view text) {
    // Fractional seconds allowed ("0.5"); std::from_chars for double is in libstdc++ 11+.
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) || v < 0 || v > 1e9)
        fail(url, std::string(name) + " must be a number of seconds, got '" + std::string(text) + "'");
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(v * 1000)));
}

void apply_query(Url& out, std::string_view url, std::string_view query) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (item.empty()) continue;
        size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            fail(url, "query parameter '" + std::string(item) + "' has no value");
        std::string key = percent_decode(item.substr(0, eq));
        std::string value = percent_decode(item.substr(eq + 1));
        if (key == "heartbeat") {
            out.heartbeat = parse_number<uint16_t>(url, key, value);
        } else if (key == "frame_max") {
            out.frame_max = parse_number<uint32_t>(url, key, value);
        } else if (key == "channel_max") {
            out.channel_max = parse_number<uint16_t>(url, key, value);
        } else if (key == "connection_timeout" || key == "connect_timeout") {
            out.connection_timeout = parse_seconds(url, key, value);
        } else if (out.tls && key == "verify") {
            if (value == "none" || value == "verify_none")
                out.verify_peer = false;
            else if (value == "peer" || value == "verify_peer")
                out.verify_peer = true;
            else
                fail(url, "verify must be 'none' or 'peer', got '" + value + "'");
        } else if (out.tls && key == "cafile") {
            out.ca_file = value;
        } else if (out.tls && key == "certfile") {
            out.cert_file = value;
        } else if (out.tls && key == "keyfile") {
            out.key_file = value;
        } else if (out.tls && key == "server_name_indication") {
            out.server_name = value;
        } else {
            fail(url, "unknown query parameter '" + key + "'");
        }
    }
}

}  // namespace

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) throw UsageError("truncated percent-escape in '" + std::string(text) + "'");
        int a = hex_value(text[i + 1]);
        int b = hex_value(text[i + 2]);
        if (a < 0 || b < 0) throw UsageError("bad percent-escape in '" + std::string(text) + "'");
        out += static_cast<char>(a * 16 + b);
        i += 2;
    }
    return out;
}

Url parse_url(std::string_view url) {
    Url out;
    std::string_view rest;
    if (url.substr(0, 7) == "amqp://") {
        rest = url.substr(7);
    } else if (url.substr(0, 8) == "amqps://") {
        out.tls = true;
        out.port = 5671;
        rest = url.substr(8);
    } else {
        fail(url, "the scheme must be amqp:// or amqps://");
    }
    std::string_view query;
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::string_view authority = rest;
    std::string_view path;
    if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
        authority = rest.substr(0, slash);
        path = rest.substr(slash + 1);
    }
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        size_t colon = userinfo.find(':');
        out.user = percent_decode(userinfo.substr(0, colon));
        out.password =
            colon == std::string_view::npos ? std::string() : percent_decode(userinfo.substr(colon + 1));
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        size_t close = authority.find(']');
        if (close == std::string_view::npos) fail(url, "unterminated '[' in the host");
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') fail(url, "unexpected characters after ']'");
            port = after.substr(1);
        }
    } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (!host.empty()) out.host = percent_decode(host);
    if (!port.empty()) {
        out.port = parse_number<uint16_t>(url, "port", port);
        if (out.port == 0) fail(url, "port 0");
    }
    if (path == "/") {
        out.vhost = "/";  // kombu's spelling of the default vhost: amqp://host//
    } else if (!path.empty()) {
        if (path.find('/') != std::string_view::npos)
            fail(url, "the vhost must be one path segment (write '/' inside it as %2f)");
        out.vhost = percent_decode(path);
    }
    apply_query(out, url, query);
    return out;
}

}  // namespace squall::amqp
