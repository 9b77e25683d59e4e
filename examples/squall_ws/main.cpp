// squall-ws: a websocat-like WebSocket client on squall::websocket.
//
//   squall-ws ws://127.0.0.1:8765/echo                 # each stdin line -> a text message
//   squall-ws --binary --compress wss://host/ --ca ca.pem -p chat -H 'X-Token: 1'
//
// Each stdin line is sent as a text message (binary with --binary); each message received is printed on
// its own line. At the end of stdin it closes with 1000 and waits for the peer's close. Exit status: 0
// after a completed closing handshake (started by either side), 1 otherwise, with a one-line reason on
// stderr (handshake refused, connection lost without a close frame, protocol error, timeout).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "squall/coro/queue.hpp"
#include "squall/coro/start.hpp"
#include "squall/httpclient/http.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/websocket/websocket.hpp"

namespace ws = squall::websocket;

namespace {

const char kUsage[] =
    "usage: squall-ws [options] URL\n"
    "  -p, --protocol NAME    offer a subprotocol (repeatable)\n"
    "  -H, --header 'N: V'    add a request header (repeatable)\n"
    "  -u, --user USER:PASS   basic authentication\n"
    "      --binary           send lines as binary messages\n"
    "      --compress         offer permessage-deflate\n"
    "      --ca FILE          trust this CA bundle (wss://)\n"
    "  -k, --insecure         do not verify the server's certificate\n"
    "      --proxy HOST:PORT  go through an HTTP proxy (CONNECT)\n"
    "      --ping SECONDS     send a keepalive ping this often\n"
    "      --timeout SECONDS  connect and handshake timeout (default 10)\n";

struct Options {
    squall::http::HTTPRequest request{};
    ws::WebSocketOptions ws{};
    bool binary = false;
};

[[noreturn]] void fail(const std::string& why) {
    std::fflush(stdout);
    std::fprintf(stderr, "squall-ws: %s\n", why.c_str());
    std::_Exit(1);
}

Options parse(int argc, char** argv) {
    Options o;
    auto value = [&](int& i) -> std::string {
        if (i + 1 >= argc) fail(std::string("option ") + argv[i] + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        } else if (a == "-p" || a == "--protocol") {
            o.ws.subprotocols.push_back(value(i));
        } else if (a == "-H" || a == "--header") {
            std::string h = value(i);
            auto colon = h.find(':');
            if (colon == std::string::npos) fail("header must be 'Name: value': " + h);
            o.request.headers.add(h.substr(0, colon),
                                  std::string(squall::http::detail::trim_ows(h.substr(colon + 1))));
        } else if (a == "-u" || a == "--user") {
            std::string u = value(i);
            auto colon = u.find(':');
            o.request.auth_username = u.substr(0, colon);
            if (colon != std::string::npos) o.request.auth_password = u.substr(colon + 1);
        } else if (a == "--binary") {
            o.binary = true;
        } else if (a == "--compress") {
            o.ws.compression = ws::DeflateOptions{};
        } else if (a == "--ca") {
            o.request.ca_certs = value(i);
        } else if (a == "-k" || a == "--insecure") {
            o.request.validate_cert = false;
        } else if (a == "--proxy") {
            std::string p = value(i);
            auto colon = p.rfind(':');
            if (colon == std::string::npos) fail("--proxy wants HOST:PORT");
            o.request.proxy_host = p.substr(0, colon);
            o.request.proxy_port = static_cast<std::uint16_t>(std::atoi(p.c_str() + colon + 1));
        } else if (a == "--ping") {
            o.ws.ping_interval = std::chrono::duration_cast<squall::Duration>(
                std::chrono::duration<double>(std::atof(value(i).c_str())));
        } else if (a == "--timeout") {
            auto t = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::duration<double>(std::atof(value(i).c_str())));
            o.request.connect_timeout = o.request.request_timeout = t;
        } else if (!a.empty() && a[0] == '-') {
            fail("unknown option " + a + "\n" + kUsage);
        } else if (o.request.url.empty()) {
            o.request.url = a;
        } else {
            fail("one URL only");
        }
    }
    if (o.request.url.empty()) fail(std::string("no URL\n") + kUsage);
    return o;
}

// stdin lines arrive through the loop's thread-safe add_callback (stdin may be a file, a pipe or a tty).
void read_stdin(squall::IOLoop& loop, squall::Queue<std::optional<std::string>>& lines) {
    std::thread([&loop, &lines] {
        std::string line;
        while (std::getline(std::cin, line)) {
            loop.add_callback([&lines, l = std::move(line)]() mutable { (void)lines.put(std::move(l)); });
        }
        loop.add_callback([&lines] { (void)lines.put(std::nullopt); });
    }).detach();
}

squall::Task<void> send_lines(ws::WebSocketConnection& conn, squall::Queue<std::optional<std::string>>& lines,
                              bool binary) {
    for (;;) {
        auto line = co_await lines.get();
        if (!line) break;
        if (conn.closed()) co_return;
        co_await conn.write_message(*line, binary);
    }
    co_await conn.close(ws::close_codes::kNormal);
}

squall::Task<int> run(squall::IOLoop& loop, const Options& o,
                      squall::Queue<std::optional<std::string>>& lines) {
    auto conn = co_await ws::websocket_connect(loop, o.request, o.ws);
    read_stdin(loop, lines);
    auto sender = squall::start(send_lines(conn, lines, o.binary));
    for (;;) {
        auto msg = co_await conn.read_message();  // throws for a protocol error or a lost connection
        if (!msg) break;
        std::fwrite(msg->data.data(), 1, msg->data.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
    co_await conn.wait_closed();
    if (conn.close_code() == ws::close_codes::kAbnormal) fail("connection closed: " + conn.close_reason());
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    int code = 1;
    try {
        squall::IOLoop loop;
        // Never destroyed: the stdin thread may still post to it (the process leaves with _Exit).
        squall::Queue<std::optional<std::string>> lines;
        code = loop.run_sync(run(loop, o, lines));
    } catch (const std::exception& e) {
        fail(e.what());
    }
    std::fflush(stdout);
    // The stdin thread may still be blocked in a read: leave without joining it.
    std::_Exit(code);
}
