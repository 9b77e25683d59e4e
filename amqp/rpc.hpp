// amqp::RpcClient / RpcServer: request/reply over RabbitMQ, pika's classic RPC pattern.
//
//     // server: answers every request on "rpc_queue" with the handler's result
//     RpcHandler fib = [](const amqp::Delivery& req) -> Task<std::string> {
//         co_return std::to_string(fib_of(std::stoi(req.body)));
//     };
//     auto server = co_await amqp::RpcServer::start(server_channel, "rpc_queue", fib);
//
//     // client: publishes to "rpc_queue" and awaits the reply with the same correlation_id
//     auto client = co_await amqp::RpcClient::create(client_channel);
//     std::string answer = co_await client->call("rpc_queue", "30", std::chrono::seconds(5));
//
// Client. Replies come back through direct reply-to (the pseudo-queue amq.rabbitmq.reply-to; no queue is
// declared) by default, or through an exclusive, server-named callback queue (ReplyMode::callback_queue).
// Each call gets a fresh correlation_id; many calls may be in flight at once and replies may come back in
// any order. A call that times out fails with TimeoutError and forgets its correlation_id: a reply that
// arrives later is dropped (counted in late_replies()). Requests are published `mandatory`, so a request
// no queue receives fails at once with MessageReturnedError instead of timing out (the client installs
// the channel's return handler for that). When the channel closes, every pending call fails with its
// close reason. A server-side handler error comes back as RpcError.
//
// Server. Consumes `queue` (declared unless options.declare is false) with basic_qos(prefetch_count), runs
// the handler coroutine for each request (up to prefetch_count at once), publishes the reply to the
// request's reply_to with its correlation_id, and acks the request only after the reply was published
// (and, when the channel is in confirm mode, confirmed): a server that dies mid-request leaves it for
// redelivery. A handler that throws sends an error reply (header x-rpc-error = the error text) and the
// request is acked (redelivering a request that fails every time would loop). Requests without reply_to
// or correlation_id are rejected without requeue (dead-lettered if the queue says so) and counted.
//
// Both use their channel for themselves: open one channel per client and per server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "squall/amqp/channel.hpp"
#include "squall/amqp/delivery.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/coro/errors.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/locks.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::amqp {

// The header an RpcServer sets on an error reply.
inline constexpr const char* kRpcErrorHeader = "x-rpc-error";
// RabbitMQ's direct reply-to pseudo-queue.
inline constexpr const char* kDirectReplyTo = "amq.rabbitmq.reply-to";

// Where an RpcClient's replies come back.
enum class ReplyMode {
    direct_reply_to,  // amq.rabbitmq.reply-to: no queue, replies straight to this channel's consumer
    callback_queue,   // an exclusive, auto-delete, server-named queue per client
};

// RpcClient::create()'s options.
struct RpcClientOptions {
    ReplyMode reply_mode = ReplyMode::direct_reply_to;  // how replies come back
    std::string exchange{};  // where requests are published; "" is the default exchange
    bool mandatory = true;   // unroutable requests fail at once with MessageReturnedError
};

// The client side (see the top of this header); made by create(), used through a shared_ptr.
class RpcClient : public std::enable_shared_from_this<RpcClient> {
public:
    // Starts the reply consumer on `channel` (and declares the callback queue in that mode).
    static Task<std::shared_ptr<RpcClient>> create(std::shared_ptr<Channel> channel);
    static Task<std::shared_ptr<RpcClient>> create(std::shared_ptr<Channel> channel,
                                                   RpcClientOptions options);
    ~RpcClient();
    RpcClient(const RpcClient&) = delete;
    RpcClient& operator=(const RpcClient&) = delete;

    // Publishes `body` to routing_key and returns the reply's body. `properties` may carry anything but
    // correlation_id and reply_to, which the client sets. timeout 0 waits forever.
    Task<std::string> call(std::string routing_key, std::string body, Duration timeout);
    // The same, returning the whole reply message. (An overload rather than a defaulted `properties`: the
    // co_await temporaries rule, squall/coro/task.hpp.)
    Task<Delivery> call_message(std::string routing_key, std::string body, Duration timeout);
    Task<Delivery> call_message(std::string routing_key, std::string body, Duration timeout,
                                BasicProperties properties);

