// IOStream: a buffered non-blocking TCP stream (Tornado's IOStream), optionally TLS, on either loop
// backend.
//
//     auto stream = co_await squall::TCPClient(loop).connect("127.0.0.1", 8080);
//     co_await stream->write("GET / HTTP/1.0\r\n\r\n");
//     std::string head = co_await stream->read_until("\r\n\r\n", 64 * 1024);
//     std::string body = co_await stream->read_until_close();
//
// Reads: one pending read at a time (a second is a UsageError); each kind completes from the buffer
// without a syscall when enough is there; read_until / read_until_regex include the delimiter. Data that
// trickles in is never rescanned from the start. Limits: max_buffer_size (default 100 MiB) bounds the
// read buffer (StreamBufferFullError), max_bytes bounds a delimiter search (UnsatisfiableReadError);
// both close the stream, as in Tornado.
// Writes: write() queues and returns a Future resolved once the bytes are handed to the kernel. All
// writes of one loop iteration leave together in one sendmsg (corked until the iteration ends).
// Reading and writing from two coroutines at once is fine.
// Idle watch: a stream with no read pending (a pooled keep-alive connection) can be watched instead of
// read: watch_idle reports bytes, EOF or an error at once, without a read op (IOLoop::watch_readable).
// Close: a pending read that the buffered bytes can satisfy completes first; read_until_close resolves
// with what arrived; other waiters then fail with StreamClosedError carrying the cause; then the close
// callbacks run.
// Lifetime: streams are shared (std::shared_ptr); pending operations keep their stream alive.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "squall/coro/function.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/block_pool.hpp"
#include "squall/iostream/buffer.hpp"
#include "squall/iostream/errors.hpp"
#include "squall/iostream/regex.hpp"
#include "squall/iostream/tls.hpp"
#include "squall/iostream/write_queue.hpp"

namespace squall {

// Limits of one stream.
//
// Memory: the read buffer is one read_chunk_size block while data flows. A stream gives it back to its
// thread's BlockPool (iostream/block_pool.hpp; one loop per thread, so per loop) whenever the buffer is
// empty and no read is pending, and takes one from there (or allocates) when the next recv needs it, so
// an idle stream holds no read chunk and a busy one allocates none per read. watch_idle (a keep-alive
// pool parking a connection) also gives back the spare write block (WriteQueue::kBlockSize) and, with TLS,
// the engine's empty ciphertext buffers and OpenSSL's record buffers (release_buffers()). A buffer that
// grew past read_chunk_size (a large head, a partial big read) is freed instead of pooled. The iovec
// array of sendmsg is a pool chunk too, held only while sends are queued or in flight.
struct IOStreamOptions {
    std::size_t max_buffer_size = 100 * 1024 * 1024;  // read buffer bound; a read needing more fails
                                                      // with StreamBufferFullError
    std::size_t read_chunk_size = 64 * 1024;          // bytes asked of each recv (the read chunk's size)
    std::size_t max_write_buffer_size = 0;  // 0: unlimited; else write() fails with StreamBufferFullError
};

// A non-blocking TCP socket (optionally TLS) with Tornado's read kinds and a write queue. Owned by
// shared_ptr; one pending read at a time (a second raises UsageError); belongs to its loop's thread.
class IOStream : public std::enable_shared_from_this<IOStream> {
public:
    // Takes ownership of a connected non-blocking socket.
    static std::shared_ptr<IOStream> create(IOLoop& loop, int fd, IOStreamOptions options = {});
    ~IOStream();
    IOStream(const IOStream&) = delete;
    IOStream& operator=(const IOStream&) = delete;

