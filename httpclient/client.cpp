#include "squall/httpclient/client.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/httpclient/connection.hpp"
#include "squall/httpclient/errors.hpp"
#include "squall/httpclient/http2/h2_connection.hpp"
#include "squall/httpclient/http2/registry.hpp"
#include "squall/httpclient/pool.hpp"
#include "squall/httpclient/request_writer.hpp"
#include "squall/httpclient/response_parser.hpp"
#include "squall/httpclient/url.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/resolver.hpp"
#include "squall/iostream/tcp_client.hpp"
#include "squall/iostream/tls.hpp"

namespace squall::http {
namespace detail {

namespace {

using std::chrono::milliseconds;

std::string what_of(const HTTPRequest& request) {
    return request.method + " " + request.url;
}

bool is_redirect_code(int code) {
    return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

// Tornado's rule for a queued request: the smaller non-zero of connect_timeout and request_timeout.
milliseconds queue_timeout(const HTTPRequest& r) {
    if (r.connect_timeout.count() > 0 && r.request_timeout.count() > 0)
        return std::min(r.connect_timeout, r.request_timeout);
    return r.connect_timeout.count() > 0 ? r.connect_timeout : r.request_timeout;
}

// HTTP/2 is possible: https:// unless http1_1 (ALPN decides), http:// only by prior knowledge (h2c) and
// never through a plain HTTP proxy.
bool may_use_http2(const HTTPRequest& r, const URL& url) {
    if (r.http_version == HTTPVersion::http1_1) return false;
    if (url.is_https()) return true;
    return r.http_version == HTTPVersion::http2_prior_knowledge && r.proxy_host.empty();
}

bool retryable_when_stale(const HTTPRequest& r) {
    static constexpr std::string_view kIdempotent[] = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"};
    return r.retry_on_stale_connection ||
           std::find(std::begin(kIdempotent), std::end(kIdempotent), r.method) != std::end(kIdempotent);
}

// Ends what waits on a connection or stream when a deadline passes (closes the stream, or aborts the
// connection's exchange), so the connect handshake, write or read fails at once; the caller then reports
// the TimeoutError this guard describes. No timer for TimePoint::max(). `target` must outlive the guard.
class Deadline {
public:
    template <class Target>
    Deadline(IOLoop& loop, Target& target, TimePoint deadline, const char* which, Duration limit,
             const char* doing, const HTTPRequest& request)
        : loop_(loop), which_(which), limit_(limit), doing_(doing), request_(request) {
        if (deadline == TimePoint::max()) return;
        armed_ = true;
        timer_ = loop_.call_at(deadline, [this, t = &target] {
            armed_ = false;
            fired_ = true;
            auto reason = std::make_exception_ptr(TimeoutError(message()));
            if constexpr (std::is_base_of_v<Connection, Target>) {
                t->abort(std::move(reason));
            } else {
                t->close(std::move(reason));
            }
        });
    }
    ~Deadline() { cancel(); }
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    void cancel() {
        if (armed_) loop_.remove_timeout(timer_);
        armed_ = false;
    }
    bool fired() const noexcept { return fired_; }
    std::string message() const {
        return timeout_message(which_, limit_, doing_) + " (" + what_of(request_) + ")";
    }

private:
    IOLoop& loop_;
    const char* which_;
    Duration limit_;
    const char* doing_;
    const HTTPRequest& request_;
    TimeoutHandle timer_{};
    bool armed_ = false;
    bool fired_ = false;
};

// The request for the next hop of a redirect (Tornado's rules; see client.hpp).
std::shared_ptr<HTTPRequest> redirect_request(const HTTPRequest& previous, int code, const URL& from,
                                              const URL& to) {
    auto next = std::make_shared<HTTPRequest>(previous);
    next->url = to.to_string();
    const bool to_get = (code == 303 && previous.method != "HEAD") ||
                        ((code == 301 || code == 302) && previous.method == "POST");
    if (to_get) {
        next->method = "GET";
        next->body.reset();
        next->body_producer = nullptr;
        next->expect_100_continue = false;
        for (auto name :
             {"Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Expect"})
            next->headers.remove(name);
    } else if (previous.body_producer) {
        throw RequestError("cannot follow the " + std::to_string(code) + " redirect of " + what_of(previous) +
                           " to " + next->url + ": its body_producer cannot be replayed");
    }
    if (from.scheme != to.scheme || from.host != to.host || from.port != to.port) {
        // Credentials for one origin never travel to another.
        next->headers.remove("Authorization");
        next->headers.remove("Host");
        next->auth_username.clear();
        next->auth_password.clear();
    }
    return next;
}

// The deadline of a new connection's connect, CONNECT and TLS handshake: connect_timeout from `start`,
// or the request's deadline when that comes first; `which` and `limit` name the one that applies.
struct ConnectDeadline {
    TimePoint at = TimePoint::max();
    const char* which = "connect_timeout";
    Duration limit{};
};

ConnectDeadline connect_deadline(const HTTPRequest& request, TimePoint start, TimePoint request_deadline) {
    ConnectDeadline d;
    d.limit = request.connect_timeout;
    if (request.connect_timeout.count() > 0) d.at = start + request.connect_timeout;
    if (request_deadline < d.at) {
        d.at = request_deadline;
        d.which = "request_timeout";
        d.limit = request.request_timeout;
    }
    return d;
}

// While a connect to an origin that may speak HTTP/2 runs, other fetches to it wait for its session:
// marks the connect as started, and as finished when destroyed.
class CoalesceGuard {
public:
    CoalesceGuard() = default;
    CoalesceGuard(const CoalesceGuard&) = delete;
    CoalesceGuard& operator=(const CoalesceGuard&) = delete;
    ~CoalesceGuard() {
        if (sessions_) sessions_->connect_finished(key_);
    }

    void start(Http2Sessions& sessions, const std::string& key) {
        sessions_ = &sessions;
        key_ = key;
        sessions_->connect_started(key_);
    }
    bool active() const noexcept { return sessions_ != nullptr; }

private:
    Http2Sessions* sessions_ = nullptr;
    std::string key_;  // a copy: the connection takes the caller's key by move
};

}  // namespace

class ClientCore : public std::enable_shared_from_this<ClientCore> {
public:
    ClientCore(IOLoop& loop, ClientOptions options)
        : loop_(loop),
          options_(std::move(options)),
          resolver_(loop),
          tcp_(loop, &resolver_),
          pool_(loop,
                {.max_idle_per_host = options_.max_idle_per_host, .idle_timeout = options_.idle_timeout}) {
        if (options_.max_clients == 0) options_.max_clients = 1;
        for (const auto& [from, to] : options_.hostname_mapping) resolver_.add_override(from, to);
    }
    ~ClientCore() { close(); }

