// squall-test-server: the loopback test server as a program with fixed routes, for scripts/run, manual
// checks with squall-fetch or curl, and benchmarks.
//
//     squall-test-server [--host 127.0.0.1] [--port 0]      # prints "listening <port>"
//
// Routes:
//   /hello               "Hello, world!\n" (Content-Length)
//   /chunked?n=BYTES     BYTES pattern bytes ('a' + i % 26), chunked in 64 KiB chunks (default 1 MiB)
//   /big?n=BYTES         the same with Content-Length (default 1 MiB)
//   /gzip                a text body gzip'd (Content-Encoding: gzip); /gzip?plain=1 sends it uncompressed
//   /redirect?to=URL     302 to URL (default /hello)
//   /slow?ms=M           chunked: "start\n", M ms later "end\n" (default 500)
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "squall/ioloop/ioloop.hpp"
#include "tests/support/http_test_request.hpp"
#include "tests/support/http_test_server.hpp"

namespace {

using squall::testing::Reply;
using squall::testing::TestRequest;

constexpr std::uint64_t kMaxGenerated = std::uint64_t{64} << 30;  // 64 GiB

std::string gzip_text() {
    std::string text;
    for (int i = 0; i < 2000; ++i)
        text += "line " + std::to_string(i) + ": squall test server, gzip'd body\n";
    return text;
}

std::string gzip(const std::string& in) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        std::abort();
    std::string out(deflateBound(&zs, in.size()) + 32, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

// ?n=BYTES, bounded; nullopt when present but invalid.
std::optional<std::uint64_t> size_param(const TestRequest& req, std::uint64_t fallback) {
    auto v = req.query_param("n");
    if (!v) return fallback;
    std::uint64_t n;
    if (!squall::testing::detail::parse_content_length(*v, n) || n > kMaxGenerated) return std::nullopt;
    return n;
}

void usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [--host ADDRESS] [--port PORT]\n", argv0);
}

}  // namespace

int main(int argc, char** argv) {
    squall::testing::TestServerOptions options;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if ((a == "--host" || a == "--port") && i + 1 < argc) {
            (a == "--host" ? options.host : a) = argv[++i];
            if (a == "--port") options.port = std::atoi(argv[i]);
        } else if (a == "-h" || a == "--help") {
            usage(argv[0]);
            return 0;
        } else {
            usage(argv[0]);
            return 1;
        }
    }
    try {
        squall::IOLoop loop;
        squall::testing::TestServer server(loop, options);
        const std::string text = gzip_text();
        const std::string gz = gzip(text);

        server.route("/hello", [](const TestRequest&) { return Reply::ok("Hello, world!\n"); });
        server.route("/chunked", [](const TestRequest& req) {
            auto n = size_param(req, 1 << 20);
            if (!n) return Reply::text(400, "bad n\n");
            return Reply::generated(200, *n, true, 64 * 1024, {{"Content-Type", "application/octet-stream"}});
        });
        server.route("/big", [](const TestRequest& req) {
            auto n = size_param(req, 1 << 20);
            if (!n) return Reply::text(400, "bad n\n");
            return Reply::generated(200, *n, false, 256 * 1024,
                                    {{"Content-Type", "application/octet-stream"}});
        });
        server.route("/gzip", [&](const TestRequest& req) {
            if (req.query_param("plain")) return Reply::ok(text);
            return Reply::text(200, gz, {{"Content-Encoding", "gzip"}});
        });
        server.route("/redirect", [](const TestRequest& req) {
            std::string to = req.query_param("to").value_or("/hello");
            if (to.find_first_of("\r\n") != std::string::npos) return Reply::text(400, "bad to\n");
            return Reply::text(302, "", {{"Location", to}});
        });
        server.route("/slow", [](const TestRequest& req) {
            std::uint64_t ms = 500;
            auto v = req.query_param("ms");
            if (v && (!squall::testing::detail::parse_content_length(*v, ms) || ms > 600000))
                return Reply::text(400, "bad ms\n");
            auto d = std::chrono::milliseconds(ms);
            return Reply::raw(Reply::head(200, {{"Transfer-Encoding", "chunked"}}))
                .then_send("6\r\nstart\n\r\n")
                .then_pause(d)
                .then_send("4\r\nend\n\r\n0\r\n\r\n");
        });

        std::printf("listening %d\n", server.port());
        std::fflush(stdout);
        loop.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "squall-test-server: %s\n", e.what());
        return 1;
    }
    return 0;
}
