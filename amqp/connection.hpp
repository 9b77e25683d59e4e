// amqp::Connection: one AMQP 0-9-1 connection to a broker (py-amqp's Connection as a coroutine client).
//
//     auto conn = co_await squall::amqp::Connection::open(loop, "amqp://guest:guest@127.0.0.1:5672/");
//     auto ch = co_await conn->channel();
//     squall::amqp::QueueDeclareOptions durable{.durable = true};  // named: the co_await temporaries rule
//     co_await ch->queue_declare("jobs", durable);                 // (squall/coro/task.hpp)
//     ch->basic_publish("", "jobs", "hello");
//     co_await conn->close();
//
// open() runs the handshake (protocol header, start/start-ok with SASL PLAIN, AMQPLAIN or EXTERNAL,
// tune/tune-ok, open/open-ok) within options.connection_timeout (TimeoutError). Wrong credentials raise
// AccessRefusedError (ConnectionAccessRefusedError), an unknown vhost or one the user may not access
// NotAllowedError (530 NOT_ALLOWED), a peer that does not speak AMQP 0-9-1 a FrameError saying what it
// answered.
//
// Tune: for channel_max, frame_max and heartbeat the smaller non-zero value of client and server wins;
// heartbeat 0 from the client disables heartbeats (RabbitMQ's and py-amqp's rule).
//
// One reader coroutine per connection parses every complete frame already buffered before it reads
// again, dispatches by channel and assembles content (method + header + body frames; channels may
// interleave) with one copy of the body. Writes go to the stream with write_buffered: all the frames of
// one loop iteration leave in one sendmsg. Acks (nacks, rejects) made while the reader dispatches a batch
// of frames wait in the connection's buffer until the batch is handled; any other frame takes them along.
//
// Heartbeats: a timer every half interval sends a heartbeat frame when nothing was written since the
// previous tick (as RabbitMQ does itself), and declares the connection dead (HeartbeatTimeoutError to
// every pending operation, stream closed) when nothing arrived for two intervals.
//
// Blocked: connection.blocked / unblocked from the broker (resource alarms) set blocked(); Channel::publish
// waits while blocked (bounded by options.blocked_timeout), and on_blocked / on_unblocked callbacks run.
//
// Backpressure: writes are buffered, and a broker that stops reading (TCP flow control, RabbitMQ's credit
// flow, a frozen node) leaves them in the buffer. Channel::publish (and Producer::publish above it) waits
// while unsent_bytes() exceeds options.write_high_water (4 MiB by default), bounded by the publish's
// timeout, so a publisher slows to the broker's pace with bounded memory. basic_publish writes at once;
// awaiting its Confirmation waits the same way. A caller that publishes with basic_publish without awaiting
// each Confirmation awaits the flush itself:
//
//     for (auto& body : bodies) ch->basic_publish("", "jobs", body);
//     co_await conn->wait_writable();            // unsent bytes back under write_high_water
//     co_await conn->flush();                    // or: everything written so far handed to the kernel
//
// States:
//   handshake --open-ok--> open --close()--> closing --close-ok--> closed
//                            |---- server connection.close: reply close-ok ----> closed
//                            |---- transport error / heartbeat --> closed
//                            |---- malformed frame: connection.close sent --> closed (operations fail at
//                                  once; the socket closes on the broker's close-ok, or after
//                                  connection_timeout)
// On closed every channel's pending operations fail with the close reason (ConnectionClosedError with
// the broker's reply code and text, ConnectionLostError, HeartbeatTimeoutError, FrameError).
//
// Lifetime: the connection keeps itself alive (its reader holds it) until it is closed, and it keeps its
// open channels. Close channels you no longer need; close the connection when done.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "squall/amqp/field_table.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/amqp/spec.hpp"
#include "squall/amqp/url.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/tls.hpp"

namespace squall {
class PeriodicCallback;
}