    // `request` is the caller's own (defaults applied); it becomes HTTPResponse::request of the first hop.
    static Task<HTTPResponse> run(std::shared_ptr<ClientCore> self,
                                  std::shared_ptr<const HTTPRequest> request);

    void close() {
        closed_ = true;
        auto waiters = std::move(waiters_);
        waiters_.clear();
        for (auto& w : waiters) {
            if (w->timer_set) loop_.remove_timeout(w->timer);
            w->promise.set_error(Error("http::Client closed while the request was queued"));
        }
        pool_.close_all();
        http2_.close_all();
    }

    void apply_defaults(HTTPRequest& request) const {
        for (const auto& [name, value] : options_.defaults.headers)
            if (!request.headers.contains(name)) request.headers.add(name, value);
        if (request.user_agent.empty()) request.user_agent = options_.defaults.user_agent;
    }

    IOLoop& loop_;
    ClientOptions options_;
    Resolver resolver_;
    TCPClient tcp_;
    ConnectionPool pool_;
    Http2Sessions http2_;  // live HTTP/2 sessions: shared by fetches, never in pool_
    std::map<std::string, std::shared_ptr<const TlsContext>> tls_contexts_;
    std::size_t active_ = 0;
    struct Waiter {
        Promise<void> promise;
        TimeoutHandle timer{};
        bool timer_set = false;
    };
    std::deque<std::shared_ptr<Waiter>> waiters_;
    std::string key_scratch_;  // pool_key() of the current lookup
    // The last url text fetched, and its parsed URL once it was fetched twice in a row: a client calling
    // one endpoint again and again (a prepared request, an API) parses it once and copies no strings.
    std::string last_url_text_;
    std::shared_ptr<const URL> last_url_;
    std::shared_ptr<const URL> cached_url(const std::string& text) {
        if (text != last_url_text_) {
            last_url_.reset();
            last_url_text_.assign(text);
            return nullptr;
        }
        if (!last_url_) last_url_ = std::make_shared<const URL>(URL::parse(text));
        return last_url_;
    }
    // A prepared request fetched again at the cached url: its pool key and its serialized head, made at
    // its second fetch and shared (read-only) by the fetches of it in flight. prepared_request_ names the
    // last request fetched at last_url_ (weakly: holding its control block, no other request can take
    // its identity while the cache lives).
    struct PreparedHop {
        std::string pool_key;
        SerializedRequest serialized;
    };
    std::weak_ptr<const HTTPRequest> prepared_request_;
    const HTTPRequest* prepared_raw_ = nullptr;
    const URL* prepared_url_ = nullptr;
    std::shared_ptr<const PreparedHop> prepared_;
    std::shared_ptr<const PreparedHop> prepared_hop(const std::shared_ptr<const HTTPRequest>& request,
                                                    const std::shared_ptr<const URL>& url);
    bool closed_ = false;
    ClientStats stats_;

private:
    // Holds one of the max_clients slots for the life of a fetch.
    struct Slot {
        ClientCore& core;
        ~Slot() { core.release_slot(); }
    };

