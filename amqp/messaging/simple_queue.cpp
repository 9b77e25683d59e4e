#include "squall/amqp/messaging/simple_queue.hpp"

#include "squall/coro/queue.hpp"
#include "squall/ioloop/async.hpp"

namespace squall::amqp::messaging {

namespace {

Queue make_queue(const std::string& name, const SimpleQueueOptions& o) {
    return Queue(name, Exchange(name, "direct", o.exchange_options), name, o.queue_options);
}

ProducerOptions producer_options(const Queue& q, const SimpleQueueOptions& o) {
    ProducerOptions p;
    p.exchange = q.exchange;
    p.routing_key = q.routing_key;
    p.serializer = o.serializer;
    p.compression = o.compression;
    return p;
}

ConsumerOptions consumer_options(const SimpleQueueOptions& o) {
    ConsumerOptions c;
    c.no_ack = o.no_ack;
    c.accept = o.accept;
    c.prefetch_count = o.prefetch_count;
    return c;
}

}  // namespace

SimpleQueue::SimpleQueue(std::shared_ptr<BrokerConnection> connection, std::string name,
                         SimpleQueueOptions options)
    : connection_(connection),
      queue_(make_queue(name, options)),
      options_(std::move(options)),
      producer_(connection, producer_options(queue_, options_)),
      consumer_(connection, {queue_}, consumer_options(options_)) {}

SimpleQueue::SimpleQueue(std::shared_ptr<BrokerConnection> connection, std::string name)
    : SimpleQueue(std::move(connection), std::move(name), SimpleQueueOptions()) {}

Task<void> SimpleQueue::put(std::string body, PublishOptions options) {
    options.declare.push_back(queue_);
    auto t = producer_.publish(std::move(body), std::move(options));
    co_await std::move(t);
}

Task<void> SimpleQueue::put(std::string body) {
    return put(std::move(body), PublishOptions());
}

Task<Message> SimpleQueue::get(std::chrono::milliseconds timeout) {
    // next() runs detached, so a timeout leaves it pending (its message is kept for the next get()).
    if (!pending_) pending_.emplace(start(consumer_.next()));
    Future<Message> f = *pending_;
    try {
        auto t = with_timeout(timeout, f);
        Message m = co_await std::move(t);
        pending_.reset();
        co_return m;
    } catch (const TimeoutError&) {
        throw QueueEmpty();
    } catch (...) {
        pending_.reset();
        throw;
    }
}

Task<Message> SimpleQueue::get_nowait() {
    if (pending_ && pending_->done()) {
        Future<Message> f = std::move(*pending_);
        pending_.reset();
        co_return co_await std::move(f);
    }
    auto conn = connection_;
    {
        auto t = conn->maybe_declare(queue_);
        co_await std::move(t);
    }
    auto ct = conn->default_channel();
    std::shared_ptr<Channel> ch = co_await std::move(ct);
    auto g = ch->basic_get(queue_.name, options_.no_ack);
    std::optional<amqp::Delivery> raw = co_await std::move(g);
    if (!raw) throw QueueEmpty();
    co_return Message(std::move(*raw), ch, options_.no_ack);
}

Task<uint32_t> SimpleQueue::clear() {
    auto conn = connection_;
    {
        auto t = conn->maybe_declare(queue_);
        co_await std::move(t);
    }
    auto ct = conn->default_channel();
    std::shared_ptr<Channel> ch = co_await std::move(ct);
    auto t = ch->queue_purge(queue_.name);
    co_return co_await std::move(t);
}

Task<uint32_t> SimpleQueue::qsize() {
    auto conn = connection_;
    auto ct = conn->default_channel();
    std::shared_ptr<Channel> ch = co_await std::move(ct);
    QueueDeclareOptions o;
    o.passive = true;
    auto t = ch->queue_declare(queue_.name, std::move(o));
    QueueDeclareResult r = co_await std::move(t);
    co_return r.message_count;
}

Task<void> SimpleQueue::close() {
    auto t = consumer_.cancel();
    co_await std::move(t);
}

}  // namespace squall::amqp::messaging
