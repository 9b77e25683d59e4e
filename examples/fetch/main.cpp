// squall-fetch: a curl-like command-line client on squall::http::Client (run with --help).
//
//     squall-fetch http://127.0.0.1:8080/hello
//     squall-fetch -c 8 -O http://127.0.0.1:8080/a.bin http://127.0.0.1:8080/b.bin
//     squall-fetch -X PUT -H 'Content-Type: application/json' -d '{"x": 1}' -v http://127.0.0.1:8080/x
//
// Every URL is fetched concurrently through one Client (at most -c at once, the rest queue); bodies
// stream to their output as they arrive (standard output keeps command-line order by holding back
// later bodies until earlier ones are written).
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "examples/fetch/bench_mode.hpp"
#include "examples/fetch/cli_options.hpp"
#include "examples/fetch/progress_bar.hpp"
#include "squall/coro/gather.hpp"
#include "squall/httpclient/client.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/ioloop/periodic_callback.hpp"
#include "squall/iostream/resolver.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tls.hpp"

namespace {

using fetch::CliOptions;

// Where bodies go. Standard output is shared by every URL and keeps their order.
class Output {
public:
    Output(const CliOptions& o) : slots_(o.urls.size()) {}

    // Opens URL i's file for -o/-O; false (and a message) when it cannot be created.
    bool open_file(std::size_t i, const std::string& name) {
        slots_[i].file = std::fopen(name.c_str(), "wb");
        if (!slots_[i].file) {
            std::fprintf(stderr, "squall-fetch: cannot create %s: %s\n", name.c_str(), std::strerror(errno));
            return false;
        }
        return true;
    }

    void write(std::size_t i, std::string_view data) {
        Slot& s = slots_[i];
        if (s.failed) return;
        if (s.file) {
            if (std::fwrite(data.data(), 1, data.size(), s.file) != data.size()) fail(i);
        } else if (i == current_) {
            if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) fail(i);
        } else {
            s.held += data;
        }
    }

    // URL i is complete: close its file, or let standard output move on to the next URL.
    void finish(std::size_t i) {
        Slot& s = slots_[i];
        if (s.file) {
            if (std::fclose(s.file) != 0 && !s.failed) fail(i);
            s.file = nullptr;
        }
        s.done = true;
        while (current_ < slots_.size() && slots_[current_].done) {
            if (++current_ < slots_.size()) {
                Slot& next = slots_[current_];
                if (!next.file && !next.held.empty()) write(current_, std::exchange(next.held, {}));
            }
        }
        if (std::fflush(stdout) != 0 && !s.file) fail(i);
    }

    bool failed(std::size_t i) const { return slots_[i].failed; }

private:
    struct Slot {
        std::FILE* file = nullptr;
        std::string held;  // stdout bytes waiting for earlier URLs
        bool done = false;
        bool failed = false;
    };
    void fail(std::size_t i) {
        if (!slots_[i].failed)
            std::fprintf(stderr, "squall-fetch: write error for URL %zu: %s\n", i + 1, std::strerror(errno));
        slots_[i].failed = true;
    }
    std::vector<Slot> slots_;
    std::size_t current_ = 0;
};

std::string remote_name(const std::string& url) {
    std::string path = "/";
    try {
        path = squall::http::URL::parse(url).path;
    } catch (const std::exception&) {
    }
    std::string name = path.substr(path.rfind('/') + 1);
    if (name.empty() || name == "." || name == "..") name = "index.html";
    return name;
}

struct Shared {
    const CliOptions& options;
    squall::http::Client& client;
    Output& output;
    fetch::ProgressBar* bar;  // null when stderr is not a terminal (or with -v)
    std::size_t done = 0;
};