    // The stream's loop, socket, options and state.
    IOLoop& loop() const noexcept { return loop_; }
    int fd() const noexcept { return fd_; }  // -1 once closed
    const IOStreamOptions& options() const noexcept { return options_; }
    bool closed() const noexcept { return closed_; }
    bool reading() const noexcept { return reading_; }               // a read is pending
    bool writing() const noexcept { return !write_queue_.empty(); }  // queued bytes are not all written
    // Bytes queued and not yet handed to the kernel (ciphertext with TLS): a publisher's backpressure.
    std::size_t write_buffer_size() const noexcept { return write_queue_.size(); }
    // After start_tls(): the engine (protocol version, cipher, ALPN); else null.
    bool is_tls() const noexcept { return tls_ != nullptr; }
    const TlsEngine* tls() const noexcept { return tls_.get(); }

    // --- reads
    // Up to and including the first `delimiter`. max_bytes (0: no limit) bounds the result.
    Task<std::string> read_until(std::string delimiter, std::size_t max_bytes = 0);
    // Up to and including the first match of `regex`.
    Task<std::string> read_until_regex(std::shared_ptr<const StreamRegex> regex, std::size_t max_bytes = 0);
    Task<std::string> read_until_regex(std::string_view pattern, std::size_t max_bytes = 0);
    // Exactly n bytes.
    Task<std::string> read_bytes(std::size_t n);
    // At least 1 and at most n bytes: what is buffered, or what the next recv brings (n == 0: none).
    Task<std::string> read_bytes_partial(std::size_t n);
    // Everything until the peer closes (bounded by max_buffer_size).
    Task<std::string> read_until_close();

    // Low-level read access for parsers that work on the buffer in place (HTTP, AMQP): fill() waits
    // until at least one more byte is buffered (throws StreamClosedError at EOF, StreamBufferFullError
    // when the buffer is at max_buffer_size). Counts as the one pending read while it waits.
    Task<void> fill();
    Buffer& read_buffer() noexcept { return read_buffer_; }  // consume() what was parsed

    // --- idle watch (a keep-alive pool's)
    // While no read is pending: runs on_activity once, on the loop, when plaintext arrives, the peer
    // closes or the stream fails; the stream is then closed (plaintext nobody asked for means it is out
    // of step). TLS records that carry no plaintext (session tickets) are absorbed and the watch goes on.
    // Returns false, with the stream closed and no callback, when that happened already. Starting a
    // read, unwatch_idle() or close() ends the watch. No syscall on epoll in steady state, one poll
    // request on io_uring (see IOLoop::watch_readable).
    bool watch_idle(Callback on_activity);
    void unwatch_idle() noexcept;
    bool watching_idle() const noexcept { return static_cast<bool>(idle_callback_); }

    // --- idle memory (see IOStreamOptions)
    // Gives back what an idle stream does not need: the read chunk (buffer empty, no read pending), the
    // spare write block (nothing queued) and, with TLS, the engine's empty buffers. watch_idle calls it.
    void release_buffers();
    // Bytes of buffer storage the stream holds now (read buffer, write blocks, TLS ciphertext buffers;
    // not OpenSSL's own): 0 for an idle stream after release_buffers().
    std::size_t held_buffer_bytes() const noexcept;

    // --- writes
    // Queues bytes; the Future resolves when they were handed to the kernel, or fails with
    // StreamClosedError.
    Future<void> write(std::string_view bytes);
    Future<void> write(std::string&& bytes);
    Future<void> write(const char* bytes) { return write(std::string_view(bytes)); }
    // Queues bytes without a Future (a write error surfaces on the next operation and the close reason).
    void write_buffered(std::string_view bytes);
    void write_buffered(std::string&& bytes);
    void write_buffered(const char* bytes) { write_buffered(std::string_view(bytes)); }
    // Resolves when everything queued so far is written.
    Future<void> flush();

    // --- TLS
    // Runs the TLS handshake on this stream (client or server per the context). Afterwards every read
    // and write is encrypted. Throws TlsError naming the reason on failure (and closes the stream).
    Task<void> start_tls(std::shared_ptr<const TlsContext> context, std::string server_hostname = {});

