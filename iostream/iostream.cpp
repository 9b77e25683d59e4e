#include "squall/iostream/iostream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <variant>

namespace squall {

// One pending read per stream: held for the whole of a read kind.
class IOStream::ReadGuard {
public:
    explicit ReadGuard(IOStream& s) : s_(s) {
        if (s_.reading_)
            throw UsageError("IOStream: a read is already pending on this stream (one at a time)");
        s_.reading_ = true;
        if (s_.idle_callback_) s_.unwatch_idle();  // a reader takes over from the idle watch
    }
    ~ReadGuard() {
        s_.reading_ = false;
        s_.release_read_chunk();  // an idle stream holds no read chunk
    }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

private:
    IOStream& s_;
};

std::shared_ptr<IOStream> IOStream::create(IOLoop& loop, int fd, IOStreamOptions options) {
    return std::make_shared<IOStream>(Key{}, loop, fd, options);
}

IOStream::IOStream(Key, IOLoop& loop, int fd, IOStreamOptions options)
    : loop_(loop), fd_(fd), options_(options) {
    if (options_.read_chunk_size == 0) options_.read_chunk_size = 64 * 1024;
}

IOStream::~IOStream() {
    // Nothing is in flight here: pending ops hold a reference to the stream.
    if (fd_ >= 0) loop_.close_fd(fd_);
    read_buffer_.clear();  // a closing stream's chunk serves the next connection
    release_read_chunk();
    write_queue_.release_spare();
    release_iovecs();
}

// The read chunk goes back to the pool when nothing is buffered and no recv may write into it; a buffer
// that grew past the chunk size is freed (the pool hands out chunk-sized blocks only).
void IOStream::release_read_chunk() noexcept {
    if (reading_ || read_op_ != nullptr || !read_buffer_.empty() || read_buffer_.capacity() == 0) return;
    if (read_buffer_.capacity() == options_.read_chunk_size)
        read_buffer_.give_storage();
    else
        read_buffer_.shrink(0);
}

void IOStream::release_buffers() {
    release_read_chunk();
    if (!send_in_flight_) {
        write_queue_.release_spare();
        release_iovecs();  // send_queued takes them again should it be running (a writer resumed inline)
    }
    if (tls_ && !reading_ && read_op_ == nullptr) tls_->release_buffers();
}

std::size_t IOStream::held_buffer_bytes() const noexcept {
    return read_buffer_.capacity() + write_queue_.held_capacity() + (tls_ ? tls_->held_buffer_bytes() : 0) +
           (iov_ ? kIovecs * sizeof(iovec) : 0);
}

StreamClosedError IOStream::closed_error(const char* doing) const {
    std::string msg = std::string("stream closed (while ") + doing + "): ";
    int code = 0;
    if (close_reason_) {
        try {
            std::rethrow_exception(close_reason_);
        } catch (const std::system_error& e) {
            msg += e.what();
            code = e.code().value();
        } catch (const std::exception& e) {
            msg += e.what();
        } catch (...) {
            msg += "unknown error";
        }
    } else if (eof_) {
        msg += "connection closed by peer";
    } else {
        msg += "closed locally";
    }
    return StreamClosedError(msg, close_reason_, code);
}

void IOStream::throw_closed(const char* doing) {
    throw closed_error(doing);
}

void IOStream::on_eof() {
    eof_ = true;
    close();
}

void IOStream::on_error(int err, const char* doing) {
    close(std::make_exception_ptr(std::system_error(err, std::generic_category(), doing)));
}

void IOStream::fail_buffer_full() {
    auto msg = "IOStream: read buffer reached max_buffer_size (" + std::to_string(options_.max_buffer_size) +
               " bytes) before the read could complete";
    close(std::make_exception_ptr(StreamBufferFullError(msg)));
    throw StreamBufferFullError(msg);
}

void IOStream::close(std::exception_ptr reason) {
    if (closed_) return;
    closed_ = true;
    if (reason) close_reason_ = std::move(reason);
    idle_callback_ = nullptr;  // close_fd below drops the loop's watch
    if (read_op_) loop_.cancel(*read_op_);
    if (send_in_flight_)
        loop_.cancel(send_op_);  // its buffers are freed when it completes
    else
        write_queue_.clear();
    if (fd_ >= 0) {
        loop_.close_fd(fd_);
        fd_ = -1;
    }
    auto waiters = std::move(write_waiters_);
    const std::size_t first = std::exchange(waiters_head_, 0);
    write_waiters_.clear();
    for (std::size_t i = first; i < waiters.size(); ++i)
        waiters[i].second.set_exception(std::make_exception_ptr(closed_error("writing")));
    if (closed_promise_) closed_promise_->set_value();
    // After pending reads have failed (they resume inline or from their cancelled op, both before the
    // next iteration's callbacks), as in Tornado.
    if (close_callback_) loop_.add_callback(std::move(close_callback_));
}

Future<void> IOStream::wait_closed() {
    if (closed_) return make_ready_future();
    if (!closed_promise_) closed_promise_.emplace();
    return closed_promise_->get_future();
}

// ---------------------------------------------------------------- reads
//
// As in Tornado's iostream.py: each read kind records what it wants in a ReadRequest and hands it to
// one driver (run_read), which alternates one find-position step per read kind (find_read_pos) with
// one fill step (FillStep). TLS and the backend stay inside the fill step. A read is one coroutine
// frame: the fill step is an awaitable, not a coroutine.

struct IOStream::ReadRequest {
    enum class Kind : std::uint8_t { delimiter, regex, bytes, bytes_partial, until_close };
    using Search = std::variant<std::monostate, DelimiterSearch, StreamingSearch>;
    ReadRequest(Kind kind, std::size_t n, Search search = {}) : kind(kind), n(n), search(std::move(search)) {}

