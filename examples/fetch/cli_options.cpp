#include "examples/fetch/cli_options.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

namespace fetch {

namespace {

constexpr const char* kHelp = R"(usage: squall-fetch [options] URL...

Fetches each URL with squall's HTTP client (keep-alive pool, redirects, gzip; HTTP/2 where the server
picks h2 by ALPN, several URLs of one origin multiplexed on one connection) and writes the bodies to
standard output in URL order, or to files.

  -c N          fetch at most N URLs at once (default 4)
  -o FILE       write the body to FILE (one URL only)
  -O            write each body to a file named after the URL's last path segment (index.html for "/")
  -H 'Name: v'  add a request header (repeatable)
  -X METHOD     request method (default GET, or POST with -d)
  -d DATA       request body; -d @FILE reads it from FILE
  --timeout S   connect and request timeout in seconds (default 20 each)
  --max-time S  total time for each request, from dequeue to the last byte (0: none; needs
                --read-timeout)
  --read-timeout S  fail when no response byte arrives for S seconds (idle timeout; default none)
  --max-redirs N    follow at most N redirects (default 5); more is a failure (exit code 9)
  --no-location     do not follow redirects: the 3xx response itself is the result
  -k            do not verify TLS certificates
  -v            print the request and response heads (and the protocol that served them) to stderr
  --http1.1     HTTP/1.1 only (ALPN offers http/1.1)
  --http2       offer h2 by ALPN on https:// (the default; http:// stays HTTP/1.1)
  --http2-prior-knowledge  HTTP/2 from the first byte, also on http:// (h2c)
  -h, --help    this help

A progress bar (bytes, rate, ETA) is drawn on stderr when it is a terminal.

Exit codes:
  0  every fetch succeeded
  1  usage error (bad option, bad URL, unreadable -d @FILE)
  2  connect failure (refused, unreachable, unknown host)
  3  timeout (connect, request, or waiting in the queue)
  4  protocol error (malformed or truncated response, connection closed mid-response)
  5  HTTP error: status >= 400 (the body is still written)
  6  TLS error (handshake or certificate)
  7  write error (output file or pipe)
  8  other failure
  9  too many redirects (more than --max-redirs) or a redirect loop
With several URLs, the code is that of the first failing URL (in command-line order).
)";

bool usage_error(const std::string& msg, int* code) {
    std::fprintf(stderr, "squall-fetch: %s (try --help)\n", msg.c_str());
    *code = kUsage;
    return false;
}

}  // namespace

// long: one branch per command-line option, in the order --help lists them.
std::optional<CliOptions> parse_cli(int argc, char** argv, int* exit_code) {
    CliOptions o;
    *exit_code = kOk;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= argc) {
                usage_error(std::string(name) + " needs a value", exit_code);
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        if (a == "-h" || a == "--help") {
            std::fputs(kHelp, stdout);
            return std::nullopt;
        } else if (a == "-c") {
            auto v = value("-c");
            if (!v) return std::nullopt;
            char* end = nullptr;
            long n = std::strtol(v->c_str(), &end, 10);
            if (*end || n < 1 || n > 10000)
                return usage_error("-c wants a number from 1 to 10000", exit_code), std::nullopt;
            o.concurrency = static_cast<std::size_t>(n);
        } else if (a == "-o") {
            auto v = value("-o");
            if (!v) return std::nullopt;
            o.output_file = *v;
        } else if (a == "-O") {
            o.remote_name = true;
        } else if (a == "-H") {
            auto v = value("-H");
            if (!v) return std::nullopt;
            auto colon = v->find(':');
            if (colon == std::string::npos || colon == 0)
                return usage_error("-H wants 'Name: value', got '" + *v + "'", exit_code), std::nullopt;
            std::string val = v->substr(colon + 1);
            val.erase(0, val.find_first_not_of(" \t") == std::string::npos ? val.size()
                                                                           : val.find_first_not_of(" \t"));
            o.headers.emplace_back(v->substr(0, colon), val);
        } else if (a == "-X") {
            auto v = value("-X");
            if (!v) return std::nullopt;
            o.method = *v;
        } else if (a == "-d") {
            auto v = value("-d");
            if (!v) return std::nullopt;
            if (v->starts_with("@")) {
                std::ifstream f(v->substr(1), std::ios::binary);
                if (!f) return usage_error("cannot read " + v->substr(1), exit_code), std::nullopt;
                std::ostringstream ss;
                ss << f.rdbuf();
                o.data = ss.str();
            } else {
                o.data = *v;
            }
        } else if (a == "--timeout") {
            auto v = value("--timeout");
            if (!v) return std::nullopt;
            char* end = nullptr;
            double s = std::strtod(v->c_str(), &end);
            if (*end || !(s > 0) || s > 86400)
                return usage_error("--timeout wants seconds > 0", exit_code), std::nullopt;
            o.timeout_s = s;
        } else if (a == "--max-time" || a == "--read-timeout") {
            auto v = value(a == "--max-time" ? "--max-time" : "--read-timeout");
            if (!v) return std::nullopt;
            char* end = nullptr;
            double s = std::strtod(v->c_str(), &end);
            if (*end || !(s >= 0) || s > 86400)
                return usage_error(std::string(a) + " wants seconds >= 0", exit_code), std::nullopt;
            (a == "--max-time" ? o.max_time_s : o.read_timeout_s) = s;
        } else if (a == "--max-redirs") {
            auto v = value("--max-redirs");
            if (!v) return std::nullopt;
            char* end = nullptr;
            long n = std::strtol(v->c_str(), &end, 10);
            if (*end || v->empty() || n < 0 || n > 1000)
                return usage_error("--max-redirs wants a number from 0 to 1000", exit_code), std::nullopt;
            o.max_redirs = static_cast<int>(n);
        } else if (a == "--no-location") {
            o.follow = false;
        } else if (a == "-k") {
            o.insecure = true;
        } else if (a == "-v") {
            o.verbose = true;
        } else if (a == "--http1.1") {
            o.http_version = 1;
        } else if (a == "--http2") {
            o.http_version = 2;
        } else if (a == "--http2-prior-knowledge") {
            o.http_version = 3;
        } else if (a.starts_with("-") && a.size() > 1) {
            return usage_error("unknown option " + std::string(a), exit_code), std::nullopt;
        } else {
            o.urls.emplace_back(a);
        }
    }
    if (o.urls.empty()) return usage_error("no URL given", exit_code), std::nullopt;
    if (o.output_file && o.remote_name)
        return usage_error("-o and -O exclude each other", exit_code), std::nullopt;
    if (o.output_file && o.urls.size() != 1)
        return usage_error("-o takes exactly one URL (use -O for several)", exit_code), std::nullopt;
    if (o.max_time_s == 0 && o.read_timeout_s == 0)
        return usage_error("--max-time 0 (no total limit) needs --read-timeout", exit_code), std::nullopt;
    if (o.method.empty()) o.method = o.data ? "POST" : "GET";
    return o;
}

}  // namespace fetch
