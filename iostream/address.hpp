// SocketAddress: an IPv4 or IPv6 socket address (a sockaddr_storage and its length) with the small
// conversions the resolver, TCPClient, TCPServer and the Twisted adapters need.
//
//     auto a = squall::SocketAddress::parse_numeric("::1", 8080);   // std::optional
//     a->to_string();   // "[::1]:8080"
//     a->host();        // "::1"
//     a->port();        // 8080
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace squall {

// An IPv4 or IPv6 address and port; empty (length 0) when default-constructed.
struct SocketAddress {
    sockaddr_storage storage{};  // the address (sockaddr_in or sockaddr_in6)
    socklen_t length = 0;        // bytes of storage in use; 0: empty

    SocketAddress() = default;
    // Copies len bytes of addr (at most sizeof(sockaddr_storage)).
    SocketAddress(const sockaddr* addr, socklen_t len);
    explicit SocketAddress(const sockaddr_storage& ss);  // length from the family

    // An IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"), else nullopt. No name lookup.
    static std::optional<SocketAddress> parse_numeric(std::string_view host, std::uint16_t port);

    int family() const noexcept { return storage.ss_family; }  // AF_INET, AF_INET6 (AF_UNSPEC when empty)
    // For connect() / bind(), with `length`.
    const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    bool empty() const noexcept { return length == 0; }  // holds no address
    std::uint16_t port() const noexcept;                 // in host byte order; 0 when empty
    // The numeric host ("127.0.0.1", "::1"), without brackets.
    std::string host() const;
    // "127.0.0.1:80", "[::1]:80"; "(no address)" when empty.
    std::string to_string() const;

    friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;
};

// Splits "host:port", "[v6]:port", "host" into host (brackets removed) and port (nullopt if absent).
// Throws squall::UsageError for a malformed port.
std::pair<std::string, std::optional<std::uint16_t>> split_host_port(std::string_view text);

}  // namespace squall