    Future<void> acquire_slot(const HTTPRequest& request);
    void release_slot();
    void hand_out_slots();
    // Writes the pool key of a request into `key` (a reused buffer: a keep-alive lookup allocates nothing).
    static void pool_key(const HTTPRequest& request, const URL& url, std::string& key);
    std::shared_ptr<const TlsContext> tls_context(const HTTPRequest& request);
    // One hop: fills `response` in place (code, reason, headers, body, trailers, first_byte).
    // `key`: the pool key when the caller has it (a prepared hop), else null.
    Task<void> fetch_hop(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                         const std::string* key, TimePoint deadline, TimeInfo& times, HTTPResponse& response);
    // A connection available at once for one attempt: a live HTTP/2 session of the origin, else an idle
    // pooled one (first attempt only); null when none is (or an HTTP/2 connect to the origin is under way).
    std::unique_ptr<Connection> ready_connection(const HTTPRequest& request, const URL& url,
                                                 const std::string* key, int attempt, TimeInfo& times);
    // A connection for one attempt: ready_connection's, else (after waiting for an HTTP/2 connect to the
    // origin under way) a new one.
    Task<std::unique_ptr<Connection>> connection_for(const HTTPRequest& request, const URL& url,
                                                     const std::string* key, int attempt, TimePoint deadline,
                                                     TimeInfo& times);
    // After an exchange failed on a stale connection (or a refused HTTP/2 stream): true, with the response
    // reset and counted as a stale retry, when the request goes again on a new connection.
    bool retry_stale(const HTTPRequest& request, int attempt, HTTPResponse& response);
    Task<std::unique_ptr<Connection>> open_connection(const HTTPRequest& request, const URL& url,
                                                      std::string key, TimePoint request_deadline,
                                                      TimeInfo& times);
    // TLS on a new connection (inside a CONNECT tunnel through a proxy), within the connect deadline.
    Task<void> secure(IOStream& stream, const HTTPRequest& request, const URL& url,
                      const ConnectDeadline& limit, TimeInfo& times);
    // The connection over a new stream: an HTTP/2 session (added to http2_) when h2 was negotiated or
    // known, else HTTP/1.1.
    std::unique_ptr<Connection> make_connection(std::shared_ptr<IOStream> stream, const HTTPRequest& request,
                                                const URL& url, std::string key, bool h2_prior_knowledge);
    static Task<void> open_tunnel(IOStream& stream, const HTTPRequest& request, const URL& url);
};

// ------------------------------------------------------------------------------------------ queue

Future<void> ClientCore::acquire_slot(const HTTPRequest& request) {
    if (active_ < options_.max_clients && waiters_.empty()) {
        ++active_;
        return make_ready_future();
    }
    auto waiter = std::make_shared<Waiter>();
    milliseconds limit = queue_timeout(request);
    if (limit.count() > 0) {
        waiter->timer_set = true;
        std::string message = "timeout in request queue: no free connection slot (max_clients=" +
                              std::to_string(options_.max_clients) + ") within " + format_duration(limit) +
                              ", the smaller of connect_timeout and request_timeout (" + what_of(request) +
                              ")";
        waiter->timer = loop_.call_later(limit, [this, w = waiter.get(), message = std::move(message)] {
            w->timer_set = false;
            auto it =
                std::find_if(waiters_.begin(), waiters_.end(), [w](const auto& p) { return p.get() == w; });
            if (it == waiters_.end()) return;
            auto keep = *it;  // the promise must outlive set_error, which resumes the fetch inline
            waiters_.erase(it);
            keep->promise.set_error(TimeoutError(message));
        });
    }
    waiters_.push_back(waiter);
    return waiter->promise.get_future();
}

void ClientCore::release_slot() {
    --active_;
    if (waiters_.empty()) return;
    // On the next iteration, not inside the finishing fetch's unwinding.
    loop_.add_callback([self = shared_from_this()] { self->hand_out_slots(); });
}

void ClientCore::hand_out_slots() {
    while (active_ < options_.max_clients && !waiters_.empty()) {
        auto waiter = std::move(waiters_.front());
        waiters_.pop_front();
        if (waiter->timer_set) loop_.remove_timeout(waiter->timer);
        waiter->timer_set = false;
        ++active_;
        waiter->promise.set_value();  // resumes that fetch inline; FIFO order
    }
}

// ------------------------------------------------------------------------------------------ connections

void ClientCore::pool_key(const HTTPRequest& request, const URL& url, std::string& key) {
    key.clear();
    const bool proxied = !request.proxy_host.empty();
    auto add_proxy = [&] {
        key.append(request.proxy_host).append(":").append(std::to_string(request.proxy_port));
        key.append("|").append(request.proxy_username).append(":").append(request.proxy_password);
    };
    if (proxied && !url.is_https()) {
        // Every http:// request through one proxy can share its connections.
        key.append("http-proxy://");
        add_proxy();
        return;
    }
    key.append(url.scheme).append("://");
    append_host_port(key, url);
    if (proxied) {
        key.append("|via ");
        add_proxy();
    }
    if (url.is_https()) {
        key.append(request.validate_cert ? "|verify|" : "|noverify|");
        key.append(request.ca_certs)
            .append("|")
            .append(request.client_cert)
            .append("|")
            .append(request.client_key);
    }
}

std::shared_ptr<const TlsContext> ClientCore::tls_context(const HTTPRequest& request) {
    // ALPN: h2 and http/1.1 (the server picks), http/1.1 alone for http1_1, h2 alone by prior knowledge.
    const auto version = request.http_version;
    std::vector<std::string> alpn{"h2", "http/1.1"};
    if (version == HTTPVersion::http1_1) alpn = {"http/1.1"};
    if (version == HTTPVersion::http2_prior_knowledge) alpn = {"h2"};
    std::string key = std::to_string(static_cast<int>(version)) + (request.validate_cert ? "|1|" : "|0|") +
                      request.ca_certs + "|" + request.client_cert + "|" + request.client_key;
    auto it = tls_contexts_.find(key);
    if (it != tls_contexts_.end()) return it->second;
    auto context = TlsContext::client({.verify_peer = request.validate_cert,
                                       .check_hostname = request.validate_cert,
                                       .ca_file = request.ca_certs,
                                       .cert_file = request.client_cert,
                                       .key_file = request.client_key,
                                       .alpn = std::move(alpn)});
    tls_contexts_.emplace(std::move(key), context);
    return context;
}

Task<void> ClientCore::open_tunnel(IOStream& stream, const HTTPRequest& request, const URL& url) {
    const std::string proxy = request.proxy_host + ":" + std::to_string(request.proxy_port);
    stream.write_buffered(write_connect_request(request, url));
    co_await stream.flush();
    ResponseParser parser({.method = "CONNECT", .max_header_size = request.max_header_size});
    ResponseReader reader(stream, parser);
    bool answered = false;
    try {
        answered = co_await reader.read_until(ReadGoal::head);
    } catch (const StreamClosedError& e) {
        throw ProtocolError("proxy " + proxy + " closed the connection before answering CONNECT " +
                            url.host_port() + ": " + e.what());
    }
    if (!answered)
        throw ProtocolError("proxy " + proxy + " closed the connection before answering CONNECT " +
                            url.host_port() + ": stream closed (while reading): connection closed by peer");
    auto& buffer = stream.read_buffer();
    if (parser.code() < 200 || parser.code() > 299) {
        auto response = std::make_shared<HTTPResponse>();
        response->code = parser.code();
        response->reason = parser.reason();
        response->headers = parser.take_headers();
        response->request = std::make_shared<const HTTPRequest>(request);
        throw HTTPError(response->code, response,
                        "proxy " + proxy + " refused CONNECT " + url.host_port() + ": " +
                            std::to_string(response->code) + " " + response->reason);
    }
    if (!buffer.empty())
        throw ProtocolError("proxy " + proxy + " sent " + std::to_string(buffer.size()) +
                            " bytes after its CONNECT response, before the TLS handshake");
}

Task<std::unique_ptr<Connection>> ClientCore::open_connection(const HTTPRequest& request, const URL& url,
                                                              std::string key, TimePoint request_deadline,
                                                              TimeInfo& times) {
    const bool proxied = !request.proxy_host.empty();
    if (proxied && request.proxy_port == 0)
        throw RequestError("proxy_host " + request.proxy_host + " given without proxy_port");
    const std::string host = proxied ? request.proxy_host : url.host;
    const std::uint16_t port = proxied ? request.proxy_port : url.port;
    CoalesceGuard coalesce;
    if (may_use_http2(request, url)) coalesce.start(http2_, key);

    const TimePoint start = loop_.time();
    const ConnectDeadline limit = connect_deadline(request, start, request_deadline);
    ConnectOptions connect_options;
    connect_options.allow_ipv6 = request.allow_ipv6;
    if (limit.at != TimePoint::max()) connect_options.timeout = std::max(Duration::zero(), limit.at - start);

    std::shared_ptr<IOStream> stream;
    try {
        stream = co_await tcp_.connect(host, port, connect_options);
    } catch (const TimeoutError&) {
        throw TimeoutError(timeout_message(limit.which, limit.limit,
                                           "while connecting to " + host + ":" + std::to_string(port)) +
                           " (" + what_of(request) + ")");
    }
    ++stats_.connections_opened;
    stream->set_nodelay(true);
    times.connect = loop_.time() - start;

    if (url.is_https()) co_await secure(*stream, request, url, limit, times);
    co_return make_connection(std::move(stream), request, url, std::move(key), coalesce.active());
}

Task<void> ClientCore::secure(IOStream& stream, const HTTPRequest& request, const URL& url,
                              const ConnectDeadline& limit, TimeInfo& times) {
    const bool proxied = !request.proxy_host.empty();
    Deadline guard(loop_, stream, limit.at, limit.which, limit.limit,
                   proxied ? "during CONNECT and the TLS handshake" : "during the TLS handshake", request);
    std::exception_ptr error;
    try {
        if (proxied) co_await open_tunnel(stream, request, url);
        const TimePoint tls_start = loop_.time();
        auto context = tls_context(request);
        co_await stream.start_tls(context, url.host);
        times.tls = loop_.time() - tls_start;
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        stream.close();
        if (guard.fired()) throw TimeoutError(guard.message());
        std::rethrow_exception(error);
    }
}

std::unique_ptr<Connection> ClientCore::make_connection(std::shared_ptr<IOStream> stream,
                                                        const HTTPRequest& request, const URL& url,
                                                        std::string key, bool h2_prior_knowledge) {
    const bool h2 = url.is_https() ? stream->tls()->alpn_selected() == "h2" : h2_prior_knowledge;
    if (url.is_https() && !h2 && request.http_version == HTTPVersion::http2_prior_knowledge) {
        stream->close();
        throw ProtocolError("http2_prior_knowledge: " + url.host_port() + " did not select h2 by ALPN (" +
                            what_of(request) + ")");
    }
    if (h2) {
        Http2Options h2_options = options_.http2;
        h2_options.idle_timeout = options_.idle_timeout;
        auto session = Http2Session::start(std::move(stream), key, h2_options);
        http2_.add(session);
        return std::make_unique<HTTP2Connection>(std::move(session));
    }
    return std::make_unique<HTTP1Connection>(std::move(stream), std::move(key));
}

std::unique_ptr<Connection> ClientCore::ready_connection(const HTTPRequest& request, const URL& url,
                                                         const std::string* key, int attempt,
                                                         TimeInfo& times) {
    if (key != nullptr) {
        key_scratch_.assign(*key);
    } else {
        pool_key(request, url, key_scratch_);
    }
    if (attempt != 0 || closed_) return nullptr;  // a retry always connects anew
    std::unique_ptr<Connection> connection;
    if (may_use_http2(request, url)) {
        if (auto session = http2_.find(key_scratch_)) {
            connection = std::make_unique<HTTP2Connection>(std::move(session));
        } else if (http2_.connecting(key_scratch_)) {
            return nullptr;  // connection_for waits for that connect: it may bring a session
        }
    }
    // Only a request that may not be retried pays for a liveness peek.
    if (!connection) connection = pool_.take(key_scratch_, !retryable_when_stale(request));
    if (connection) {
        ++stats_.connections_reused;
        times.connect = times.tls = Duration::zero();
    }
    return connection;
}

Task<std::unique_ptr<Connection>> ClientCore::connection_for(const HTTPRequest& request, const URL& url,
                                                             const std::string* key, int attempt,
                                                             TimePoint deadline, TimeInfo& times) {
    // HTTP/2: while another fetch connects to the origin, wait for it rather than open a connection of
    // our own (ready_connection finds its session once it is up).
    for (;;) {
        if (auto connection = ready_connection(request, url, key, attempt, times)) co_return connection;
        if (attempt != 0 || closed_ || !may_use_http2(request, url) || !http2_.connecting(key_scratch_))
            break;
        co_await http2_.wait_for_connect(key_scratch_);
    }
    co_return co_await open_connection(request, url, key_scratch_, deadline, times);
}

std::shared_ptr<const ClientCore::PreparedHop> ClientCore::prepared_hop(
    const std::shared_ptr<const HTTPRequest>& request, const std::shared_ptr<const URL>& url) {
    const bool same = url && url.get() == prepared_url_ && request.get() == prepared_raw_ &&
                      !prepared_request_.owner_before(request) && !request.owner_before(prepared_request_);
    if (!same) {
        // A request seen for the first time at this url: remember it; its second fetch makes the hop.
        prepared_.reset();
        prepared_request_ = request;
        prepared_raw_ = request.get();
        prepared_url_ = url.get();
        return nullptr;
    }
    if (!prepared_) {
        auto hop = std::make_shared<PreparedHop>();
        pool_key(*request, *url, hop->pool_key);
        try {
            write_request_into(
                hop->serialized, *request, *url,
                {.via_proxy = !request->proxy_host.empty() && !url->is_https(), .keep_alive = true});
        } catch (...) {
            return nullptr;  // an invalid request: the exchange reports it, as for any other
        }
        prepared_ = std::move(hop);
    }
    return prepared_;
}

bool ClientCore::retry_stale(const HTTPRequest& request, int attempt, HTTPResponse& response) {
    if (attempt != 0 || !retryable_when_stale(request)) return false;
    ++stats_.stale_retries;
    response = HTTPResponse{};
    return true;
}

Task<void> ClientCore::fetch_hop(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                                 const std::string* key, TimePoint deadline, TimeInfo& times,
                                 HTTPResponse& response) {
    for (int attempt = 0;; ++attempt) {
        // A pooled connection (or a live HTTP/2 session) is taken without a coroutine of its own.
        std::unique_ptr<Connection> connection = ready_connection(request, url, key, attempt, times);
        if (!connection) connection = co_await connection_for(request, url, key, attempt, deadline, times);
        ++stats_.requests;
        Deadline guard(loop_, *connection, deadline, "request_timeout", request.request_timeout,
                       "before the response was complete", request);
        std::exception_ptr error;
        bool stale = false;
        try {
            co_await connection->exchange(request, url, options, response);
        } catch (const StaleConnectionError&) {
            stale = true;
            error = std::current_exception();
        } catch (const RefusedStreamError& e) {
            // HTTP/2: not processed (REFUSED_STREAM, or above GOAWAY's last_stream_id): as a stale connection.
            if (retry_stale(request, attempt, response)) continue;
            if (retryable_when_stale(request)) throw;
            throw RefusedStreamError(e.code(),
                                     std::string(e.what()) + "; not retried: " + request.method +
                                         " is not idempotent (set retry_on_stale_connection to allow it)");
        } catch (...) {
            error = std::current_exception();
        }
        guard.cancel();
        if (error) {
            connection->close();
            if (guard.fired()) throw TimeoutError(guard.message());
            if (stale) {
                if (retry_stale(request, attempt, response)) continue;
                try {
                    std::rethrow_exception(error);
                } catch (const StaleConnectionError& e) {
                    if (retryable_when_stale(request)) throw;
                    throw StaleConnectionError(
                        std::string(e.what()) + "; not retried: " + request.method +
                            " is not idempotent (set retry_on_stale_connection to allow it)",
                        e.real_error(), e.error_code());
                }
            }
            std::rethrow_exception(error);
        }
        times.first_byte = response.time_info.first_byte;
        if (connection->reusable() && !closed_) {
            pool_.put(std::move(connection));
        } else {
            connection->close();
        }
        co_return;
    }
}

// ------------------------------------------------------------------------------------------ fetch

Task<HTTPResponse> ClientCore::run(std::shared_ptr<ClientCore> self,
                                   std::shared_ptr<const HTTPRequest> request) {
    IOLoop& loop = self->loop_;
    const TimePoint started = loop.time();
    if (self->closed_) throw Error("http::Client is closed (" + what_of(*request) + ")");
    // A url fetched again and again is parsed once (cached_url); any other is parsed onto this frame.
    std::shared_ptr<const URL> shared_url = self->cached_url(request->url);
    std::optional<URL> own_url;
    if (!shared_url) own_url.emplace(URL::parse(request->url));
    const URL* url_of_hop = shared_url ? shared_url.get() : &*own_url;
    if (request->request_timeout.count() <= 0 && request->read_timeout.count() <= 0)
        throw RequestError("request_timeout = 0 (no total deadline) needs a read_timeout (" +
                           what_of(*request) + ")");
    // The same prepared request at that url again: its pool key and head were made once.
    std::shared_ptr<const PreparedHop> prepared = self->prepared_hop(request, shared_url);

    co_await self->acquire_slot(*request);
    Slot slot{*self};
    const TimePoint dequeued = loop.time();
    const TimePoint deadline =
        request->request_timeout.count() > 0 ? dequeued + request->request_timeout : TimePoint::max();

    std::shared_ptr<const HTTPRequest> current = std::move(request);
    std::vector<std::string> visited;  // "METHOD url" of every hop, filled at the first redirect
    int redirects = 0;
    TimeInfo times;
    for (;;) {
        const URL& url = *url_of_hop;
        const bool may_follow = current->follow_redirects && redirects < current->max_redirects;
        ExchangeOptions options;
        options.via_proxy = !current->proxy_host.empty() && !url.is_https();
        if (prepared) options.serialized = &prepared->serialized;
        if (may_follow) {
            options.will_follow = [](int code, const HTTPHeaders& headers) {
                return is_redirect_code(code) && headers.contains("Location");
            };
        }
        HTTPResponse response;
        co_await self->fetch_hop(*current, url, options, prepared ? &prepared->pool_key : nullptr, deadline,
                                 times, response);
        const bool redirect = current->follow_redirects && is_redirect_code(response.code) &&
                              response.headers.contains("Location");

        auto finish = [&] {
            const TimePoint end = loop.time();
            response.request = current;
            response.request_time = end - dequeued;
            times.queue = dequeued - started;
            times.total = end - started;
            response.time_info = times;
        };
        if (redirect && may_follow) {
            URL next = resolve(url, *response.headers.get("Location"));
            auto next_request = redirect_request(*current, response.code, url, next);
            if (visited.empty()) visited.push_back(current->method + " " + url.to_string());
            std::string visit = next_request->method + " " + next.to_string();
            if (std::find(visited.begin(), visited.end(), visit) != visited.end()) {
                finish();
                const int code = response.code;
                throw RedirectError(code, std::make_shared<const HTTPResponse>(std::move(response)),
                                    "redirect loop: " + std::to_string(code) + " from " + url.to_string() +
                                        " back to " + next.to_string() + ", already visited");
            }
            visited.push_back(std::move(visit));
            own_url = std::move(next);
            url_of_hop = &*own_url;
            shared_url.reset();
            prepared.reset();  // made for the first url only
            current = std::move(next_request);
            ++redirects;
            continue;
        }
        finish();
        if (current->raise_error && (response.code >= 400 || redirect)) {
            const int code = response.code;
            std::string message;
            if (redirect) {
                message =
                    "too many redirects: more than max_redirects=" + std::to_string(current->max_redirects) +
                    ", the last " + std::to_string(code) + " from " + url.to_string() + " to " +
                    std::string(*response.headers.get("Location"));
            } else {
                message = "HTTP " + std::to_string(code) + ": " + response.reason + " (" + current->method +
                          " " + url.to_string() + ")";
            }
            auto shared = std::make_shared<const HTTPResponse>(std::move(response));
            if (redirect) throw RedirectError(code, std::move(shared), message);
            throw HTTPError(code, std::move(shared), message);
        }
        co_return response;
    }
}

}  // namespace detail

// ------------------------------------------------------------------------------------------ Client

Client::Client(IOLoop& loop, ClientOptions options)
    : core_(std::make_shared<detail::ClientCore>(loop, std::move(options))) {}

Client::~Client() {
    core_->close();
}

// fetch(url) and fetch(request) prepare a request for this one fetch: it is built once, in its final place
// (HTTPResponse::request shares it).
Task<HTTPResponse> Client::fetch(std::string url) {
    return detail::ClientCore::run(core_, prepare(std::move(url)));
}

Task<HTTPResponse> Client::fetch(std::shared_ptr<const HTTPRequest> request) {
    if (!request) throw RequestError("fetch of a null prepared request");
    return detail::ClientCore::run(core_, std::move(request));
}

std::shared_ptr<const HTTPRequest> Client::prepare(std::string url) const {
    auto request = std::make_shared<HTTPRequest>(core_->options_.defaults);
    request->url = std::move(url);
    return request;
}

std::shared_ptr<const HTTPRequest> Client::prepare(const HTTPRequest& request) const {
    auto shared = std::make_shared<HTTPRequest>(request);
    core_->apply_defaults(*shared);
    return shared;
}

Task<HTTPResponse> Client::fetch(const HTTPRequest& request) {
    return detail::ClientCore::run(core_, prepare(request));
}

#if !SQUALL_AWAIT_TEMPORARIES_BUG
Task<HTTPResponse> Client::fetch(HTTPRequest&& request) {
    auto shared = std::make_shared<HTTPRequest>(std::move(request));
    core_->apply_defaults(*shared);
    return detail::ClientCore::run(core_, std::move(shared));
}
#endif

void Client::close() {
    core_->close();
}

IOLoop& Client::loop() const noexcept {
    return core_->loop_;
}
std::size_t Client::active() const noexcept {
    return core_->active_;
}
std::size_t Client::queued() const noexcept {
    return core_->waiters_.size();
}
std::size_t Client::idle_connections() const noexcept {
    return core_->pool_.idle();
}
const ClientStats& Client::stats() const noexcept {
    return core_->stats_;
}

}  // namespace squall::http