namespace squall::amqp {

class Channel;

// How the client logs in (connection.start-ok's mechanism); EXTERNAL takes the TLS client certificate.
enum class SaslMechanism { automatic, plain, amqplain, external };

// Everything Connection::open needs; from_url fills it from an amqp:// or amqps:// URL.
struct ConnectionOptions {
    // Where to connect and as whom.
    std::string host = "localhost";
    uint16_t port = 5672;
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";  // the virtual host (connection.open)
    // automatic: PLAIN when the server offers it, else AMQPLAIN, else EXTERNAL.
    SaslMechanism mechanism = SaslMechanism::automatic;
    // Proposed to the broker; the smaller non-zero value wins. heartbeat 0 disables heartbeats.
    std::chrono::seconds heartbeat{60};
    uint32_t frame_max = 131072;
    uint16_t channel_max = 2047;
    // Covers connect, TLS and the whole handshake; also bounds close()'s wait for close-ok.
    std::chrono::milliseconds connection_timeout{10000};
    // How long Channel::publish waits while the broker has blocked the connection, or while more than
    // write_high_water bytes are unsent (nullopt: no bound; BasicPublishOptions::timeout overrides it per
    // call).
    std::optional<std::chrono::milliseconds> blocked_timeout{};
    // Publisher backpressure: while more than this many bytes wait in the connection's write buffer (the
    // broker does not read them: TCP flow control, RabbitMQ's credit flow, a frozen or slow broker),
    // Channel::publish waits before writing, and awaiting basic_publish's Confirmation waits, until the
    // buffer has drained. Memory stays within about this bound plus one message. 0: no limit.
    std::size_t write_high_water = 4 * 1024 * 1024;
    // Largest body accepted from the broker (its body-size field is 64-bit). RabbitMQ's own default limit
    // is 128 MiB (max_message_size); larger → FrameError.
    uint64_t max_body_size = 512ull * 1024 * 1024;
    // TLS (amqps): set to a client context. server_hostname defaults to host.
    std::shared_ptr<const TlsContext> tls = nullptr;
    std::string server_hostname{};
    // Shown in the management UI.
    std::string connection_name{};
    // Extra client properties (merged over squall's product/version/platform/capabilities).
    FieldTable client_properties{};
    std::string locale = "en_US";

