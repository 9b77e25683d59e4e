// squall/testing.hpp: test your coroutine code the way squall tests its own (tornado.testing's gen_test).
//
//     #include <doctest/doctest.h>
//     #include "squall/testing.hpp"
//     using namespace std::chrono_literals;
//
//     SQUALL_TEST_CASE("sleep resumes after the delay", 5s) {
//         auto t0 = loop.time();
//         co_await squall::sleep(10ms);
//         CHECK(loop.time() - t0 >= 10ms);
//     }
//
// The body is a coroutine (Task<void>) with `loop` in scope. It is registered as two doctest test
// cases, "<name> [epoll]" and "<name> [io_uring]", each run on a fresh IOLoop of that backend under
// run_sync with the given timeout: a hung test fails with TimeoutError instead of hanging.
// SQUALL_LOOP_TEST_CASE(name) is the same for a plain (non-coroutine) body that drives the loop itself.
//
// On a host that refuses io_uring (sysctl kernel.io_uring_disabled, a container's seccomp profile) the
// "[io_uring]" cases are skipped, never failed: doctest counts them in its summary ("N skipped") and
// the test binary prints one "[squall] skipped ..." line per case with the reason, and a total. Set
// SQUALL_TEST_REQUIRE_URING=1 to make them run (and fail) instead.
//
// Helpers for asserting on failures:
//
//     std::exception_ptr e = co_await squall::testing::error_of(stream->read_bytes(10));
//     CHECK(squall::testing::holds<squall::StreamClosedError>(e));
//     squall::testing::LogCapture logs;          // what squall logs while it lives
//     /* ... drop a failed Future nobody awaits ... */
//     CHECK(logs.count("never retrieved") == 1);
#pragma once

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "squall/coro/log.hpp"
#include "squall/coro/task.hpp"
#include "squall/ioloop/errors.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::testing {

// True when the environment variable is set to something other than "" or "0".
inline bool env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v && std::string_view(v) != "" && std::string_view(v) != "0";
}

// Why an io_uring loop cannot start in this process (the BackendUnavailableError's message), or ""
// when it can. Probed once, by constructing a loop.
inline const std::string& uring_unavailable_reason() {
    static const std::string reason = [] {
        try {
            IOLoop probe(Backend::uring);
            return std::string();
        } catch (const BackendUnavailableError& e) {
            return std::string(e.what());
        }
    }();
    return reason;
}

// True when the io_uring variants of the tests are skipped: io_uring cannot start here and
// SQUALL_TEST_REQUIRE_URING is not set.
inline bool skip_uring() {
    static const bool skip = !uring_unavailable_reason().empty() && !env_flag("SQUALL_TEST_REQUIRE_URING");
    return skip;
}

// The doctest description of a skipped io_uring variant (nullptr when they run).
inline const char* uring_skip_description() {
    static const std::string d = "skipped: " + uring_unavailable_reason();
    return skip_uring() ? d.c_str() : nullptr;
}

// Runs body(loop) on a fresh loop of the given backend, made current, under run_sync with `timeout`.
template <class Body>
void run_test(Backend backend, Body&& body, Duration timeout) {
    IOLoop loop(backend);
    loop.make_current();
    loop.run_sync(body(loop), timeout);
}

// Runs body(loop) on a fresh loop of the given backend, made current (for plain bodies).
template <class Body>
void run_plain_test(Backend backend, Body&& body) {
    IOLoop loop(backend);
    loop.make_current();
    body(loop);
}

