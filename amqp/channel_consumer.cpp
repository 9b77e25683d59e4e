#include "squall/amqp/channel_consumer.hpp"

#include "squall/amqp/channel.hpp"
#include "squall/coro/log.hpp"

namespace squall::amqp {

ChannelConsumer::ChannelConsumer(std::weak_ptr<Channel> channel, std::string queue, DeliveryCallback callback,
                                 std::function<void(const std::string&)> on_cancel)
    : channel_(std::move(channel)),
      queue_(std::move(queue)),
      callback_(std::move(callback)),
      on_cancel_(std::move(on_cancel)) {}

Future<Delivery> ChannelConsumer::next() {
    if (callback_)
        throw UsageError("amqp: ChannelConsumer::next() on a consumer that delivers to a callback");
    if (!buffer_.empty()) {
        Future<Delivery> f = make_ready_future(std::move(buffer_.front()));
        buffer_.pop_front();
        return f;
    }
    Promise<Delivery> p;
    Future<Delivery> f = p.get_future();
    if (end_) {
        p.set_exception(end_);
        return f;
    }
    waiters_.push_back(std::move(p));
    return f;
}

std::optional<Delivery> ChannelConsumer::try_next() {
    if (buffer_.empty()) return std::nullopt;
    std::optional<Delivery> m(std::move(buffer_.front()));
    buffer_.pop_front();
    return m;
}

Task<void> ChannelConsumer::cancel() {
    auto channel = channel_.lock();
    if (!channel || end_) co_return;
    co_await channel->basic_cancel(tag_);
}

void ChannelConsumer::deliver(Delivery&& message) {
    if (callback_) {
        try {
            callback_(std::move(message));
        } catch (const std::exception& e) {
            log(LogLevel::error, "amqp: the delivery callback of consumer '" + tag_ + "' threw: " + e.what());
        } catch (...) {
            log(LogLevel::error, "amqp: the delivery callback of consumer '" + tag_ + "' threw");
        }
        return;
    }
    while (!waiters_.empty()) {
        Promise<Delivery> p = std::move(waiters_.front());
        waiters_.pop_front();
        if (!p.done()) {  // skip a waiter that timed out or was cancelled
            p.set_value(std::move(message));
            return;
        }
    }
    buffer_.push_back(std::move(message));
}

void ChannelConsumer::end(std::exception_ptr reason) {
    if (end_) return;
    end_ = std::move(reason);
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& p : waiters) p.set_exception(end_);
}

}  // namespace squall::amqp
