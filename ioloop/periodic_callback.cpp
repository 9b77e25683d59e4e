#include "squall/ioloop/periodic_callback.hpp"

#include <exception>
#include <string>

#include "squall/coro/log.hpp"
#include "squall/coro/start.hpp"

namespace squall {

void PeriodicCallback::start() {
    if (state_->running) return;
    state_->running = true;
    state_->next = state_->loop.time();
    state_->schedule();
}

void PeriodicCallback::stop() {
    state_->running = false;
    if (state_->timer) {
        state_->loop.remove_timeout(state_->timer);
        state_->timer = {};
    }
}

void PeriodicCallback::State::schedule() {
    if (!running) return;
    TimePoint now = loop.time();
    if (next <= now) {
        // Skip the runs we missed: the next one is the first interval boundary after now.
        auto missed = (now - next) / interval;
        next += (missed + 1) * interval;
    }
    timer = loop.call_at(next, [w = weak_from_this()] {
        if (auto self = w.lock()) self->fire();
    });
}

void PeriodicCallback::State::fire() {
    timer = {};
    if (!running) return;
    if (sync_cb) {
        try {
            sync_cb();
        } catch (const std::exception& e) {
            log(LogLevel::error, std::string("PeriodicCallback raised: ") + e.what());
        }
        schedule();
        return;
    }
    Future<void> run;
    try {
        run = squall::start(async_cb());
    } catch (const std::exception& e) {
        log(LogLevel::error, std::string("PeriodicCallback raised: ") + e.what());
        schedule();
        return;
    }
    run.add_done_callback([w = weak_from_this()](const Future<void>& f) {
        if (auto e = f.exception()) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                log(LogLevel::error, std::string("PeriodicCallback raised: ") + ex.what());
            } catch (...) {
                log(LogLevel::error, "PeriodicCallback raised a non-standard exception");
            }
        }
        if (auto self = w.lock()) self->schedule();
    });
}

}  // namespace squall