// Awaits `awaitable` (a Task, a Future or any awaitable) and returns the exception it threw (null if
// none).
template <class A>
Task<std::exception_ptr> error_of(A awaitable) {
    try {
        co_await std::move(awaitable);
    } catch (...) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

// True when `e` holds an E (false for a null `e`).
template <class E>
bool holds(const std::exception_ptr& e) {
    if (!e) return false;
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

// Records every line squall logs while it is alive (set_log_handler), then restores the previous
// handler. For tests that prove an error is logged rather than lost. One at a time, on one thread.
class LogCapture {
public:
    LogCapture()
        : previous_(set_log_handler([this](LogLevel, std::string_view line) { lines_.emplace_back(line); })) {
    }
    ~LogCapture() { set_log_handler(std::move(previous_)); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    const std::vector<std::string>& lines() const noexcept { return lines_; }  // in logging order
    // How many logged lines contain `needle`.
    std::size_t count(std::string_view needle) const {
        std::size_t n = 0;
        for (const auto& line : lines_)
            if (line.find(needle) != std::string::npos) ++n;
        return n;
    }

private:
    std::vector<std::string> lines_;
    LogHandler previous_;
};

}  // namespace squall::testing

#ifdef DOCTEST_LIBRARY_INCLUDED
#include <ostream>

namespace squall::testing::detail {

// Prints one line per io_uring case skipped (with the reason) and their number at the end of the run.
// Registered in every translation unit that includes this header; doctest keeps one per name.
class UringSkipListener : public doctest::IReporter {
public:
    explicit UringSkipListener(const doctest::ContextOptions& options) : out_(*options.cout) {}

    void test_case_skipped(const doctest::TestCaseData& tc) override {
        if (!tc.m_skip || !tc.m_description || tc.m_description != uring_skip_description()) return;
        ++skipped_;
        out_ << "[squall] skipped: " << tc.m_name << "\n";
    }
    void test_run_end(const doctest::TestRunStats&) override {
        if (skipped_ == 0) return;
        out_ << "[squall] skipped " << skipped_
             << " io_uring test cases (their epoll variants ran): " << uring_unavailable_reason() << "\n";
    }

    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_case_start(const doctest::TestCaseData&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_end(const doctest::CurrentTestCaseStats&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_start(const doctest::SubcaseSignature&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}

private:
    std::ostream& out_;
    unsigned skipped_ = 0;
};

}  // namespace squall::testing::detail

// Registers the listener above with doctest.
DOCTEST_REGISTER_LISTENER("squall-uring-skips", 1, ::squall::testing::detail::UringSkipListener);

// The io_uring variant's decorators: skipped, with the reason as its description, where io_uring is refused.
#define SQUALL_URING_VARIANT_(name)                                       \
    name " [io_uring]" * doctest::skip(::squall::testing::skip_uring()) * \
        doctest::description(::squall::testing::uring_skip_description())

#define SQUALL_TEST_CASE_IMPL_(fn, name, timeout)                           \
    static ::squall::Task<void> fn(::squall::IOLoop& loop);                 \
    TEST_CASE(name " [epoll]") {                                            \
        ::squall::testing::run_test(::squall::Backend::epoll, fn, timeout); \
    }                                                                       \
    TEST_CASE(SQUALL_URING_VARIANT_(name)) {                                \
        ::squall::testing::run_test(::squall::Backend::uring, fn, timeout); \
    }                                                                       \
    static ::squall::Task<void> fn([[maybe_unused]] ::squall::IOLoop& loop)

// An async test: the body (a coroutine with `loop` in scope) runs on epoll and on io_uring.
#define SQUALL_TEST_CASE(name, timeout) \
    SQUALL_TEST_CASE_IMPL_(DOCTEST_ANONYMOUS(squall_test_body_), name, timeout)

#define SQUALL_LOOP_TEST_CASE_IMPL_(fn, name)                            \
    static void fn(::squall::IOLoop& loop);                              \
    TEST_CASE(name " [epoll]") {                                         \
        ::squall::testing::run_plain_test(::squall::Backend::epoll, fn); \
    }                                                                    \
    TEST_CASE(SQUALL_URING_VARIANT_(name)) {                             \
        ::squall::testing::run_plain_test(::squall::Backend::uring, fn); \
    }                                                                    \
    static void fn([[maybe_unused]] ::squall::IOLoop& loop)

// A test whose plain body drives `loop` itself (run, stop, run_sync), on epoll and on io_uring.
#define SQUALL_LOOP_TEST_CASE(name) \
    SQUALL_LOOP_TEST_CASE_IMPL_(DOCTEST_ANONYMOUS(squall_loop_test_body_), name)
#endif
