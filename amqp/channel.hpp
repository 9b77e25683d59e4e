// amqp::Channel: one AMQP channel and every method RabbitMQ speaks on it (py-amqp's Channel).
//
//     auto ch = co_await conn->channel();
//     amqp::ExchangeDeclareOptions durable{.durable = true};     // named first: the co_await
//     co_await ch->exchange_declare("media", "direct", durable);  // temporaries rule (coro/task.hpp)
//     amqp::QueueDeclareOptions exclusive{.exclusive = true};
//     auto q = co_await ch->queue_declare("", exclusive);          // server-named
//     co_await ch->queue_bind(q.queue, "media", "video");
//     co_await ch->confirm_select();
//     co_await ch->basic_publish("media", "video", body, props);             // waits for the broker's ack
//     auto consumer = co_await ch->consume(q.queue);
//     amqp::Delivery m = co_await consumer->next();
//     ch->basic_ack(m.delivery_tag);
//
// Low-level methods follow the spec's defaults and take option structs with named fields. Synchronous
// methods are awaitable: concurrent calls on one channel are queued and sent one at a time (one
// outstanding synchronous request per channel, replies in order); `nowait` sends without waiting.
//
// Errors: a channel.close from the broker (404 NOT_FOUND, 403 ACCESS_REFUSED, 405 RESOURCE_LOCKED, 406
// PRECONDITION_FAILED, ...) closes only this channel: close-ok is sent, every pending operation fails
// with the typed error (NotFoundError, ChannelAccessRefusedError, ...), consumers end with it; the
// connection and the other channels go on. The channel is never reopened silently: open a new one.
// Operations on a closed channel throw its close reason.
//
// Publishing: basic_publish writes the frames at once and returns a Confirmation (see confirmation.hpp)
// that resolves on the broker's ack in confirm mode (MessageNackedError on nack; MessageReturnedError
// when a mandatory message came back unroutable) and at once otherwise. It does not wait while the
// broker has blocked the connection; publish() does (bounded by BasicPublishOptions::timeout, default
// ConnectionOptions::blocked_timeout). Backpressure: publish() waits before writing while the connection
// has more than ConnectionOptions::write_high_water bytes unsent; a basic_publish that leaves more than that
// unsent returns a Confirmation that first waits for them to drain (same bound; TimeoutError then means the
// message is queued on the connection but the broker is not reading). A message whose frame would exceed
// frame_max (e.g. its header table) is MessageTooLargeError, raised before anything is written.
// `immediate` is refused client-side (RabbitMQ does not implement it and would close the connection).
//
// Deliveries for an unknown or cancelled consumer tag are rejected with requeue (py-amqp's behaviour).
// basic.return goes to the return handler; without one it is logged, never thrown into an unrelated await.
//
// States: opening --open-ok--> open --close()--> closing --close-ok--> closed
//                                |-- broker channel.close (reply close-ok) --> closed
//                                |-- connection closed --> closed
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "squall/amqp/channel_consumer.hpp"
#include "squall/amqp/confirmation.hpp"
#include "squall/amqp/delivery.hpp"
#include "squall/amqp/detail/confirm_tracker.hpp"
#include "squall/amqp/field_table.hpp"
#include "squall/amqp/properties.hpp"
#include "squall/amqp/spec.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"