// URL i's request from the command line (without the callbacks).
squall::http::HTTPRequest make_request(const CliOptions& o, std::size_t i) {
    squall::http::HTTPRequest req{.url = o.urls[i], .method = o.method};
    for (const auto& [n, v] : o.headers) req.headers.add(n, v);
    if (o.data) req.body = *o.data;
    if (o.timeout_s > 0) {
        auto ms = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
        req.connect_timeout = ms;
        req.request_timeout = ms;
    }
    auto seconds = [](double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); };
    if (o.max_time_s >= 0) req.request_timeout = seconds(o.max_time_s);
    if (o.read_timeout_s > 0) req.read_timeout = seconds(o.read_timeout_s);
    req.follow_redirects = o.follow;
    req.max_redirects = o.max_redirs;
    req.validate_cert = !o.insecure;
    req.http_version = static_cast<squall::http::HTTPVersion>(o.http_version);
    req.raise_error = false;  // a 404 body is still written, as curl does; the exit code says 5
    // max_body_size stays unset: a streamed body has no limit (it goes to its output, never held whole).
    return req;
}

// -v prints the response head; the progress bar learns each response's Content-Length (`announced`, the
// last one, must outlive the fetch); the body streams to URL i's output.
void add_callbacks(squall::http::HTTPRequest& req, Shared& sh, std::size_t i, std::int64_t& announced) {
    const CliOptions& o = sh.options;
    req.header_callback = [&sh, &announced, &o](std::string_view line) {
        if (o.verbose) std::fprintf(stderr, "< %.*s", static_cast<int>(line.size()), line.data());
        if (!sh.bar) return;
        if (line.starts_with("HTTP/")) {  // a new response (1xx, redirect hop): forget the last length
            sh.bar->adjust_expected(-announced);
            announced = 0;
        } else if (line.size() > 15 && squall::http::iequals(line.substr(0, 15), "Content-Length:")) {
            announced = std::strtoll(std::string(line.substr(15)).c_str(), nullptr, 10);
            if (announced > 0) sh.bar->adjust_expected(announced);
        }
    };
    req.streaming_callback = [&sh, i](std::string_view piece) {
        sh.output.write(i, piece);
        if (sh.bar) sh.bar->add_bytes(piece.size());
    };
}

// -v: the request head as it will be sent (of the first hop).
void print_request_head(const squall::http::HTTPRequest& req) {
    try {
        auto head = squall::http::write_request(req, squall::http::URL::parse(req.url)).head;
        for (std::size_t p = 0; p < head.size();) {
            auto eol = head.find("\r\n", p);
            std::fprintf(stderr, "> %s\n", head.substr(p, eol - p).c_str());
            p = eol + 2;
        }
    } catch (const std::exception&) {
        // The fetch below reports the same error with its exit code.
    }
}

// A URL's exit code, and what to say about it (empty when all went well).
struct Outcome {
    int code = fetch::kOk;
    std::string what;
};

// The outcome of a response: a redirect left unfollowed after --max-redirs, or an HTTP error.
Outcome outcome_of(const squall::http::HTTPResponse& resp, const CliOptions& o) {
    const bool redirect =
        resp.code == 301 || resp.code == 302 || resp.code == 303 || resp.code == 307 || resp.code == 308;
    if (o.follow && redirect && resp.headers.contains("Location")) {
        // raise_error is off (4xx bodies are written), so the client returned the last hop.
        return {fetch::kRedirects,
                "too many redirects: more than --max-redirs " + std::to_string(o.max_redirs) + ", the last " +
                    std::to_string(resp.code) + " to " + std::string(*resp.headers.get("Location"))};
    }
    if (resp.code >= 400) return {fetch::kHttpError, "HTTP " + std::to_string(resp.code) + " " + resp.reason};
    return {};
}

// The outcome of the exception being handled (call it from a catch block).
Outcome outcome_of_current_exception() {
    try {
        throw;
    } catch (const squall::http::RedirectError& e) {
        return {fetch::kRedirects, e.what()};
    } catch (const squall::http::HTTPError& e) {
        return {fetch::kHttpError, e.what()};
    } catch (const squall::TimeoutError& e) {
        return {fetch::kTimeout, e.what()};
    } catch (const squall::TlsError& e) {
        return {fetch::kTls, e.what()};
    } catch (const squall::ConnectError& e) {
        return {fetch::kConnectFailed, e.what()};
    } catch (const squall::ResolveError& e) {
        return {fetch::kConnectFailed, e.what()};
    } catch (const squall::http::ProtocolError& e) {
        return {fetch::kProtocol, e.what()};
    } catch (const squall::StreamClosedError& e) {
        return {fetch::kProtocol, e.what()};
    } catch (const squall::http::InvalidURLError& e) {
        return {fetch::kUsage, e.what()};
    } catch (const squall::http::RequestError& e) {
        return {fetch::kUsage, e.what()};
    } catch (const std::exception& e) {
        return {fetch::kOther, e.what()};
    }
}