    // --- closing
    // Closes now; pending writes are dropped. `reason` becomes the cause carried by StreamClosedError.
    void close(std::exception_ptr reason = nullptr);
    // Waits for pending writes (bounded by the caller's own timeout), then closes.
    Task<void> close_after_flush();
    // cb runs on the loop's next iteration after the stream closes (once; replaces an earlier one).
    void set_close_callback(Callback cb) { close_callback_ = std::move(cb); }
    // Resolves when the stream closes.
    Future<void> wait_closed();
    // Why the stream closed (null while open or after a plain local close).
    std::exception_ptr close_reason() const noexcept { return close_reason_; }

    // --- socket options and addresses
    // TCP_NODELAY on or off (no-op once closed).
    void set_nodelay(bool on);
    // getpeername / getsockname; a zeroed address (AF_UNSPEC) once closed.
    sockaddr_storage peer_address() const;
    sockaddr_storage local_address() const;

    // Totals since creation: bytes read (plaintext) and bytes handed to the kernel (ciphertext with TLS).
    std::uint64_t bytes_read() const noexcept { return bytes_read_; }
    std::uint64_t bytes_written() const noexcept { return write_queue_.written_total(); }

private:
    struct Key {};

public:
    // For create() only (Key is private).
    IOStream(Key, IOLoop& loop, int fd, IOStreamOptions options);

private:
    class ReadGuard;
    struct ReadRequest;
    class RecvStep;
    class FillStep;
    Task<std::string> run_read(ReadRequest request);
    void start_read(ReadRequest& request);
    std::optional<std::size_t> find_read_pos(ReadRequest& request);
    std::optional<std::size_t> match_within(std::optional<std::pair<std::size_t, std::size_t>> match,
                                            std::size_t max_bytes, const char* failure);
    [[noreturn]] void throw_closed(const char* doing);
    StreamClosedError closed_error(const char* doing) const;
    void fail_buffer_full();
    std::size_t buffer_room() const noexcept {  // what the read buffer may still take
        return options_.max_buffer_size - std::min(options_.max_buffer_size, read_buffer_.size());
    }
    bool fill_inline();
    void prepare_recv(IoAwaitable& io, std::span<char> direct);
    std::size_t finish_recv(int n, const char* doing, bool direct);
    bool move_tls_output();
    template <class Bytes>
    Future<void> write_with_future(Bytes&& bytes);
    void queue(std::string_view bytes);
    void queue(std::string&& bytes);
    void schedule_flush();
    void start_send();
    void send_queued();
    void release_iovecs() noexcept;
    static void on_send_complete(IoOp* op);
    void resolve_writers();
    void on_eof();
    void on_error(int err, const char* doing);
    bool arm_idle_watch();
    void on_idle_readable();
    bool tls_idle_quiet(bool receive);
    void release_read_chunk() noexcept;

    IOLoop& loop_;
    int fd_;
    IOStreamOptions options_;
    Buffer read_buffer_;
    WriteQueue write_queue_;
    std::unique_ptr<TlsEngine> tls_;
    bool closed_ = false;
    bool reading_ = false;
    bool eof_ = false;
    bool flush_scheduled_ = false;
    bool send_in_flight_ = false;
    IoOp* read_op_ = nullptr;  // the recv in flight, to cancel on close
    IoOp send_op_;
    std::shared_ptr<IOStream> send_keepalive_;
    // sendmsg's iovecs, a BlockPool chunk held only while sends run (an idle stream holds none).
    static constexpr std::size_t kIovecs = 64;
    iovec* iov_ = nullptr;
    // write()/flush() futures by the appended_total() they wait for; live from waiters_head_ on. A vector
    // (not a deque, which allocates when constructed and again when moved from) so an idle stream holds
    // none.
    std::vector<std::pair<std::uint64_t, Promise<void>>> write_waiters_;
    std::size_t waiters_head_ = 0;
    std::exception_ptr close_reason_;
    Callback close_callback_;
    Callback idle_callback_;  // watch_idle's, while watching
    std::optional<Promise<void>> closed_promise_;
    std::uint64_t bytes_read_ = 0;
};

}  // namespace squall