namespace squall::amqp {

class Connection;

// exchange.declare's flags and arguments (the spec's defaults).
struct ExchangeDeclareOptions {
    bool passive = false;      // only check that the exchange exists (404 NotFoundError if not)
    bool durable = false;      // survives a broker restart
    bool auto_delete = false;  // deleted when its last binding goes
    bool internal = false;     // no direct publishing: only exchange-to-exchange bindings feed it
    bool nowait = false;       // send without waiting for declare-ok
    FieldTable arguments{};    // e.g. alternate-exchange
};
// exchange.delete's flags.
struct ExchangeDeleteOptions {
    bool if_unused = false;  // only if it has no bindings (406 PreconditionFailedError otherwise)
    bool nowait = false;     // send without waiting for delete-ok
};
// The bind and unbind methods' arguments (a headers exchange matches on them) and nowait.
struct BindOptions {
    FieldTable arguments{};  // binding arguments, e.g. x-match for a headers exchange
    bool nowait = false;     // ignored by queue_unbind, which has no nowait in the spec
};
// queue.declare's flags and arguments (the spec's defaults).
struct QueueDeclareOptions {
    bool passive = false;      // only check that the queue exists (404 NotFoundError if not)
    bool durable = false;      // survives a broker restart
    bool exclusive = false;    // used by this connection only, and deleted when it closes
    bool auto_delete = false;  // deleted when its last consumer goes
    bool nowait = false;       // then the result holds only the name passed in
    FieldTable arguments{};    // e.g. x-queue-type, x-message-ttl, x-max-length
};
// queue.declare-ok: the queue's name (the broker's choice for a server-named queue) and its counts.
struct QueueDeclareResult {
    std::string queue;            // the queue's name
    uint32_t message_count = 0;   // messages ready in the queue
    uint32_t consumer_count = 0;  // consumers on the queue
};
// queue.delete's flags.
struct QueueDeleteOptions {
    bool if_unused = false;  // only if it has no consumers (406 PreconditionFailedError otherwise)
    bool if_empty = false;   // only if it has no messages (406 PreconditionFailedError otherwise)
    bool nowait = false;     // send without waiting for delete-ok
};
// basic.qos: how many unacknowledged deliveries the broker sends before waiting for acks.
struct QosOptions {
    uint32_t prefetch_size = 0;   // bytes; 0: no limit (RabbitMQ supports only 0)
    uint16_t prefetch_count = 0;  // messages; 0: no limit
    bool global = false;          // RabbitMQ: for the whole channel instead of each new consumer
};
// basic.consume's tag, flags, arguments, and the callback for a cancel by the broker.
struct ConsumeOptions {
    std::string consumer_tag{};  // empty: the broker picks one (or squall does, with nowait)
    bool no_local = false;       // not delivered messages this connection published (RabbitMQ ignores it)
    bool no_ack = false;         // deliveries count as acknowledged when sent: no basic_ack
    bool exclusive = false;      // the only consumer of the queue (403 if it has others)
    bool nowait = false;         // send without waiting for consume-ok
    FieldTable arguments{};      // e.g. x-priority
    // Called when the broker cancels the consumer (basic.cancel, e.g. its queue was deleted).
    std::function<void(const std::string& consumer_tag)> on_cancel{};
};
// basic.publish's flags, and the bound on publish()'s waits.
struct BasicPublishOptions {
    bool mandatory = false;  // return the message (basic.return) when no queue gets it
    bool immediate = false;  // refused: UsageError
    // Bounds publish()'s waits while the connection is blocked or has more than write_high_water bytes
    // unsent (and the same wait when awaiting basic_publish's Confirmation); TimeoutError after it.
    // nullopt: ConnectionOptions::blocked_timeout.
    std::optional<std::chrono::milliseconds> timeout{};
};
// basic.nack's flags.
struct NackOptions {
    bool multiple = false;  // every unacknowledged delivery up to this tag
    bool requeue = true;    // back into the queue; false: dropped or dead-lettered
};

// One channel of a Connection (see the top of this file); made by Connection::channel().
class Channel : public std::enable_shared_from_this<Channel> {
public:
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    uint16_t id() const noexcept { return id_; }                     // the channel number on its connection
    bool is_open() const noexcept { return state_ == State::open; }  // open-ok received, not closing
    bool is_closed() const noexcept { return state_ == State::closed; }  // see close_reason()
    // Why the channel closed (null while open).
    std::exception_ptr close_reason() const noexcept { return close_reason_; }
    // Resolves (with a value, never an error) once the channel is closed; see close_reason().
    Future<void> wait_closed();
    Connection& connection() const noexcept { return *conn_; }
    const std::shared_ptr<Connection>& connection_ptr() const noexcept { return conn_; }

    // --- channel class
    Task<void> close(uint16_t reply_code = spec::kReplySuccess, std::string reply_text = "Normal shutdown");
    // channel.flow; returns the broker's `active`. (RabbitMQ refuses active=false with 540.)
    Task<bool> flow(bool active);

    // --- exchange class
    // Option structs that own heap memory (a FieldTable, strings, a callback) are never defaulted parameters:
    // the shorter overloads stand for the defaults (the co_await temporaries rule, squall/coro/task.hpp).
    Task<void> exchange_declare(std::string exchange, std::string type) {
        return exchange_declare(std::move(exchange), std::move(type), ExchangeDeclareOptions());
    }
    Task<void> exchange_declare(std::string exchange, std::string type, ExchangeDeclareOptions options);
    Task<void> exchange_delete(std::string exchange, ExchangeDeleteOptions options = {});
    Task<void> exchange_bind(std::string destination, std::string source, std::string routing_key = {}) {
        return exchange_bind(std::move(destination), std::move(source), std::move(routing_key),
                             BindOptions());
    }
    Task<void> exchange_bind(std::string destination, std::string source, std::string routing_key,
                             BindOptions options);
    Task<void> exchange_unbind(std::string destination, std::string source, std::string routing_key = {}) {
        return exchange_unbind(std::move(destination), std::move(source), std::move(routing_key),
                               BindOptions());
    }
    Task<void> exchange_unbind(std::string destination, std::string source, std::string routing_key,
                               BindOptions options);