// URL i is done: its output finished, its error printed, the progress bar's count moved on. Returns the
// exit code (a write error when the fetch itself went well).
int finish_one(Shared& sh, std::size_t i, const Outcome& outcome) {
    const CliOptions& o = sh.options;
    int code = outcome.code;
    sh.output.finish(i);
    if (code == fetch::kOk && sh.output.failed(i)) code = fetch::kWrite;
    if (!outcome.what.empty())
        std::fprintf(stderr, "%ssquall-fetch: %s: %s\n", sh.bar ? "\n" : "", o.urls[i].c_str(),
                     outcome.what.c_str());
    ++sh.done;
    if (sh.bar) sh.bar->set_counts(sh.done, o.urls.size());
    return code;
}

// Fetches URL i; returns its exit code.
squall::Task<int> fetch_one(Shared& sh, std::size_t i) {
    const CliOptions& o = sh.options;
    squall::http::HTTPRequest req = make_request(o, i);
    std::int64_t announced = 0;
    add_callbacks(req, sh, i, announced);
    if (o.verbose) print_request_head(req);

    Outcome outcome;
    try {
        auto resp = co_await sh.client.fetch(req);
        if (o.verbose)
            std::fprintf(stderr, "* %s served by %s\n", std::string(resp.effective_url()).c_str(),
                         resp.protocol.c_str());
        outcome = outcome_of(resp, o);
    } catch (const std::exception&) {
        outcome = outcome_of_current_exception();
    }
    co_return finish_one(sh, i, outcome);
}

squall::Task<int> run(squall::IOLoop& loop, const CliOptions& o, Output& output, fetch::ProgressBar* bar) {
    squall::http::Client client(loop, {.max_clients = o.concurrency});
    Shared sh{o, client, output, bar};
    std::unique_ptr<squall::PeriodicCallback> ticker;
    if (bar) {
        bar->set_counts(0, o.urls.size());
        ticker = std::make_unique<squall::PeriodicCallback>(
            loop, [bar] { bar->draw(); }, std::chrono::milliseconds(200));
        ticker->start();
    }
    std::vector<squall::Task<int>> fetches;
    for (std::size_t i = 0; i < o.urls.size(); ++i) fetches.push_back(fetch_one(sh, i));
    std::vector<int> codes = co_await squall::gather(std::move(fetches));
    if (bar) {
        ticker->stop();
        bar->finish();
    }
    for (int c : codes)
        if (c != fetch::kOk) co_return c;  // the first failing URL in command-line order
    co_return fetch::kOk;
}

}  // namespace

int main(int argc, char** argv) {
    // A closed output pipe is a write error (exit code 7), not death by SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    if (fetch::wants_bench_mode(argc, argv)) return fetch::bench_main(argc, argv);
    int exit_code = 0;
    auto options = fetch::parse_cli(argc, argv, &exit_code);
    if (!options) return exit_code;
    Output output(*options);
    for (std::size_t i = 0; i < options->urls.size(); ++i) {
        if (options->output_file && !output.open_file(i, *options->output_file)) return fetch::kWrite;
        if (options->remote_name && !output.open_file(i, remote_name(options->urls[i]))) return fetch::kWrite;
    }
    std::unique_ptr<fetch::ProgressBar> bar;
    if (::isatty(STDERR_FILENO) && !options->verbose) bar = std::make_unique<fetch::ProgressBar>(stderr);
    try {
        squall::IOLoop loop;
        return loop.run_sync(run(loop, *options, output, bar.get()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "squall-fetch: %s\n", e.what());
        return fetch::kOther;
    }
}
