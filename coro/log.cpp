#include "squall/coro/log.hpp"

#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "squall/coro/errors.hpp"
#include "squall/coro/future.hpp"
#include "squall/coro/gather.hpp"

namespace squall {
namespace {

void default_handler(LogLevel level, std::string_view message) {
    if (level == LogLevel::debug) return;
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "squall %s: %.*s\n", kNames[static_cast<int>(level)],
                 static_cast<int>(message.size()), message.data());
}

LogHandler& handler() {
    static LogHandler h = default_handler;
    return h;
}

}  // namespace

std::string describe(const std::exception_ptr& e) {
    if (!e) return "no error";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return ex.what();
    } catch (...) {
        return "unknown exception";
    }
}

LogHandler set_log_handler(LogHandler h) {
    return std::exchange(handler(), h ? std::move(h) : default_handler);
}

void log(LogLevel level, std::string_view message) {
    handler()(level, message);
}

namespace {
// From a noexcept path: if the handler (or building the line) throws, only this line is lost.
void log_error_noexcept(std::string_view what, const std::exception_ptr& e) noexcept {
    try {
        log(LogLevel::error, std::string(what) + describe(e));
    } catch (...) {
        // nowhere left to report it
    }
}
}  // namespace

namespace detail {

void log_unretrieved_exception(const std::exception_ptr& e) noexcept {
    log_error_noexcept("Future exception was never retrieved: ", e);
}

void log_secondary_exception(const std::exception_ptr& e) noexcept {
    log_error_noexcept("gather: a further child failed after the first error: ", e);
}

}  // namespace detail
}  // namespace squall