    // --- queue class
    // An empty name asks the broker to name the queue (returned in the result).
    Task<QueueDeclareResult> queue_declare(std::string queue = {}) {
        return queue_declare(std::move(queue), QueueDeclareOptions());
    }
    Task<QueueDeclareResult> queue_declare(std::string queue, QueueDeclareOptions options);
    Task<void> queue_bind(std::string queue, std::string exchange, std::string routing_key = {}) {
        return queue_bind(std::move(queue), std::move(exchange), std::move(routing_key), BindOptions());
    }
    Task<void> queue_bind(std::string queue, std::string exchange, std::string routing_key,
                          BindOptions options);
    Task<void> queue_unbind(std::string queue, std::string exchange, std::string routing_key = {}) {
        return queue_unbind(std::move(queue), std::move(exchange), std::move(routing_key), BindOptions());
    }
    Task<void> queue_unbind(std::string queue, std::string exchange, std::string routing_key,
                            BindOptions options);
    // Returns the number of messages purged (0 with nowait).
    Task<uint32_t> queue_purge(std::string queue, bool nowait = false);
    // Returns the number of messages deleted with the queue (0 with nowait).
    Task<uint32_t> queue_delete(std::string queue, QueueDeleteOptions options = {});

    // --- basic class
    Task<void> basic_qos(QosOptions options);
    // Deliveries go to `on_message`; returns the consumer (its tag is the broker's or options').
    Task<std::shared_ptr<ChannelConsumer>> basic_consume(std::string queue, DeliveryCallback on_message);
    Task<std::shared_ptr<ChannelConsumer>> basic_consume(std::string queue, DeliveryCallback on_message,
                                                         ConsumeOptions options);
    // Deliveries are buffered for consumer->next().
    Task<std::shared_ptr<ChannelConsumer>> consume(std::string queue);
    Task<std::shared_ptr<ChannelConsumer>> consume(std::string queue, ConsumeOptions options);
    // basic.cancel: ends the consumer (its next() then fails with ConsumerCancelledError).
    Task<void> basic_cancel(std::string consumer_tag, bool nowait = false);

    // basic.publish: writes the frames now (no wait for backpressure: see the top of this file) and returns
    // the Confirmation, which resolves on the broker's ack in confirm mode.
    Confirmation basic_publish(std::string_view exchange, std::string_view routing_key,
                               std::string_view body) {
        return basic_publish(exchange, routing_key, body, no_properties());
    }
    Confirmation basic_publish(std::string_view exchange, std::string_view routing_key, std::string_view body,
                               const BasicProperties& properties, BasicPublishOptions options = {});
    // Waits while the connection is blocked (TimeoutError after ConnectionOptions::blocked_timeout), then
    // basic_publish and await its Confirmation.
    Task<void> publish(std::string exchange, std::string routing_key, std::string body) {
        return publish(std::move(exchange), std::move(routing_key), std::move(body), BasicProperties(),
                       BasicPublishOptions());
    }
    Task<void> publish(std::string exchange, std::string routing_key, std::string body,
                       BasicProperties properties, BasicPublishOptions options = {});
    // Handler of basic.return (mandatory messages the broker could not route).
    void set_return_handler(std::function<void(ReturnedMessage&&)> handler) {
        on_return_ = std::move(handler);
    }

    // nullopt for basic.get-empty.
    Task<std::optional<Delivery>> basic_get(std::string queue, bool no_ack = false);
    // ack, nack and reject are written without waiting. Called from a delivery callback (or anything the
    // connection's reader runs), they leave together once the reader has handled every frame it has
    // buffered, before it waits for more: one write for a batch of deliveries. Anything else written
    // meanwhile on the connection takes them along first, so the order on the wire is the call order.
    void basic_ack(uint64_t delivery_tag, bool multiple = false);
    void basic_nack(uint64_t delivery_tag, NackOptions options = {});
    void basic_reject(uint64_t delivery_tag, bool requeue);
    Task<void> basic_recover(bool requeue);

    // --- confirm and tx classes
    Task<void> confirm_select(bool nowait = false);
    bool confirm_mode() const noexcept { return confirm_mode_; }
    // Published messages not yet acked or nacked.
    std::size_t unconfirmed() const noexcept { return confirms_.unconfirmed(); }
    Task<void> tx_select();
    Task<void> tx_commit();
    Task<void> tx_rollback();

private:
    static const BasicProperties& no_properties() noexcept {
        static const BasicProperties none{};
        return none;
    }
    friend class Connection;
    friend class ChannelConsumer;
    struct Key {};

public:
    // For Connection::channel() only (Key is private): open a channel with conn->channel().
    Channel(Key, std::shared_ptr<Connection> connection, uint16_t id);

private:
    enum class State { opening, open, closing, closed };

