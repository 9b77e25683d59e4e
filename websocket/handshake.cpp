#include "squall/websocket/detail/handshake.hpp"

#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

#include "squall/httpclient/request_writer.hpp"
#include "squall/websocket/connection.hpp"

namespace squall::websocket::detail {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// A comma-separated header (all fields) holds `token`, case-insensitively.
bool has_token(const http::HTTPHeaders& headers, std::string_view name, std::string_view token) {
    for (auto value : headers.get_all(name)) {
        while (!value.empty()) {
            auto comma = value.find(',');
            auto item = http::detail::trim_ows(value.substr(0, comma));
            if (http::iequals(item, token)) return true;
            if (comma == std::string_view::npos) break;
            value.remove_prefix(comma + 1);
        }
    }
    return false;
}

std::string joined(const http::HTTPHeaders& headers, std::string_view name) {
    std::string out;
    for (auto v : headers.get_all(name)) {
        if (!out.empty()) out += ", ";
        out += v;
    }
    return out;
}

}  // namespace

std::string make_handshake_key() {
    unsigned char raw[16];
    std::size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("getrandom failed");
        }
        got += static_cast<std::size_t>(n);
    }
    return http::base64_encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

std::string expected_accept(std::string_view key) {
    std::string input(key);
    input += kGuid;
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    return http::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

void add_handshake_headers(http::HTTPRequest& request, std::string_view key,
                           const WebSocketOptions& options) {
    auto& h = request.headers;
    h.set("Upgrade", "websocket");
    h.set("Connection", "Upgrade");
    h.set("Sec-WebSocket-Key", std::string(key));
    h.set("Sec-WebSocket-Version", "13");
    if (!options.subprotocols.empty()) {
        std::string list;
        for (const auto& p : options.subprotocols) {
            if (!http::detail::is_token(p))
                throw UsageError("subprotocol \"" + p + "\" is not a token (RFC 6455 4.1)");
            if (!list.empty()) list += ", ";
            list += p;
        }
        h.set("Sec-WebSocket-Protocol", std::move(list));
    }
    if (options.compression) h.set("Sec-WebSocket-Extensions", deflate_offer(*options.compression));
}

HandshakeOutcome check_handshake_response(const http::HTTPHeaders& headers, std::string_view key,
                                          const WebSocketOptions& options) {
    if (!has_token(headers, "Upgrade", "websocket"))
        throw std::invalid_argument("the 101 response has no \"Upgrade: websocket\"");
    if (!has_token(headers, "Connection", "upgrade"))
        throw std::invalid_argument("the 101 response has no \"Connection: Upgrade\"");
    auto accepts = headers.get_all("Sec-WebSocket-Accept");
    if (accepts.size() != 1)
        throw std::invalid_argument("the 101 response has no single Sec-WebSocket-Accept");
    if (http::detail::trim_ows(accepts[0]) != expected_accept(key))
        throw std::invalid_argument("Sec-WebSocket-Accept \"" + std::string(accepts[0]) +
                                    "\" does not match the key sent");
    HandshakeOutcome out;
    auto protocols = headers.get_all("Sec-WebSocket-Protocol");
    if (protocols.size() > 1) throw std::invalid_argument("the server selected more than one subprotocol");
    if (protocols.size() == 1) {
        std::string chosen(http::detail::trim_ows(protocols[0]));
        bool offered = false;
        for (const auto& p : options.subprotocols) offered = offered || p == chosen;
        if (!offered)
            throw std::invalid_argument("the server selected subprotocol \"" + chosen +
                                        "\", which was not offered");
        out.subprotocol = std::move(chosen);
    }
    std::string extensions = joined(headers, "Sec-WebSocket-Extensions");
    if (!http::detail::trim_ows(extensions).empty()) {
        if (!options.compression)
            throw std::invalid_argument("the server accepted extensions \"" + extensions +
                                        "\" but none were offered");
        out.deflate = accept_deflate_response(extensions, *options.compression);
    }
    return out;
}

}  // namespace squall::websocket::detail