    // Calls awaiting their reply.
    std::size_t in_flight() const noexcept { return pending_.size(); }
    // Replies that matched no pending call (timed out, or unknown correlation_id); dropped.
    std::uint64_t late_replies() const noexcept { return late_replies_; }
    // The reply_to the requests carry.
    const std::string& reply_to() const noexcept { return reply_to_; }
    // The client's channel.
    const std::shared_ptr<Channel>& channel() const noexcept { return channel_; }

    // Cancels the reply consumer; pending calls fail with CancelledError. The channel stays open.
    Task<void> close();

private:
    struct Key {};

public:
    // For create() only (Key is private).
    RpcClient(Key, std::shared_ptr<Channel> channel, RpcClientOptions options);

private:
    struct Pending {
        Promise<Delivery> promise;
        TimeoutHandle timer{};
    };
    Task<void> start();
    void on_reply(Delivery&& reply);
    void on_timeout(const std::string& correlation_id, Duration timeout);
    void on_returned(ReturnedMessage&& returned);
    void fail_all(std::exception_ptr reason);

    std::shared_ptr<Channel> channel_;
    RpcClientOptions options_;
    IOLoop& loop_;
    std::shared_ptr<ChannelConsumer> consumer_;
    std::string reply_to_;
    std::string id_prefix_;  // random per client, so ids never collide across clients on one queue
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::string, Pending> pending_;
    std::uint64_t late_replies_ = 0;
    bool closed_ = false;
};

// Computes the reply body for one request; may throw (the client then gets RpcError).
using RpcHandler = std::function<Task<std::string>(const Delivery& request)>;

// RpcServer::start()'s options.
struct RpcServerOptions {
    std::uint16_t prefetch_count = 1;  // requests handled at once
    bool declare = true;               // queue_declare(queue) before consuming
    QueueDeclareOptions queue{};       // used when declare is true
};

// The server side (see the top of this header); made by start(), used through a shared_ptr.
class RpcServer : public std::enable_shared_from_this<RpcServer> {
public:
    // Declares `queue` (unless options.declare is false), sets the prefetch and starts consuming; the
    // server then answers requests until stop(). UsageError for an empty handler.
    static Task<std::shared_ptr<RpcServer>> start(std::shared_ptr<Channel> channel, std::string queue,
                                                  RpcHandler handler);
    static Task<std::shared_ptr<RpcServer>> start(std::shared_ptr<Channel> channel, std::string queue,
                                                  RpcHandler handler, RpcServerOptions options);
    RpcServer(const RpcServer&) = delete;
    RpcServer& operator=(const RpcServer&) = delete;

    const std::string& queue() const noexcept { return queue_; }       // the queue it consumes
    std::size_t in_progress() const noexcept { return in_progress_; }  // requests being handled now
    std::uint64_t handled() const noexcept { return handled_; }        // replies published (errors included)
    std::uint64_t failed() const noexcept { return failed_; }          // handler errors (error replies sent)
    std::uint64_t rejected() const noexcept { return rejected_; }  // requests without reply_to/correlation_id

    // Cancels the consumer and waits for the requests in progress to be answered and acked.
    Task<void> stop();

private:
    struct Key {};

public:
    // For start() only (Key is private).
    RpcServer(Key, std::shared_ptr<Channel> channel, std::string queue, RpcHandler handler,
              RpcServerOptions options);

private:
    Task<void> run();
    Task<void> handle(Delivery request);

    std::shared_ptr<Channel> channel_;
    std::string queue_;
    RpcHandler handler_;
    RpcServerOptions options_;
    std::shared_ptr<ChannelConsumer> consumer_;
    std::size_t in_progress_ = 0;
    Event idle_;
    std::uint64_t handled_ = 0, failed_ = 0, rejected_ = 0;
};

}  // namespace squall::amqp
