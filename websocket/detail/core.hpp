// The shared state of one WebSocket connection: the handle (WebSocketConnection), the reader coroutine
// and the keepalive timer all point at it.
//
// States of the closing handshake:
//   open       messages both ways
//   closing    our close frame is sent (close(), or a protocol error): up to 16 more messages are kept, the
//              reader waits for the peer's close frame and then the TCP end, at most close_timeout
//   ended      the reader has finished: close_code/close_reason are final, the stream is closed
// A close frame from the peer while open is echoed, then as closing.
#pragma once

#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "squall/coro/future.hpp"
#include "squall/coro/task.hpp"
#include "squall/httpclient/response.hpp"
#include "squall/ioloop/ioloop.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/websocket/connection.hpp"
#include "squall/websocket/deflate.hpp"
#include "squall/websocket/frame.hpp"
#include "squall/websocket/utf8.hpp"

namespace squall::websocket::detail {

struct Core : std::enable_shared_from_this<Core> {
    Core(IOLoop& loop, std::shared_ptr<IOStream> stream, WebSocketOptions options);
    ~Core();

    IOLoop& loop;
    std::shared_ptr<IOStream> stream;
    WebSocketOptions options;
    http::HTTPResponse response;
    std::string subprotocol;
    std::optional<DeflateParams> deflate;
    std::unique_ptr<MessageDeflater> deflater;
    std::unique_ptr<MessageInflater> inflater;

    // Delivery: while open, at most one message waits for read_message() and the reader waits for room
    // meanwhile. Once our close frame is out the reader no longer waits (the closing handshake must
    // finish): up to kMaxPendingWhileClosing messages that arrive before the peer's close frame are kept.
    static constexpr std::size_t kMaxPendingWhileClosing = 16;
    std::deque<WebSocketMessage> ready;
    std::optional<Promise<std::optional<WebSocketMessage>>> read_waiter;
    std::optional<Promise<void>> room;

    bool close_sent = false;
    bool close_received = false;
    bool ended = false;
    std::exception_ptr end_error;    // why the connection ended, when not cleanly
    std::exception_ptr kill_reason;  // set by whoever closed the stream under the reader (timeouts)
    std::optional<int> code;
    std::string reason;
    Future<void> reader_done;

    // Keepalive.
    TimeoutHandle ping_timer{};
    bool ping_timer_set = false;
    TimePoint ping_sent_at{};
    bool ping_outstanding = false;
    TimePoint last_received{};
    TimeoutHandle close_timer{};
    bool close_timer_set = false;

    void start();
    void send_frame_now(Opcode opcode, std::string_view payload);  // buffered: errors end the reader
    void send_close(int code, std::string_view reason);
    void arm_close_timer(const char* waiting_for);
    void schedule_keepalive(Duration delay);
    void keepalive_tick();
    void deliver(WebSocketMessage&& msg);
    void finish();
};

Task<void> read_loop(std::shared_ptr<Core> core);

}  // namespace squall::websocket::detail
