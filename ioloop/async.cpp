#include "squall/ioloop/async.hpp"

#include <exception>

#include "squall/coro/errors.hpp"
#include "squall/coro/log.hpp"

namespace squall {

std::string format_duration(Duration d) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
    return std::to_string(ms) + " ms";
}

std::string timeout_message(std::string_view limit_name, Duration limit, std::string_view doing) {
    std::string msg(limit_name);
    msg += " of ";
    msg += format_duration(limit);
    msg += " expired ";
    msg += doing;
    return msg;
}

namespace detail {

void log_failure_after_timeout(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError&) {
        // The caller cancelled it after the timeout (as Tornado): not a failure.
    } catch (...) {
        log(LogLevel::error, "operation failed after with_timeout gave up on it: " + describe(e));
    }
}

}  // namespace detail
}  // namespace squall
