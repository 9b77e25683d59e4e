// gather: variadic and over a vector; void children; error rules (first error rethrown after every
// child finished, later errors logged).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "squall/coro/future.hpp"
#include "squall/coro/gather.hpp"
#include "squall/coro/start.hpp"
#include "squall/coro/task.hpp"
#include "squall/testing.hpp"

using squall::Future;
using squall::Promise;
using squall::Task;
using squall::testing::LogCapture;

namespace {

Task<int> value_of(Future<int> f) {
    co_return co_await f;
}
Task<std::string> text() {
    co_return "text";
}
Task<void> mark(Future<void> gate, std::vector<int>& done, int id) {
    co_await gate;
    done.push_back(id);
}

Task<std::tuple<int, std::string, std::monostate>> gather_three(Future<int> f, Future<void> gate,
                                                                std::vector<int>& done) {
    co_return co_await squall::gather(value_of(f), text(), mark(gate, done, 1));
}

Task<std::vector<int>> gather_vector(std::vector<Future<int>> futures) {
    std::vector<Task<int>> tasks;
    for (auto& f : futures) tasks.push_back(value_of(f));
    co_return co_await squall::gather(std::move(tasks));
}

Task<int> gather_void_vector(std::vector<Future<void>> gates, std::vector<int>& done) {
    std::vector<Task<void>> tasks;
    for (std::size_t i = 0; i < gates.size(); ++i) tasks.push_back(mark(gates[i], done, static_cast<int>(i)));
    co_await squall::gather(std::move(tasks));
    co_return static_cast<int>(done.size());
}

Task<std::string> gather_errors(std::vector<Future<int>> futures, std::vector<int>* finished_before_resume) {
    std::vector<Task<int>> tasks;
    for (auto& f : futures) tasks.push_back(value_of(f));
    try {
        co_await squall::gather(std::move(tasks));
    } catch (const std::runtime_error& e) {
        if (finished_before_resume) {
            for (auto& f : futures) finished_before_resume->push_back(f.done() ? 1 : 0);
        }
        co_return e.what();
    }
    co_return "no error";
}

}  // namespace

TEST_SUITE("coro") {
    TEST_CASE("variadic gather returns a tuple of results, with void as monostate") {
        Promise<int> p;
        Promise<void> gate;
        std::vector<int> done;
        auto f = squall::start(gather_three(p.get_future(), gate.get_future(), done));
        CHECK_FALSE(f.done());
        gate.set_value();
        CHECK_FALSE(f.done());  // still waiting for the int child
        p.set_value(9);
        REQUIRE(f.done());
        auto [i, s, v] = f.result();
        CHECK(i == 9);
        CHECK(s == "text");
        (void)v;
        CHECK(done == std::vector<int>{1});
    }

    TEST_CASE("gather over a vector keeps input order whatever the completion order") {
        std::vector<Promise<int>> ps(4);
        std::vector<Future<int>> fs;
        for (auto& p : ps) fs.push_back(p.get_future());
        auto f = squall::start(gather_vector(fs));
        ps[2].set_value(2);
        ps[0].set_value(0);
        ps[3].set_value(3);
        CHECK_FALSE(f.done());
        ps[1].set_value(1);
        REQUIRE(f.done());
        CHECK(f.result() == std::vector<int>{0, 1, 2, 3});
    }

    TEST_CASE("gather over a vector of void tasks completes when all did") {
        std::vector<Promise<void>> gates(3);
        std::vector<Future<void>> fs;
        for (auto& g : gates) fs.push_back(g.get_future());
        std::vector<int> done;
        auto f = squall::start(gather_void_vector(fs, done));
        gates[1].set_value();
        gates[0].set_value();
        CHECK_FALSE(f.done());
        gates[2].set_value();
        REQUIRE(f.done());
        CHECK(f.result() == 3);
        CHECK(done == std::vector<int>{1, 0, 2});
    }

    TEST_CASE("gather of nothing completes at once") {
        auto f = squall::start(gather_vector({}));
        REQUIRE(f.done());
        CHECK(f.result().empty());
    }

    TEST_CASE("gather rethrows the first error only after every child finished") {
        std::vector<Promise<int>> ps(3);
        std::vector<Future<int>> fs;
        for (auto& p : ps) fs.push_back(p.get_future());
        std::vector<int> finished;
        auto f = squall::start(gather_errors(fs, &finished));
        ps[1].set_error(std::runtime_error("first failure"));
        CHECK_FALSE(f.done());  // the other children still run
        ps[0].set_value(0);
        CHECK_FALSE(f.done());
        ps[2].set_value(2);
        REQUIRE(f.done());
        CHECK(f.result() == "first failure");
        CHECK(finished == std::vector<int>{1, 1, 1});
    }

    TEST_CASE("gather logs the errors after the first instead of dropping them") {
        LogCapture logs;
        std::vector<Promise<int>> ps(3);
        std::vector<Future<int>> fs;
        for (auto& p : ps) fs.push_back(p.get_future());
        auto f = squall::start(gather_errors(fs, nullptr));
        ps[2].set_error(std::runtime_error("error A"));
        ps[0].set_error(std::runtime_error("error B"));
        ps[1].set_value(1);
        REQUIRE(f.done());
        CHECK(f.result() == "error A");
        CHECK(logs.count("error B") == 1);
        CHECK(logs.count("error A") == 0);
    }

    TEST_CASE("when_all is gather under its C++ name") {
        auto run = []() -> Task<int> {
            auto [a, b] = co_await squall::when_all(text(), text());
            co_return static_cast<int>(a.size() + b.size());
        };
        auto f = squall::start(run());
        REQUIRE(f.done());
        CHECK(f.result() == 8);
    }
}