    Kind kind;
    std::size_t n;  // bytes, bytes_partial: the count; delimiter, regex: max_bytes (0: no limit)
    Search search;
    // A big read_bytes on a plain stream receives straight into its result, not through the buffer.
    bool direct = false;
    std::string out;
    std::size_t have = 0;

    std::span<char> direct_space() noexcept {
        if (!direct) return {};
        return {out.data() + have, out.size() - have};
    }
};

// One recv: into the TLS engine (TLS), into `direct` (when given), or into the read buffer. Resumes
// with the bytes that landed in `direct`.
class IOStream::RecvStep {
public:
    RecvStep(IOStream& s, const char* doing, std::span<char> direct = {}) noexcept
        : s_(s), doing_(doing), direct_(direct) {}
    bool await_ready() {
        s_.prepare_recv(io_, direct_);
        return false;
    }
    bool await_suspend(std::coroutine_handle<> h) {
        s_.read_op_ = &io_.op;
        return io_.await_suspend(h);
    }
    std::size_t await_resume() {
        s_.read_op_ = nullptr;
        return s_.finish_recv(io_.op.result, doing_, !direct_.empty());
    }

protected:
    IOStream& s_;

private:
    const char* doing_;
    std::span<char> direct_;
    IoAwaitable io_{};
};

// The fill step: more plaintext in the read buffer (or bytes in `direct`), or nothing after an
// interrupted recv or the end of the stream (the driver looks again and takes another step). Records
// TLS has already received are decrypted without a recv. Throws StreamClosedError once the stream is
// closed and StreamBufferFullError when the buffer is at max_buffer_size.
class IOStream::FillStep : public RecvStep {
public:
    explicit FillStep(IOStream& s, std::span<char> direct = {}) noexcept : RecvStep(s, "reading", direct) {}
    bool await_ready() {
        ready_ = s_.fill_inline();
        return ready_ || RecvStep::await_ready();
    }
    std::size_t await_resume() { return ready_ ? 0 : RecvStep::await_resume(); }

private:
    bool ready_ = false;
};

// The part of a fill step that needs no recv; true when the step is complete without one.
bool IOStream::fill_inline() {
    if (closed_) throw_closed("reading");
    const std::size_t room = buffer_room();
    if (room == 0) fail_buffer_full();
    if (!tls_) return false;
    std::size_t got = 0;
    if (read_buffer_.capacity() == 0) read_buffer_.take_storage(options_.read_chunk_size);
    try {
        got = tls_->read_plaintext(read_buffer_, room);
    } catch (const TlsError&) {
        close(std::current_exception());
        throw_closed("reading");
    }
    if (move_tls_output()) schedule_flush();  // post-handshake records for the peer
    if (got > 0) {
        bytes_read_ += got;
        return true;
    }
    if (tls_->peer_closed() || eof_) {
        on_eof();
        return true;
    }
    return false;
}

void IOStream::prepare_recv(IoAwaitable& io, std::span<char> direct) {
    std::span<char> into = direct;
    if (tls_) {
        into = tls_->prepare_ciphertext(options_.read_chunk_size);
    } else if (direct.empty()) {
        const std::size_t want = std::min(options_.read_chunk_size, buffer_room());
        if (read_buffer_.capacity() == 0) read_buffer_.take_storage(options_.read_chunk_size);
        into = read_buffer_.prepare(want).first(want);
    }
    io.loop = &loop_;  // as IOLoop::recv builds it, in place in the awaiting frame
    io.op.kind = IoKind::recv;
    io.op.fd = fd_;
    io.op.buf = into.data();
    io.op.len = into.size();
}

// A recv's result. EOF closes a plain stream; on TLS it is fed to the engine, which then reports a
// clean close or a truncation. Socket errors close the stream and throw.
std::size_t IOStream::finish_recv(int n, const char* doing, bool direct) {
    if (n > 0) {
        const auto got = static_cast<std::size_t>(n);
        if (tls_) {
            tls_->commit_ciphertext(got);
            return 0;
        }
        bytes_read_ += got;
        if (direct) return got;
        read_buffer_.commit(got);
        return 0;
    }
    if (n == 0) {
        if (tls_) {
            eof_ = true;
            tls_->feed_eof();  // the next read_plaintext or handshake step throws if close_notify never came
        } else {
            on_eof();
        }
        return 0;
    }
    if (n == -EINTR || n == -EAGAIN) return 0;
    if (!closed_) on_error(-n, "recv");
    throw_closed(doing);
}

Task<void> IOStream::fill() {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    const std::size_t before = read_buffer_.size();
    while (read_buffer_.size() == before) co_await FillStep(*this);
}

Task<std::string> IOStream::read_until(std::string delimiter, std::size_t max_bytes) {
    return run_read({ReadRequest::Kind::delimiter, max_bytes, DelimiterSearch(std::move(delimiter))});
}

Task<std::string> IOStream::read_until_regex(std::string_view pattern, std::size_t max_bytes) {
    return read_until_regex(std::make_shared<const StreamRegex>(pattern), max_bytes);
}

Task<std::string> IOStream::read_until_regex(std::shared_ptr<const StreamRegex> regex,
                                             std::size_t max_bytes) {
    return run_read({ReadRequest::Kind::regex, max_bytes, StreamingSearch(std::move(regex))});
}

Task<std::string> IOStream::read_bytes(std::size_t n) {
    return run_read({ReadRequest::Kind::bytes, n});
}

Task<std::string> IOStream::read_bytes_partial(std::size_t n) {
    return run_read({ReadRequest::Kind::bytes_partial, n});
}

Task<std::string> IOStream::read_until_close() {
    return run_read({ReadRequest::Kind::until_close, 0});
}

Task<std::string> IOStream::run_read(ReadRequest request) {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    start_read(request);
    try {
        for (;;) {
            if (auto pos = find_read_pos(request)) {
                if (request.direct) co_return std::move(request.out);
                co_return read_buffer_.take(*pos);
            }
            request.have += co_await FillStep(*this, request.direct_space());
        }
    } catch (...) {
        if (request.direct)
            read_buffer_.append(std::string_view(request.out.data(), request.have));  // keep them
        throw;
    }
}

void IOStream::start_read(ReadRequest& r) {
    if (r.kind != ReadRequest::Kind::bytes || read_buffer_.size() >= r.n) return;
    if (r.n > options_.max_buffer_size) fail_buffer_full();
    if (tls_ || r.n - read_buffer_.size() < options_.read_chunk_size) return;
    r.direct = true;
    r.out.resize(r.n);
    r.have = read_buffer_.size();
    if (r.have) std::memcpy(r.out.data(), read_buffer_.data(), r.have);  // data() is null when never used
    read_buffer_.consume(r.have);
}

// Whether the request can complete now, and with how many bytes of the buffer.
std::optional<std::size_t> IOStream::find_read_pos(ReadRequest& r) {
    using Kind = ReadRequest::Kind;
    switch (r.kind) {
        case Kind::delimiter:
            return match_within(std::get<DelimiterSearch>(r.search).search(read_buffer_.view()), r.n,
                                "read_until: delimiter not found");
        case Kind::regex:
            return match_within(std::get<StreamingSearch>(r.search).search(read_buffer_.view()), r.n,
                                "read_until_regex: pattern not matched");
        case Kind::bytes:
            if (r.direct) return r.have == r.n ? std::optional(r.n) : std::nullopt;
            if (read_buffer_.size() >= r.n) return r.n;
            return std::nullopt;
        case Kind::bytes_partial:
            if (r.n == 0 || !read_buffer_.empty()) return std::min(r.n, read_buffer_.size());
            return std::nullopt;
        case Kind::until_close:
            if (closed_ && eof_ && !close_reason_) return read_buffer_.size();  // a clean end is success
            return std::nullopt;
    }
    return std::nullopt;
}

// A delimiter or regex search's verdict under max_bytes: the end of the match, nothing yet, or an
// UnsatisfiableReadError (which closes the stream, as in Tornado).
std::optional<std::size_t> IOStream::match_within(std::optional<std::pair<std::size_t, std::size_t>> m,
                                                  std::size_t max_bytes, const char* failure) {
    if (m && (max_bytes == 0 || m->second <= max_bytes)) return m->second;
    if (max_bytes && (m || read_buffer_.size() >= max_bytes)) {
        auto msg = std::string(failure) + " within max_bytes (" + std::to_string(max_bytes) + ")";
        close(std::make_exception_ptr(UnsatisfiableReadError(msg)));
        throw UnsatisfiableReadError(msg);
    }
    return std::nullopt;
}

// ---------------------------------------------------------------- writes

// TLS records the engine produced (application data, handshake, alerts, close_notify) into the write
// queue; true if there were any. The caller decides when they leave.
bool IOStream::move_tls_output() {
    auto out = tls_->pending_ciphertext();
    if (out.empty()) return false;
    write_queue_.append(out);
    tls_->consume_ciphertext(out.size());
    return true;
}

void IOStream::queue(std::string_view bytes) {
    if (options_.max_write_buffer_size && write_queue_.size() + bytes.size() > options_.max_write_buffer_size)
        throw StreamBufferFullError("IOStream: write buffer would exceed max_write_buffer_size (" +
                                    std::to_string(options_.max_write_buffer_size) + " bytes)");
    if (tls_) {
        tls_->write_plaintext(bytes);
        move_tls_output();
    } else {
        write_queue_.append(bytes);
    }
    schedule_flush();
}

void IOStream::queue(std::string&& bytes) {
    if (tls_ || options_.max_write_buffer_size) return queue(std::string_view(bytes));
    write_queue_.append(std::move(bytes));
    schedule_flush();
}

void IOStream::write_buffered(std::string_view bytes) {
    if (closed_) throw_closed("writing");
    queue(bytes);
}

void IOStream::write_buffered(std::string&& bytes) {
    if (closed_) throw_closed("writing");
    queue(std::move(bytes));
}

template <class Bytes>
Future<void> IOStream::write_with_future(Bytes&& bytes) {
    Promise<void> p;
    auto f = p.get_future();
    if (closed_) {
        p.set_exception(std::make_exception_ptr(closed_error("writing")));
        return f;
    }
    queue(std::forward<Bytes>(bytes));
    write_waiters_.emplace_back(write_queue_.appended_total(), std::move(p));
    return f;
}

Future<void> IOStream::write(std::string_view bytes) {
    return write_with_future(bytes);
}

Future<void> IOStream::write(std::string&& bytes) {
    return write_with_future(std::move(bytes));
}

Future<void> IOStream::flush() {
    if (closed_) {
        Promise<void> p;
        p.set_exception(std::make_exception_ptr(closed_error("flushing")));
        return p.get_future();
    }
    if (write_queue_.empty()) return make_ready_future();
    Promise<void> p;
    auto f = p.get_future();
    write_waiters_.emplace_back(write_queue_.appended_total(), std::move(p));
    return f;
}

void IOStream::schedule_flush() {
    if (flush_scheduled_ || send_in_flight_) return;
    flush_scheduled_ = true;
    loop_.add_end_of_iteration([self = shared_from_this()] {
        self->flush_scheduled_ = false;
        self->start_send();
    });
}

void IOStream::resolve_writers() {
    const std::uint64_t written = write_queue_.written_total();
    while (waiters_head_ < write_waiters_.size() && write_waiters_[waiters_head_].first <= written) {
        Promise<void> p = std::move(write_waiters_[waiters_head_].second);
        ++waiters_head_;
        if (waiters_head_ == write_waiters_.size()) {
            write_waiters_.clear();  // keeps the capacity
            waiters_head_ = 0;
        } else if (waiters_head_ >= 32 && 2 * waiters_head_ >= write_waiters_.size()) {
            // Erasing the resolved prefix moves at most as many as were resolved: amortized O(1).
            write_waiters_.erase(write_waiters_.begin(),
                                 write_waiters_.begin() + static_cast<std::ptrdiff_t>(waiters_head_));
            waiters_head_ = 0;
        }
        p.set_value();  // may resume a writer inline, which may write or close
    }
}

void IOStream::start_send() {
    send_queued();
    if (!send_in_flight_) release_iovecs();
}

void IOStream::release_iovecs() noexcept {
    if (iov_ == nullptr) return;
    BlockPool::recycle(reinterpret_cast<char*>(std::exchange(iov_, nullptr)), kIovecs * sizeof(iovec));
}

void IOStream::send_queued() {
    while (!closed_ && !send_in_flight_ && !write_queue_.empty()) {
        send_op_ = IoOp{};
        send_op_.fd = fd_;
        if (write_queue_.chunk_count() == 1) {
            // One chunk (a request head, a frame, corked writes that fit one block): send(2), which costs
            // the kernel less than sendmsg and needs no iovec array.
            iovec one{};
            write_queue_.gather(std::span<iovec>(&one, 1));
            send_op_.kind = IoKind::send;
            send_op_.buf = one.iov_base;
            send_op_.len = one.iov_len;
        } else {
            if (iov_ == nullptr)
                iov_ = reinterpret_cast<iovec*>(BlockPool::local().take_read(kIovecs * sizeof(iovec)));
            send_op_.kind = IoKind::sendmsg;
            send_op_.msg.msg_iov = iov_;
            send_op_.msg.msg_iovlen = write_queue_.gather(std::span<iovec>(iov_, kIovecs));
        }
        send_op_.on_complete = &IOStream::on_send_complete;
        send_op_.user = this;
        send_in_flight_ = true;
        if (!loop_.start(send_op_)) {
            send_keepalive_ = shared_from_this();
            return;
        }
        send_in_flight_ = false;
        int r = send_op_.result;
        if (r < 0) {
            if (r == -EINTR || r == -EAGAIN) continue;
            on_error(-r, "send");
            return;
        }
        write_queue_.advance(static_cast<std::size_t>(r));
        resolve_writers();
    }
}

void IOStream::on_send_complete(IoOp* op) {
    auto* stream = static_cast<IOStream*>(op->user);
    auto self = std::move(stream->send_keepalive_);
    stream->send_in_flight_ = false;
    int r = op->result;
    if (stream->closed_) {
        stream->write_queue_.clear();
        stream->release_iovecs();
        return;
    }
    if (r < 0 && r != -EINTR && r != -EAGAIN) {
        stream->on_error(-r, "send");
        stream->release_iovecs();
        return;
    }
    if (r > 0) {
        stream->write_queue_.advance(static_cast<std::size_t>(r));
        stream->resolve_writers();
    }
    stream->start_send();
}

Task<void> IOStream::close_after_flush() {
    auto self = shared_from_this();
    if (!closed_) {
        if (tls_ && tls_->handshake_done()) {
            tls_->shutdown();
            if (move_tls_output()) schedule_flush();
        }
        try {
            co_await flush();
        } catch (const StreamClosedError&) {
            // closed while flushing: nothing is left to wait for, and close() below is a no-op
        }
    }
    close();
}

// ---------------------------------------------------------------- idle watch
//
// Plain streams read nothing while idle: any readiness is activity (bytes or EOF alike). TLS streams take
// in what arrived and decrypt it, since a record may carry no plaintext (a session ticket); those are
// absorbed and the watch is armed again.

bool IOStream::watch_idle(Callback on_activity) {
    if (reading_) throw UsageError("IOStream::watch_idle: a read is pending on this stream");
    if (!closed_ && fd_ >= 0 && read_buffer_.empty() && (!tls_ || tls_idle_quiet(false))) {
        idle_callback_ = std::move(on_activity);
        if (arm_idle_watch()) {
            release_buffers();  // parked: nothing buffered, nothing to read until the watch fires
            return true;
        }
        idle_callback_ = nullptr;
    }
    close();
    return false;
}

void IOStream::unwatch_idle() noexcept {
    if (!idle_callback_) return;
    idle_callback_ = nullptr;
    if (fd_ >= 0) loop_.unwatch_readable(fd_);
}

// The loop's watch; when the socket is readable already, TLS takes in what is there (a few rounds at
// most: a peer that keeps sending records counts as activity). False when the stream is active.
bool IOStream::arm_idle_watch() {
    for (int round = 0; round < 4; ++round) {
        if (loop_.watch_readable(fd_, [this] { on_idle_readable(); })) return true;
        if (!tls_ || !tls_idle_quiet(true)) return false;
    }
    return false;
}

// The loop's watch fired (the watch is dropped with the fd when the stream closes, so `this` is alive).
void IOStream::on_idle_readable() {
    auto self = shared_from_this();  // on_activity may release the stream's last other owner
    if (closed_ || !idle_callback_) return;
    if (tls_ && tls_idle_quiet(true) && arm_idle_watch()) {
        release_buffers();  // what the absorbed records needed
        return;
    }
    Callback on_activity = std::move(idle_callback_);
    idle_callback_ = nullptr;
    close();
    on_activity();
}

// TLS while idle: decrypts what the engine holds and, with `receive`, what the socket holds (non-blocking
// recvs, a few at most). True when only records without plaintext came and nothing is left to read;
// false on plaintext (left in the read buffer), close_notify, EOF, a TLS or socket error.
bool IOStream::tls_idle_quiet(bool receive) {
    for (int i = 0; i < 8; ++i) {
        std::size_t got = 0;
        if (read_buffer_.capacity() == 0) read_buffer_.take_storage(options_.read_chunk_size);
        try {
            got = tls_->read_plaintext(read_buffer_, buffer_room());
        } catch (const TlsError&) {
            close(std::current_exception());
            return false;
        }
        if (move_tls_output()) schedule_flush();  // post-handshake records for the peer
        if (got > 0) {
            bytes_read_ += got;
            return false;
        }
        if (tls_->peer_closed() || eof_) return false;
        if (!receive) return true;
        auto space = tls_->prepare_ciphertext(options_.read_chunk_size);
        ssize_t n = ::recv(fd_, space.data(), space.size(), MSG_DONTWAIT);
        if (n > 0) {
            tls_->commit_ciphertext(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return false;
}

// ---------------------------------------------------------------- TLS

Task<void> IOStream::start_tls(std::shared_ptr<const TlsContext> context, std::string server_hostname) {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    if (tls_) throw UsageError("start_tls: TLS is already active on this stream");
    if (closed_) throw_closed("starting TLS");
    if (!write_queue_.empty()) co_await flush();
    tls_ = std::make_unique<TlsEngine>(std::move(context), server_hostname);
    for (;;) {
        TlsEngine::Status st;
        try {
            st = tls_->handshake_step();
        } catch (const TlsError&) {
            auto reason = std::current_exception();
            if (move_tls_output()) start_send();  // our alert, best effort
            close(reason);
            std::rethrow_exception(reason);
        }
        if (move_tls_output()) {
            schedule_flush();
            co_await flush();
        }
        if (st == TlsEngine::Status::done) co_return;
        if (st == TlsEngine::Status::want_write) continue;
        if (closed_) throw_closed("TLS handshake");
        co_await RecvStep(*this, "TLS handshake");
    }
}

// ---------------------------------------------------------------- socket

void IOStream::set_nodelay(bool on) {
    if (fd_ < 0) return;
    int v = on ? 1 : 0;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}

sockaddr_storage IOStream::peer_address() const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd_ >= 0) ::getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    return ss;
}

sockaddr_storage IOStream::local_address() const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd_ >= 0) ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    return ss;
}

}  // namespace squall
