// squall-fetch's command line: parsing and --help (which documents the exit codes).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fetch {

// Exit codes: each failure kind has its own, so scripts can tell them apart.
enum ExitCode : int {
    kOk = 0,
    kUsage = 1,          // bad arguments, bad URL, unreadable -d @file
    kConnectFailed = 2,  // resolve or connect failed (refused, unreachable, unknown host)
    kTimeout = 3,        // connect, request or queue timeout
    kProtocol = 4,       // malformed or truncated response, connection closed mid-response
    kHttpError = 5,      // the server answered with a status >= 400 (the body is still written)
    kTls = 6,            // TLS handshake or certificate verification failed
    kWrite = 7,          // writing the output failed (disk full, closed pipe, cannot create -o/-O file)
    kOther = 8,          // anything else
    kRedirects = 9,      // more than --max-redirs redirects, or a redirect loop (curl's 47)
};

struct CliOptions {
    std::size_t concurrency = 4;
    std::optional<std::string> output_file;  // -o FILE
    bool remote_name = false;                // -O: name each file after the URL's last path segment
    std::vector<std::pair<std::string, std::string>> headers;
    std::string method;               // empty: GET, or POST with -d
    std::optional<std::string> data;  // -d DATA or -d @FILE
    double timeout_s = 0;             // 0: the client's defaults (20 s connect, 20 s request)
    double max_time_s = -1;           // --max-time: total request_timeout (0: none, needs --read-timeout)
    double read_timeout_s = 0;        // --read-timeout: idle timeout between received bytes (0: none)
    int max_redirs = 5;               // --max-redirs N
    bool follow = true;               // false with --no-location
    bool insecure = false;            // -k
    bool verbose = false;             // -v
    // --http1.1 / --http2 / --http2-prior-knowledge (squall::http::HTTPVersion); automatic by default
    int http_version = 0;
    std::vector<std::string> urls;
};

// Parses argv. On error prints a message and returns nullopt with *exit_code set (kUsage, or kOk for
// --help).
std::optional<CliOptions> parse_cli(int argc, char** argv, int* exit_code);

}  // namespace fetch
