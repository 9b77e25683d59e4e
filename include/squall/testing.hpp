// squall/testing.hpp: test your coroutine code the way squall tests its own (tornado.testing's gen_test).
//
//     #include <doctest/doctest.h>
//     #include <squall/testing.hpp>
//     using namespace std::chrono_literals;
//
//     SQUALL_TEST_CASE("sleep resumes after the delay", 5s) {
//         auto t0 = loop.time();
//         co_await squall::sleep(10ms);
//         CHECK(loop.time() - t0 >= 10ms);
//     }
//
// The body is a coroutine (Task<void>) with `loop` in scope. It runs once per backend (epoll and
// io_uring, as doctest subcases) on a fresh IOLoop under run_sync with the given timeout: a hung test
// fails with TimeoutError instead of hanging. io_uring being unavailable fails the test unless the
// environment sets SQUALL_TEST_ALLOW_NO_URING=1 (no silent skips).
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

#include "squall/coro/task.hpp"
#include "squall/ioloop/ioloop.hpp"

namespace squall::testing {

inline bool env_flag(const char* name) {
    const char* v = std::getenv(name);
    return v && std::string_view(v) != "" && std::string_view(v) != "0";
}

// Runs body(loop) on a fresh loop of the given backend. Returns false (after reporting why) when the
// backend is unavailable and the environment allows skipping it; throws otherwise.
template <class Body>
bool run_test(Backend backend, Body&& body, Duration timeout) {
    std::unique_ptr<IOLoop> loop;
    try {
        loop = std::make_unique<IOLoop>(backend);
    } catch (const Error& e) {
        if (backend == Backend::uring && env_flag("SQUALL_TEST_ALLOW_NO_URING")) return false;
        throw;
    }
    loop->make_current();
    loop->run_sync(body(*loop), timeout);
    return true;
}

}  // namespace squall::testing

#ifdef DOCTEST_LIBRARY_INCLUDED
#define SQUALL_TEST_CASE_IMPL_(fn, name, timeout)                                                   \
    static ::squall::Task<void> fn(::squall::IOLoop& loop);                                         \
    TEST_CASE(name) {                                                                               \
        SUBCASE("epoll") {                                                                          \
            ::squall::testing::run_test(::squall::Backend::epoll, fn, timeout);                     \
        }                                                                                           \
        SUBCASE("io_uring") {                                                                       \
            if (!::squall::testing::run_test(::squall::Backend::uring, fn, timeout))                \
                MESSAGE("io_uring unavailable: skipped because SQUALL_TEST_ALLOW_NO_URING is set"); \
        }                                                                                           \
    }                                                                                               \
    static ::squall::Task<void> fn([[maybe_unused]] ::squall::IOLoop& loop)

#define SQUALL_TEST_CASE(name, timeout) \
    SQUALL_TEST_CASE_IMPL_(DOCTEST_ANONYMOUS(squall_test_body_), name, timeout)
#endif