    // From an amqp:// or amqps:// URL (amqps: a verifying TLS client context unless verify=none).
    static ConnectionOptions from_url(std::string_view url);
};

// One AMQP connection (see the top of this file); made by Connection::open.
class Connection : public std::enable_shared_from_this<Connection> {
public:
    // Connects, logs in and opens the vhost; throws the typed error of a refused login or vhost.
    static Task<std::shared_ptr<Connection>> open(IOLoop& loop, std::string_view url);
    static Task<std::shared_ptr<Connection>> open(IOLoop& loop, ConnectionOptions options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Opens a channel: the lowest free id when `id` is 0. UsageError when all channel_max ids are in use.
    Task<std::shared_ptr<Channel>> channel(uint16_t id = 0);

    // Graceful close: connection.close, wait for close-ok (bounded by connection_timeout), close the
    // socket. Pending operations fail with ConnectionClosedError(reply_code, reply_text). Idempotent.
    Task<void> close(uint16_t reply_code = spec::kReplySuccess, std::string reply_text = "Normal shutdown");

    bool is_open() const noexcept { return state_ == State::open; }      // connection.open-ok received
    bool is_closed() const noexcept { return state_ == State::closed; }  // see close_reason()
    // Why it closed (null while open; a ConnectionClosedError for a graceful close).
    std::exception_ptr close_reason() const noexcept { return close_reason_; }
    // Resolves (with a value, never an error) once the connection is closed and its reader has ended;
    // see close_reason().
    Future<void> wait_closed();

    // Negotiated values.
    uint16_t channel_max() const noexcept { return channel_max_; }
    uint32_t frame_max() const noexcept { return frame_max_; }
    std::chrono::seconds heartbeat() const noexcept { return heartbeat_; }
    // What the broker said about itself in connection.start.
    const FieldTable& server_properties() const noexcept { return server_properties_; }
    // The options it was opened with.
    const ConnectionOptions& options() const noexcept { return options_; }
    std::size_t channel_count() const noexcept { return channel_count_; }  // channels open now
    // Its loop and its transport.
    IOLoop& loop() const noexcept { return loop_; }
    const std::shared_ptr<IOStream>& stream() const noexcept { return stream_; }

    // Backpressure (see above): bytes written to the connection and not yet handed to the kernel, and
    // whether they exceed options.write_high_water. A compare, cheap enough for every publish.
    std::size_t unsent_bytes() const noexcept { return stream_->write_buffer_size(); }
    bool over_high_water() const noexcept {
        return options_.write_high_water != 0 && stream_->write_buffer_size() > options_.write_high_water;
    }
    // Resolves once unsent_bytes() is at most write_high_water (at once when it is). TimeoutError after
    // `timeout` (nullopt: options.blocked_timeout; both unset: no bound but the connection's life); the
    // connection's close reason when it closes meanwhile.
    Task<void> wait_writable(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    // Resolves once everything written so far is handed to the kernel (same timeout and errors).
    Task<void> flush(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    // connection.blocked / unblocked.
    bool blocked() const noexcept { return blocked_; }
    const std::string& blocked_reason() const noexcept { return blocked_reason_; }
    // Resolves when the connection is not blocked (at once when it is not), or when it closes.
    Future<void> wait_unblocked() { return unblocked_.wait(); }
    // Callbacks run on each connection.blocked (with its reason) and connection.unblocked.
    void on_blocked(std::function<void(const std::string& reason)> cb) {
        on_blocked_.push_back(std::move(cb));
    }
    void on_unblocked(std::function<void()> cb) { on_unblocked_.push_back(std::move(cb)); }

private:
    struct Key {};

public:
    // For open() only (Key is private).
    Connection(Key, IOLoop& loop, ConnectionOptions options, std::shared_ptr<IOStream> stream);

private:
    friend class Channel;
    enum class State { handshake, open, closing, closed };

    // --- handshake (connection_handshake.cpp)
    Task<void> handshake();
    // The next method on channel 0 (heartbeats skipped); a connection.close is turned into its error.
    Task<spec::Method> next_handshake_method(const char* waiting_for);
    std::string sasl_response(const std::string& mechanism) const;
    FieldTable client_properties() const;

    // --- frames in
    Task<void> read_loop();
    // Handles every complete frame at the start of `buffered`; returns the bytes they occupied.
    size_t dispatch_frames(std::string_view buffered);
    void handle_frame(const FrameView& frame);
    // Channel 0, heartbeats and every frame that is an error.
    void handle_other_frame(const FrameView& frame);
    void handle_connection_method(const FrameView& frame);
    // The open channel `id` (null for 0, an id past channel_max or a channel not open).
    Channel* open_channel(uint16_t id) const noexcept {
        return id != 0 && id < channels_.size() ? channels_[id].get() : nullptr;
    }
    [[noreturn]] void protocol_error(uint16_t reply_code, const std::string& what);

    // --- frames out
    // Appends the frames in out_ to the stream (moving large payloads, copying small ones).
    void flush_out();
    // After an ack, nack or reject: while the reader is dispatching a batch of frames, the frame waits in
    // out_ and leaves with the batch's other frames once the batch is handled (before the reader waits
    // again), so a consumer that acks every delivery costs one append per ack, not one stream write.
    // Any other frame flushes out_ at once, so frames keep their order.
    void flush_out_deferrable() {
        if (!dispatching_ || out_.size() >= kDeferredOutLimit) flush_out();
    }
    static constexpr size_t kDeferredOutLimit = 64 * 1024;
    template <class M>
    void send_method(uint16_t channel, const M& method) {
        check_writable();
        append_method_frame(out_, channel, method, frame_max_);
        flush_out();
    }
    void check_writable() const {
        if (state_ == State::closed || stream_->closed()) throw_not_writable();
    }
    [[noreturn]] void throw_not_writable() const;
    std::string& out_buffer() noexcept { return out_; }

    // --- heartbeats
    void start_heartbeats();
    void heartbeat_tick();

    // --- close
    // Ends the connection: closes the stream, fails every channel with `reason`, resolves wait_closed.
    // flush: write what is queued (a close-ok) before closing the socket.
    void finish(std::exception_ptr reason, bool flush);
    void on_server_close(const spec::ConnectionClose& close);
    void on_blocked_frame(std::string reason);
    void on_unblocked_frame();
    void release_channel(uint16_t id);
    void resolve_closed_waiters();
    void end_dispatch() noexcept;

    IOLoop& loop_;
    ConnectionOptions options_;
    std::shared_ptr<IOStream> stream_;
    State state_ = State::handshake;
    std::exception_ptr close_reason_;
    std::vector<Promise<void>> closed_waiters_;
    bool reader_running_ = false;
    bool flush_on_exit_ = false;

    uint16_t channel_max_ = 0;
    uint32_t frame_max_ = spec::kFrameMinSize;
    std::chrono::seconds heartbeat_{0};
    FieldTable server_properties_;

    std::vector<std::shared_ptr<Channel>> channels_;  // index = channel id; [0] unused
    // True while the reader hands a batch of buffered frames to channels. Channels released meanwhile
    // are kept in released_ until the batch ends: a channel may finish inside its own frame handler.
    bool dispatching_ = false;
    std::vector<std::shared_ptr<Channel>> released_;
    std::size_t channel_count_ = 0;
    uint16_t next_channel_hint_ = 1;

    std::string out_;
    uint16_t pending_error_code_ =
        spec::kFrameError;  // reply code for the connection.close after a FrameError
    const char* handshake_step_ = "the TCP connection";

    std::unique_ptr<PeriodicCallback> heartbeat_timer_;
    TimePoint last_read_{};
    std::uint64_t written_at_last_tick_ = 0;

    bool blocked_ = false;
    std::string blocked_reason_;
    Event unblocked_;
    std::vector<std::function<void(const std::string&)>> on_blocked_;
    std::vector<std::function<void()>> on_unblocked_;
};

}  // namespace squall::amqp
