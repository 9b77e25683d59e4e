#include "squall/amqp/rpc.hpp"

#include <random>
#include <utility>

#include "squall/amqp/connection.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"
#include "squall/ioloop/async.hpp"

namespace squall::amqp {

namespace {

std::string random_prefix() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* digits = "0123456789abcdef";
    std::uint64_t r = rng();
    std::string s;
    for (int i = 0; i < 12; ++i, r >>= 4) s += digits[r & 15];
    return s + "-";
}

}  // namespace

// --- RpcClient

RpcClient::RpcClient(Key, std::shared_ptr<Channel> channel, RpcClientOptions options)
    : channel_(std::move(channel)),
      options_(std::move(options)),
      loop_(channel_->connection().loop()),
      id_prefix_(random_prefix()) {}

RpcClient::~RpcClient() {
    for (auto& [id, p] : pending_) {
        if (p.timer) loop_.remove_timeout(p.timer);
    }
}

Task<std::shared_ptr<RpcClient>> RpcClient::create(std::shared_ptr<Channel> channel) {
    RpcClientOptions options;
    co_return co_await create(std::move(channel), std::move(options));
}

Task<std::shared_ptr<RpcClient>> RpcClient::create(std::shared_ptr<Channel> channel,
                                                   RpcClientOptions options) {
    auto client = std::make_shared<RpcClient>(Key{}, std::move(channel), std::move(options));
    co_await client->start();
    co_return client;
}

Task<void> RpcClient::start() {
    std::string queue = kDirectReplyTo;
    if (options_.reply_mode == ReplyMode::callback_queue) {
        QueueDeclareOptions exclusive{.exclusive = true, .auto_delete = true};
        auto declared = co_await channel_->queue_declare("", std::move(exclusive));
        queue = declared.queue;
    }
    std::weak_ptr<RpcClient> weak = weak_from_this();
    DeliveryCallback on_message = [weak](Delivery&& reply) {
        if (auto self = weak.lock()) self->on_reply(std::move(reply));
    };
    ConsumeOptions consume;
    consume.no_ack = true;  // direct reply-to requires it; a reply nobody waits for is dropped anyway
    consume.on_cancel = [weak](const std::string& tag) {
        if (auto self = weak.lock())
            self->fail_all(std::make_exception_ptr(ConsumerCancelledError(tag, true)));
    };
    consumer_ = co_await channel_->basic_consume(queue, std::move(on_message), std::move(consume));
    reply_to_ = queue;
    channel_->set_return_handler([weak](ReturnedMessage&& returned) {
        if (auto self = weak.lock()) self->on_returned(std::move(returned));
    });
    channel_->wait_closed().add_done_callback([weak](Future<void>&) {
        if (auto self = weak.lock()) {
            std::exception_ptr reason = self->channel_->close_reason();
            if (!reason) reason = std::make_exception_ptr(CancelledError("RPC channel closed"));
            self->fail_all(reason);
        }
    });
}

Task<std::string> RpcClient::call(std::string routing_key, std::string body, Duration timeout) {
    Delivery reply = co_await call_message(std::move(routing_key), std::move(body), timeout);
    co_return std::move(reply.body);
}

Task<Delivery> RpcClient::call_message(std::string routing_key, std::string body, Duration timeout) {
    BasicProperties properties;
    co_return co_await call_message(std::move(routing_key), std::move(body), timeout, std::move(properties));
}

Task<Delivery> RpcClient::call_message(std::string routing_key, std::string body, Duration timeout,
                                       BasicProperties properties) {
    if (closed_) throw UsageError("RpcClient::call on a closed client");
    if (channel_->is_closed()) std::rethrow_exception(channel_->close_reason());
    std::string id = id_prefix_ + std::to_string(next_id_++);
    properties.correlation_id = id;
    properties.reply_to = reply_to_;
    BasicPublishOptions publish;
    publish.mandatory = options_.mandatory;
    // Publish first: when it throws (closed channel) nothing is left pending.
    (void)channel_->basic_publish(options_.exchange, routing_key, body, properties, publish);
    Pending& pending = pending_[id];
    Future<Delivery> reply = pending.promise.get_future();
    if (timeout > Duration::zero()) {
        std::weak_ptr<RpcClient> weak = weak_from_this();
        pending.timer = loop_.call_later(timeout, [weak, id, timeout] {
            if (auto self = weak.lock()) self->on_timeout(id, timeout);
        });
    }
    co_return co_await std::move(reply);
}

void RpcClient::on_reply(Delivery&& reply) {
    auto it =
        reply.properties.correlation_id ? pending_.find(*reply.properties.correlation_id) : pending_.end();
    if (it == pending_.end()) {
        ++late_replies_;  // timed out already, or not ours
        return;
    }
    Pending pending = std::move(it->second);
    pending_.erase(it);
    if (pending.timer) loop_.remove_timeout(pending.timer);
    const FieldValue* error =
        reply.properties.headers ? reply.properties.headers->find(kRpcErrorHeader) : nullptr;
    if (error) {
        const std::string* text = error->get_if<std::string>();
        pending.promise.set_error(
            RpcError("RPC server failed: " + (text ? *text : std::string("(no reason)"))));
    } else {
        pending.promise.set_value(std::move(reply));
    }
}

