// Helpers of the amqp client tests: unique entity names, the broker URL and a scoped connection.
#pragma once

#include <chrono>
#include <random>
#include <string>

#include "amqp/amqp.hpp"
#include "tests/support/rabbitmq_fixture.hpp"

namespace squall::amqp::test {

// "prefix-<random>": names are unique per test run, so reruns never see leftovers.
inline std::string unique_name(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return "squall-test-" + prefix + "-" + std::to_string(rng() % 1000000000);
}

// Runs `body` and rethrows any error as the given type check: true when `e` holds an E.
template <class E>
bool holds(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const E&) {
        return true;
    } catch (...) {
        return false;
    }
}

template <class E>
std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const E& err) {
        return err.what();
    } catch (...) {
        return {};
    }
}

// Awaits `awaitable` and returns the exception it threw (null if none).
template <class A>
Task<std::exception_ptr> error_of(A awaitable) {
    try {
        co_await std::move(awaitable);
    } catch (...) {
        co_return std::current_exception();
    }
    co_return nullptr;
}

}  // namespace squall::amqp::test
