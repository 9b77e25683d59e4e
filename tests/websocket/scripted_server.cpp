#include "tests/websocket/scripted_server.hpp"

#include "squall/websocket/detail/handshake.hpp"
#include "squall/websocket/frame.hpp"
#include "tests/support/http_test_request.hpp"

namespace squall::websocket::test {

namespace tdetail = squall::testing::detail;

std::string server_frame(int opcode, std::string_view payload, FrameBits bits) {
    FrameHeader h{.fin = bits.fin,
                  .rsv1 = bits.rsv1,
                  .rsv2 = bits.rsv2,
                  .rsv3 = bits.rsv3,
                  .opcode = static_cast<Opcode>(opcode),
                  .masked = bits.masked,
                  .length = payload.size(),
                  .mask = {9, 8, 7, 6}};
    char head[kMaxFrameHeaderSize];
    std::string out(head, write_frame_header(head, h));
    std::string body(payload);
    if (bits.masked) mask_in_place(body.data(), body.size(), h.mask);
    return out + body;
}

std::string server_close(int code, std::string_view reason) {
    if (code < 0) return server_frame(0x8, {});
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xff);
    payload += reason;
    return server_frame(0x8, payload);
}

ScriptedServer::ScriptedServer(IOLoop& loop, Script script) : loop_(loop), script_(std::move(script)) {
    int fd = tdetail::listen_on("127.0.0.1", 0, port_);
    acceptor_ =
        std::make_unique<tdetail::Acceptor>(loop_, fd, [this](int cfd) { fibers_.start(serve(cfd)); });
}

ScriptedServer::~ScriptedServer() {
    acceptor_.reset();
    fibers_.destroy_all();
}

std::string ScriptedServer::url(const std::string& path) const {
    return "ws://127.0.0.1:" + std::to_string(port_) + path;
}

int ScriptedServer::client_close_code() const {
    for (const auto& f : frames_) {
        if (f.opcode() != 0x8) continue;
        if (f.payload.size() < 2) return 1005;
        return static_cast<unsigned char>(f.payload[0]) << 8 | static_cast<unsigned char>(f.payload[1]);
    }
    return -1;
}

tdetail::Fiber ScriptedServer::serve(int fd) {
    auto sock = std::make_unique<tdetail::Socket>(loop_, fd);
    std::string buf;
    squall::testing::TestRequest req;
    auto status = co_await tdetail::read_request_head(*sock, buf, req, 64 * 1024);
    if (status != tdetail::ReadStatus::ok) co_return;
    request_ = req;
    if (script_.silent_handshake) {
        for (;;) {
            std::string ignored;
            if (co_await sock->read_some(ignored) <= 0) co_return;
        }
    }
    const std::string accept = detail::expected_accept(req.header("Sec-WebSocket-Key").value_or(""));
    std::string reply = script_.handshake_reply;
    if (reply.empty()) {
        reply =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: {accept}\r\n" +
            script_.extra_headers + "\r\n";
    }
    if (auto pos = reply.find("{accept}"); pos != std::string::npos) reply.replace(pos, 8, accept);
    if (!co_await sock->write_all(reply + script_.after_handshake)) co_return;
    if (script_.eof_after) {
        sock->close();
        co_return;
    }
    while (script_.stop_reading) co_await tdetail::Sleep{loop_, std::chrono::hours(1)};
    // Client frames.
    for (;;) {
        FrameHeader h;
        std::size_t hsize;
        while ((hsize = parse_frame_header(buf, h)) == 0 || buf.size() < hsize + h.length) {
            long n = co_await sock->read_some(buf);
            if (n <= 0) {
                client_eof_ = true;
                co_return;
            }
        }
        if (hsize == kInvalidHeader) co_return;
        std::string payload = buf.substr(hsize, static_cast<std::size_t>(h.length));
        if (h.masked) mask_in_place(payload.data(), payload.size(), h.mask);
        buf.erase(0, hsize + static_cast<std::size_t>(h.length));
        frames_.push_back({static_cast<std::uint8_t>(buf.empty() ? 0 : 0), h.masked, payload});
        frames_.back().first_byte = static_cast<std::uint8_t>((h.fin ? 0x80 : 0) | (h.rsv1 ? 0x40 : 0) |
                                                              static_cast<std::uint8_t>(h.opcode));
        if (h.opcode == Opcode::close) {
            if (!script_.answer_close) continue;
            co_await sock->write_all(server_frame(0x8, payload));
            sock->close();
            co_return;
        }
        if (script_.echo && !is_control(h.opcode)) {
            if (!co_await sock->write_all(
                    server_frame(static_cast<int>(h.opcode), payload, {.fin = h.fin, .rsv1 = h.rsv1})))
                co_return;
        }
    }
}

}  // namespace squall::websocket::test