void RpcClient::on_timeout(const std::string& correlation_id, Duration timeout) {
    auto it = pending_.find(correlation_id);
    if (it == pending_.end()) return;
    Pending pending = std::move(it->second);
    pending_.erase(it);
    pending.promise.set_error(
        TimeoutError("RPC call " + correlation_id + " got no reply within " + format_duration(timeout)));
}

void RpcClient::on_returned(ReturnedMessage&& returned) {
    const auto& id = returned.message.properties.correlation_id;
    auto it = id ? pending_.find(*id) : pending_.end();
    if (it == pending_.end()) {
        log(LogLevel::warning, "RpcClient: a returned message matches no pending call");
        return;
    }
    Pending pending = std::move(it->second);
    pending_.erase(it);
    if (pending.timer) loop_.remove_timeout(pending.timer);
    pending.promise.set_error(MessageReturnedError(returned.reply_code, std::move(returned.reply_text),
                                                   std::move(returned.message.exchange),
                                                   std::move(returned.message.routing_key)));
}

void RpcClient::fail_all(std::exception_ptr reason) {
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) {
        if (p.timer) loop_.remove_timeout(p.timer);
        p.promise.set_exception(reason);
    }
}

Task<void> RpcClient::close() {
    if (closed_) co_return;
    closed_ = true;
    if (consumer_ && consumer_->active() && channel_->is_open()) co_await consumer_->cancel();
    fail_all(std::make_exception_ptr(CancelledError("RpcClient closed")));
}

// --- RpcServer

RpcServer::RpcServer(Key, std::shared_ptr<Channel> channel, std::string queue, RpcHandler handler,
                     RpcServerOptions options)
    : channel_(std::move(channel)),
      queue_(std::move(queue)),
      handler_(std::move(handler)),
      options_(std::move(options)) {
    idle_.set();
}

Task<std::shared_ptr<RpcServer>> RpcServer::start(std::shared_ptr<Channel> channel, std::string queue,
                                                  RpcHandler handler) {
    RpcServerOptions options;
    co_return co_await start(std::move(channel), std::move(queue), std::move(handler), std::move(options));
}

Task<std::shared_ptr<RpcServer>> RpcServer::start(std::shared_ptr<Channel> channel, std::string queue,
                                                  RpcHandler handler, RpcServerOptions options) {
    if (!handler) throw UsageError("RpcServer::start needs a handler");
    auto server = std::make_shared<RpcServer>(Key{}, std::move(channel), std::move(queue), std::move(handler),
                                              std::move(options));
    co_await server->run();
    co_return server;
}

Task<void> RpcServer::run() {
    if (options_.declare) {
        QueueDeclareOptions declare = options_.queue;
        co_await channel_->queue_declare(queue_, std::move(declare));
    }
    QosOptions qos;
    qos.prefetch_count = options_.prefetch_count;
    co_await channel_->basic_qos(qos);
    std::weak_ptr<RpcServer> weak = weak_from_this();
    DeliveryCallback on_request = [weak](Delivery&& request) {
        // Unacked when the server is gone: the broker redelivers it once the channel closes.
        if (auto self = weak.lock()) (void)squall::start(self->handle(std::move(request)));
    };
    consumer_ = co_await channel_->basic_consume(queue_, std::move(on_request));
}

Task<void> RpcServer::handle(Delivery request) {
    auto keep_alive = shared_from_this();  // runs before the first suspension (start() is eager)
    ++in_progress_;
    idle_.clear();
    const uint64_t tag = request.delivery_tag;
    const auto& reply_to = request.properties.reply_to;
    const auto& correlation_id = request.properties.correlation_id;
    try {
        if (!reply_to || reply_to->empty() || !correlation_id) {
            ++rejected_;
            log(LogLevel::warning, "RpcServer on " + queue_ +
                                       ": a request without reply_to or correlation_id, "
                                       "rejected");
            channel_->basic_reject(tag, false);
        } else {
            BasicProperties props;
            props.correlation_id = *correlation_id;
            std::string body;
            std::string error;
            try {
                body = co_await handler_(request);
            } catch (const std::exception& e) {
                error = e.what();
                if (error.empty()) error = "handler failed";
            } catch (...) {
                error = "handler threw a non-standard exception";
            }
            if (!error.empty()) {
                ++failed_;
                body.clear();
                props.headers = FieldTable{};
                props.headers->set(kRpcErrorHeader, std::move(error));
            }
            Confirmation published = channel_->basic_publish("", *reply_to, body, props);
            co_await published;  // in confirm mode: the broker has the reply before the request is acked
            channel_->basic_ack(tag);
            ++handled_;
        }
    } catch (const std::exception& e) {
        // The channel closed (or the reply was nacked): the request stays unacked and is redelivered.
        log(LogLevel::warning, "RpcServer on " + queue_ + ": request not answered: " + e.what());
    }
    if (--in_progress_ == 0) idle_.set();
}

Task<void> RpcServer::stop() {
    if (consumer_ && consumer_->active() && channel_->is_open()) co_await consumer_->cancel();
    while (in_progress_ > 0) co_await idle_.wait();
}

}  // namespace squall::amqp
