#include "squall/iostream/iostream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace squall {

// One pending read per stream: held for the whole of a read kind.
class IOStream::ReadGuard {
public:
    explicit ReadGuard(IOStream& s) : s_(s) {
        if (s_.reading_)
            throw UsageError("IOStream: a read is already pending on this stream (one at a time)");
        s_.reading_ = true;
    }
    ~ReadGuard() { s_.reading_ = false; }
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
    write_waiters_.clear();
    for (auto& w : waiters) w.second.set_exception(std::make_exception_ptr(closed_error("writing")));
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

Task<void> IOStream::fill() {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    if (tls_)
        co_await fill_tls();
    else
        co_await fill_plain();
}

Task<void> IOStream::fill_plain() {
    for (;;) {
        if (closed_) throw_closed("reading");
        std::size_t room = options_.max_buffer_size - std::min(options_.max_buffer_size, read_buffer_.size());
        if (room == 0) fail_buffer_full();
        std::size_t want = std::min(options_.read_chunk_size, room);
        auto span = read_buffer_.prepare(want);
        IoAwaitable op = loop_.recv(fd_, span.data(), want);
        read_op_ = &op.op;
        int n = co_await op;
        read_op_ = nullptr;
        if (n > 0) {
            read_buffer_.commit(static_cast<std::size_t>(n));
            bytes_read_ += static_cast<std::uint64_t>(n);
            co_return;
        }
        if (n == 0) {
            on_eof();
            throw_closed("reading");
        }
        if (n == -EINTR || n == -EAGAIN) continue;
        if (!closed_) on_error(-n, "recv");
        throw_closed("reading");
    }
}

Task<void> IOStream::fill_tls() {
    for (;;) {
        if (closed_) throw_closed("reading");
        std::size_t room = options_.max_buffer_size - std::min(options_.max_buffer_size, read_buffer_.size());
        if (room == 0) fail_buffer_full();
        std::size_t got = 0;
        try {
            got = tls_->read_plaintext(read_buffer_, room);
        } catch (const TlsError&) {
            close(std::current_exception());
            throw_closed("reading");
        }
        if (!tls_->pending_ciphertext().empty()) {  // post-handshake records for the peer
            write_queue_.append(tls_->pending_ciphertext());
            tls_->consume_ciphertext(tls_->pending_ciphertext().size());
            schedule_flush();
        }
        if (got > 0) {
            bytes_read_ += got;
            co_return;
        }
        if (tls_->peer_closed() || eof_) {
            on_eof();
            throw_closed("reading");
        }
        co_await recv_ciphertext("reading");
    }
}

Task<std::string> IOStream::read_until(std::string delimiter, std::size_t max_bytes) {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    DelimiterSearch search(std::move(delimiter));
    for (;;) {
        auto m = search.search(read_buffer_.view());
        if (m && (max_bytes == 0 || m->second <= max_bytes)) co_return read_buffer_.take(m->second);
        if (max_bytes && (m || read_buffer_.size() >= max_bytes)) {
            auto msg = "read_until: delimiter not found within max_bytes (" + std::to_string(max_bytes) + ")";
            close(std::make_exception_ptr(UnsatisfiableReadError(msg)));
            throw UnsatisfiableReadError(msg);
        }
        {
            if (tls_)
                co_await fill_tls();
            else
                co_await fill_plain();
        }
    }
}

Task<std::string> IOStream::read_until_regex(std::string_view pattern, std::size_t max_bytes) {
    return read_until_regex(std::make_shared<const StreamRegex>(pattern), max_bytes);
}

Task<std::string> IOStream::read_until_regex(std::shared_ptr<const StreamRegex> regex,
                                             std::size_t max_bytes) {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    StreamingSearch search(std::move(regex));
    for (;;) {
        auto m = search.search(read_buffer_.view());
        if (m && (max_bytes == 0 || m->second <= max_bytes)) co_return read_buffer_.take(m->second);
        if (max_bytes && (m || read_buffer_.size() >= max_bytes)) {
            auto msg =
                "read_until_regex: pattern not matched within max_bytes (" + std::to_string(max_bytes) + ")";
            close(std::make_exception_ptr(UnsatisfiableReadError(msg)));
            throw UnsatisfiableReadError(msg);
        }
        {
            if (tls_)
                co_await fill_tls();
            else
                co_await fill_plain();
        }
    }
}

Task<std::string> IOStream::read_bytes(std::size_t n, bool partial) {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    if (n == 0) co_return std::string();
    if (partial) {
        if (read_buffer_.empty()) {
            if (tls_)
                co_await fill_tls();
            else
                co_await fill_plain();
        }
        co_return read_buffer_.take(std::min(n, read_buffer_.size()));
    }
    if (read_buffer_.size() >= n) co_return read_buffer_.take(n);
    if (n > options_.max_buffer_size) fail_buffer_full();
    if (!tls_ && n - read_buffer_.size() >= options_.read_chunk_size) {
        // Bulk read: receive straight into the result, no pass through the buffer.
        std::string out;
        out.resize(n);
        std::size_t have = read_buffer_.size();
        if (have) std::memcpy(out.data(), read_buffer_.data(), have);  // data() is null when never used
        read_buffer_.consume(have);
        while (have < n) {
            if (closed_) {
                read_buffer_.append(std::string_view(out.data(), have));  // keep what arrived
                throw_closed("reading");
            }
            IoAwaitable op = loop_.recv(fd_, out.data() + have, n - have);
            read_op_ = &op.op;
            int r = co_await op;
            read_op_ = nullptr;
            if (r > 0) {
                have += static_cast<std::size_t>(r);
                bytes_read_ += static_cast<std::uint64_t>(r);
            } else if (r == 0) {
                read_buffer_.append(std::string_view(out.data(), have));
                on_eof();
                throw_closed("reading");
            } else if (r != -EINTR && r != -EAGAIN) {
                read_buffer_.append(std::string_view(out.data(), have));
                if (!closed_) on_error(-r, "recv");
                throw_closed("reading");
            }
        }
        co_return out;
    }
    while (read_buffer_.size() < n) {
        if (tls_)
            co_await fill_tls();
        else
            co_await fill_plain();
    }
    co_return read_buffer_.take(n);
}

Task<std::string> IOStream::read_until_close() {
    auto self = shared_from_this();
    ReadGuard guard(*this);
    for (;;) {
        if (closed_ && eof_ && !close_reason_) break;
        try {
            {
                if (tls_)
                    co_await fill_tls();
                else
                    co_await fill_plain();
            }
        } catch (const StreamClosedError&) {
            if (eof_ && !close_reason_) break;  // a clean end of stream is this read's success
            throw;
        }
    }
    co_return read_buffer_.take(read_buffer_.size());
}

// ---------------------------------------------------------------- writes

void IOStream::queue(std::string_view bytes) {
    if (options_.max_write_buffer_size && write_queue_.size() + bytes.size() > options_.max_write_buffer_size)
        throw StreamBufferFullError("IOStream: write buffer would exceed max_write_buffer_size (" +
                                    std::to_string(options_.max_write_buffer_size) + " bytes)");
    if (tls_) {
        tls_->write_plaintext(bytes);
        write_queue_.append(tls_->pending_ciphertext());
        tls_->consume_ciphertext(tls_->pending_ciphertext().size());
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

Future<void> IOStream::write(std::string_view bytes) {
    Promise<void> p;
    auto f = p.get_future();
    if (closed_) {
        p.set_exception(std::make_exception_ptr(closed_error("writing")));
        return f;
    }
    queue(bytes);
    write_waiters_.emplace_back(write_queue_.appended_total(), std::move(p));
    return f;
}

Future<void> IOStream::write(std::string&& bytes) {
    Promise<void> p;
    auto f = p.get_future();
    if (closed_) {
        p.set_exception(std::make_exception_ptr(closed_error("writing")));
        return f;
    }
    queue(std::move(bytes));
    write_waiters_.emplace_back(write_queue_.appended_total(), std::move(p));
    return f;
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
    while (!write_waiters_.empty() && write_waiters_.front().first <= written) {
        Promise<void> p = std::move(write_waiters_.front().second);
        write_waiters_.pop_front();
        p.set_value();  // may resume a writer inline, which may write or close
    }
}

void IOStream::start_send() {
    while (!closed_ && !send_in_flight_ && !write_queue_.empty()) {
        std::size_t n = write_queue_.gather(std::span<iovec>(iov_, std::size(iov_)));
        send_op_ = IoOp{};
        send_op_.kind = IoKind::sendmsg;
        send_op_.fd = fd_;
        send_op_.msg.msg_iov = iov_;
        send_op_.msg.msg_iovlen = n;
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
        return;
    }
    if (r < 0 && r != -EINTR && r != -EAGAIN) {
        stream->on_error(-r, "send");
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
            write_queue_.append(tls_->pending_ciphertext());
            tls_->consume_ciphertext(tls_->pending_ciphertext().size());
            schedule_flush();
        }
        try {
            co_await flush();
        } catch (const StreamClosedError&) {
        }
    }
    close();
}

// ---------------------------------------------------------------- TLS

// One recv of ciphertext into the engine. EOF is fed to the engine (which then reports a clean close or
// a truncation); socket errors close the stream.
Task<void> IOStream::recv_ciphertext(const char* doing) {
    auto span = tls_->prepare_ciphertext(options_.read_chunk_size);
    IoAwaitable op = loop_.recv(fd_, span.data(), span.size());
    read_op_ = &op.op;
    int n = co_await op;
    read_op_ = nullptr;
    if (n > 0) {
        tls_->commit_ciphertext(static_cast<std::size_t>(n));
    } else if (n == 0) {
        eof_ = true;
        tls_->feed_eof();  // the next read_plaintext or handshake step throws if close_notify never came
    } else if (n != -EINTR && n != -EAGAIN) {
        if (!closed_) on_error(-n, "recv");
        throw_closed(doing);
    }
}

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
            if (!tls_->pending_ciphertext().empty()) {  // our alert, best effort
                write_queue_.append(tls_->pending_ciphertext());
                tls_->consume_ciphertext(tls_->pending_ciphertext().size());
                start_send();
            }
            close(reason);
            std::rethrow_exception(reason);
        }
        if (!tls_->pending_ciphertext().empty()) {
            write_queue_.append(tls_->pending_ciphertext());
            tls_->consume_ciphertext(tls_->pending_ciphertext().size());
            schedule_flush();
            co_await flush();
        }
        if (st == TlsEngine::Status::done) co_return;
        if (st == TlsEngine::Status::want_write) continue;
        if (closed_) throw_closed("TLS handshake");
        co_await recv_ciphertext("TLS handshake");
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
