// HTTP2Connection: one fetch's handle on a shared Http2Session, in the shape the Client core expects
// (Connection, connection.hpp). Many handles share one session; each carries one exchange (one stream).
// The session is never pooled through ConnectionPool: Http2Sessions (registry.hpp) keeps it while it
// lives, so reusable() is false and close() leaves the session alone (an error of one stream must not
// end the others); the session closes itself on connection errors, GOAWAY and idle_timeout.
#pragma once

#include <memory>
#include <string>

#include "squall/httpclient/connection.hpp"
#include "squall/httpclient/http2/session.hpp"

namespace squall::http {

// One exchange on a shared HTTP/2 session (see the file comment).
class HTTP2Connection final : public Connection {
public:
    // A handle on `session`, which it keeps alive.
    explicit HTTP2Connection(std::shared_ptr<Http2Session> session) : session_(std::move(session)) {}

    const std::string& pool_key() const noexcept override { return session_->pool_key(); }
    std::uint64_t requests() const noexcept override { return session_->streams_opened(); }
    bool reusable() const noexcept override { return false; }
    bool closed() const noexcept override { return session_->closed(); }
    void close(std::exception_ptr) override {}

    Task<void> exchange(const HTTPRequest& request, const URL& url, const ExchangeOptions& options,
                        HTTPResponse& response) override {
        return session_->exchange(request, url, options, TimePoint::max(), response, &ticket_);
    }
    // Resets this exchange's stream only.
    void abort(std::exception_ptr reason) override { session_->abort(ticket_, std::move(reason)); }
    bool usable_after_idle(bool) override { return session_->can_open_stream(); }  // a stream fits now

    const std::shared_ptr<Http2Session>& session() const noexcept { return session_; }  // the shared session

private:
    std::shared_ptr<Http2Session> session_;
    Http2Session::Ticket ticket_{};
};

}  // namespace squall::http