    // A synchronous reply: the method, and the message for basic.get-ok.
    struct Reply {
        spec::Method method;
        std::optional<Delivery> message;
    };
    struct PendingReply {
        spec::MethodId expected[2];
        Promise<Reply> promise;
    };
    // Content being assembled: the method that announced it, then header, then body frames. The message
    // is decoded in place into a recycled Delivery (see take_message).
    // Kept in place between messages (receiving_ says whether one is being assembled).
    struct Incoming {
        enum class Kind { deliver, get_ok, ret } kind = Kind::deliver;
        std::unique_ptr<Delivery> message;
        uint16_t reply_code = 0;  // basic.return
        std::string reply_text;   // basic.return
        uint64_t body_size = 0;
        bool have_header = false;
    };

    Task<void> open();
    // Sends `method` after the previous synchronous request was answered and waits for a reply whose id
    // is r1 or r2 (none with nowait).
    struct NoHook {
        void operator()() const {}
    };
    // before_send runs just before the method is written (after the wait for earlier requests).
    template <class M, class Hook = NoHook>
    Task<Reply> call(M method, spec::MethodId r1, spec::MethodId r2 = {}, bool nowait = false,
                     Hook before_send = {});
    template <class M>
    void send(const M& method);  // amqp/detail/channel_send.hpp
    // basic_publish without the backpressure wait: writes the frames, counts the confirm.
    Confirmation write_publish(std::string_view exchange, std::string_view routing_key, std::string_view body,
                               const BasicProperties& properties, const BasicPublishOptions& options);
    void throw_if_unusable() const;
    [[noreturn]] void throw_unusable() const;
    Task<std::shared_ptr<ChannelConsumer>> start_consumer(std::string queue, DeliveryCallback callback,
                                                          ConsumeOptions options);

    // --- from the connection's reader
    bool expecting_content() const noexcept { return receiving_; }
    void handle_method(spec::MethodId id, std::string_view payload);
    // basic.deliver, decoded straight into a recycled Delivery.
    void handle_deliver(std::string_view payload);
    void begin_content(Incoming::Kind kind, std::unique_ptr<Delivery> message);
    void handle_header(std::string_view payload);
    void handle_body(std::string_view payload);
    void complete_content();
    // A cleared Delivery for the next content: the spare one when there is one. recycle_message keeps a
    // Delivery its receiver is done with (and the storage of the strings the receiver left in it) for the
    // next one, so a callback that only reads its message costs no allocation per delivery.
    std::unique_ptr<Delivery> take_message();
    void recycle_message(std::unique_ptr<Delivery> message) noexcept;
    // The methods handle_method passes on, decoded: each checks the channel's state and acts on it.
    void on_get_ok(spec::MethodId id, spec::BasicGetOk&& get_ok);
    void on_return_method(spec::BasicReturn&& ret);  // the content (the returned message) follows
    void on_broker_cancel(const spec::BasicCancel& cancel);
    void on_close_ok();
    // A reply to the outstanding synchronous request (a protocol error when none expects it).
    void on_reply(spec::MethodId id, spec::Method&& reply);
    void on_server_close(const spec::ChannelClose& close);
    void on_deliver(std::unique_ptr<Delivery> message);
    void on_return(ReturnedMessage&& returned);
    void on_confirm(uint64_t delivery_tag, bool multiple, bool ack);
    // Ends the channel: fails everything pending with `reason`, releases the id.
    void finish(std::exception_ptr reason);

    std::shared_ptr<Connection> conn_;
    uint16_t id_;
    State state_ = State::opening;
    std::exception_ptr close_reason_;
    std::exception_ptr closing_reason_;  // set by close(): the reason once close-ok arrives
    std::vector<Promise<void>> closed_waiters_;

    Semaphore rpc_lock_{1};
    std::optional<PendingReply> pending_;
    std::optional<Promise<void>> close_ok_;

    Incoming incoming_;
    bool receiving_ = false;
    std::unique_ptr<Delivery> spare_message_;
    std::unordered_map<std::string, std::shared_ptr<ChannelConsumer>> consumers_;
    // The consumer of the previous delivery (deliveries mostly come in runs for one consumer), so the
    // map is searched only when the tag changes. Reset whenever consumers_ loses an entry.
    std::shared_ptr<ChannelConsumer> last_consumer_;
    std::function<void(ReturnedMessage&&)> on_return_;
    uint64_t next_consumer_tag_ = 1;

    bool confirm_mode_ = false;
    detail::ConfirmTracker confirms_;  // publisher confirms (confirm mode)
};

}  // namespace squall::amqp
