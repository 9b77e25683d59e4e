// The opening handshake's pure parts (RFC 6455 section 4): the key, the expected accept value, the request
// headers, and the check of a 101 response.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "squall/httpclient/headers.hpp"
#include "squall/httpclient/request.hpp"
#include "squall/websocket/deflate.hpp"

namespace squall::websocket {
struct WebSocketOptions;
}

namespace squall::websocket::detail {

// 16 random bytes (getrandom), base64.
std::string make_handshake_key();
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string expected_accept(std::string_view key);

// Adds Upgrade, Connection, Sec-WebSocket-Key/Version, -Protocol and -Extensions to the request.
void add_handshake_headers(http::HTTPRequest& request, std::string_view key, const WebSocketOptions& options);

struct HandshakeOutcome {
    std::string subprotocol{};
    std::optional<DeflateParams> deflate{};
};

// Checks the headers of a 101 response against what was asked. Throws std::invalid_argument saying what is
// wrong (the caller wraps it into a WebSocketHandshakeError carrying the response).
HandshakeOutcome check_handshake_response(const http::HTTPHeaders& headers, std::string_view key,
                                          const WebSocketOptions& options);

}  // namespace squall::websocket::detail
