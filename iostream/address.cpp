#include "squall/iostream/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include "squall/coro/errors.hpp"

namespace squall {

SocketAddress::SocketAddress(const sockaddr* addr, socklen_t len) {
    if (len > sizeof(storage)) len = sizeof(storage);
    std::memcpy(&storage, addr, len);
    length = len;
}

SocketAddress::SocketAddress(const sockaddr_storage& ss) : storage(ss) {
    if (ss.ss_family == AF_INET)
        length = sizeof(sockaddr_in);
    else if (ss.ss_family == AF_INET6)
        length = sizeof(sockaddr_in6);
}

std::optional<SocketAddress> SocketAddress::parse_numeric(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string h(host);
    SocketAddress a;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    if (::inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        a.length = sizeof(sockaddr_in);
        return a;
    }
    a.storage = {};
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    if (::inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        a.length = sizeof(sockaddr_in6);
        return a;
    }
    return std::nullopt;
}

std::uint16_t SocketAddress::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    return 0;
}

std::string SocketAddress::host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
    else if (family() == AF_INET6)
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
    return buf;
}

std::string SocketAddress::to_string() const {
    if (family() != AF_INET && family() != AF_INET6) return "(no address)";
    // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on "[" + std::string.
    std::string out;
    if (family() == AF_INET6) out += '[';
    out += host();
    if (family() == AF_INET6) out += ']';
    out += ':';
    out += std::to_string(port());
    return out;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

std::pair<std::string, std::optional<std::uint16_t>> split_host_port(std::string_view text) {
    std::string_view host = text, port_text;
    bool has_port = false;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            throw UsageError("malformed address (no ']'): " + std::string(text));
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') throw UsageError("malformed address: " + std::string(text));
            port_text = text.substr(close + 2);
            has_port = true;
        }
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos && text.find(':') == colon) {
        host = text.substr(0, colon);  // exactly one colon: host:port (several: a bare IPv6 literal)
        port_text = text.substr(colon + 1);
        has_port = true;
    }
    if (!has_port) return {std::string(host), std::nullopt};
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || value > 65535)
        throw UsageError("malformed port in address: " + std::string(text));
    return {std::string(host), static_cast<std::uint16_t>(value)};
}

}  // namespace squall
