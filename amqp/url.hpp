// AMQP URLs: amqp://user:password@host:port/vhost?heartbeat=60&frame_max=131072&channel_max=2047
// &connection_timeout=10, and amqps:// (TLS, default port 5671).
//
//     auto url = squall::amqp::parse_url("amqp://guest:guest@127.0.0.1:5673/%2f?heartbeat=10");
//     // url.vhost == "/", url.heartbeat == 10
//
// Defaults: guest/guest@localhost:5672 (5671 for amqps), vhost "/". The vhost is the URL's path without
// its leading '/', percent-decoded ("%2f" → "/"); an empty path means "/". User and password are
// percent-decoded too. An IPv6 host is written in brackets: amqp://[::1]:5672/. Query parameters not
// listed here are an error (a typo must not be silently ignored), except the TLS ones of amqps:
// verify=none|peer, cafile, certfile, keyfile, server_name_indication. Malformed URLs throw
// squall::UsageError saying what is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace squall::amqp {

// The parts of an amqp:// or amqps:// URL (parse_url), with the defaults of an URL that leaves them out.
struct Url {
    bool tls = false;  // amqps
    // amqp://user:password@host:port/vhost (the vhost percent-decoded: "%2f" is "/").
    std::string user = "guest";
    std::string password = "guest";
    std::string host = "localhost";
    uint16_t port = 5672;
    std::string vhost = "/";
    // Query parameters; nullopt when the URL does not set them.
    std::optional<uint16_t> heartbeat{};  // seconds
    std::optional<uint32_t> frame_max{};
    std::optional<uint16_t> channel_max{};
    std::optional<std::chrono::milliseconds> connection_timeout{};  // given in (fractional) seconds
    // amqps only.
    std::optional<bool> verify_peer{};
    std::string ca_file{};
    std::string cert_file{};
    std::string key_file{};
    std::string server_name{};
};

// Parses an amqp:// or amqps:// URL; UsageError on anything else or a malformed part.
Url parse_url(std::string_view url);

// Percent-decoding ("%2f" → "/"); UsageError on a truncated or non-hex escape.
std::string percent_decode(std::string_view text);

}  // namespace squall::amqp
