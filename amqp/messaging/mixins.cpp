#include "squall/amqp/messaging/mixins.hpp"

#include "squall/amqp/errors.hpp"
#include "squall/coro/log.hpp"

namespace squall::amqp::messaging {

// Shared with the connection's listeners, which outlive run() and the mixin: they check `mixin`.
struct ConsumerMixin::Events {
    ConsumerMixin* mixin = nullptr;
    bool running = false;
    std::exception_ptr failure;
};

ConsumerMixin::ConsumerMixin(std::shared_ptr<BrokerConnection> connection)
    : connection_(std::move(connection)), events_(std::make_shared<Events>()) {
    if (!connection_) throw UsageError("messaging: ConsumerMixin needs a connection");
    events_->mixin = this;
    std::weak_ptr<Events> weak = events_;
    connection_->on_connection_lost([weak](const std::exception_ptr& e) {
        if (auto ev = weak.lock(); ev && ev->running) ev->mixin->on_connection_error(e);
    });
    connection_->on_connection_recovered([weak] {
        if (auto ev = weak.lock(); ev && ev->running) ev->mixin->on_connection_revived();
    });
    connection_->on_recovery_failed([weak](const std::exception_ptr& e) {
        if (auto ev = weak.lock(); ev && ev->running) {
            ev->failure = e;
            ev->mixin->stopped_.set();
        }
    });
}

ConsumerMixin::~ConsumerMixin() {
    events_->mixin = nullptr;
    events_->running = false;
}

void ConsumerMixin::stop() {
    should_stop_ = true;
    stopped_.set();
}

Task<void> ConsumerMixin::run() {
    if (events_->running) throw UsageError("messaging: ConsumerMixin::run() is already running");
    auto events = events_;
    events->running = true;
    events->failure = nullptr;
    std::exception_ptr error;
    std::vector<Consumer> consumers;
    try {
        auto t = connection_->ensure_connection();
        co_await std::move(t);
        consumers = get_consumers(connection_);
        for (auto& c : consumers) {
            auto ct = c.consume();
            co_await std::move(ct);
        }
        on_consume_ready(consumers);
        if (!should_stop_) co_await stopped_.wait();
    } catch (...) {
        error = std::current_exception();
    }
    for (auto& c : consumers) {
        try {
            auto t = c.cancel();
            co_await std::move(t);
        } catch (const std::exception& e) {
            log(LogLevel::warning, std::string("messaging: cancelling a consumer failed: ") + e.what());
        }
    }
    events->running = false;
    on_consume_end();
    stopped_.clear();
    if (!error) error = events->failure;
    if (error) std::rethrow_exception(error);
}

}  // namespace squall::amqp::messaging
