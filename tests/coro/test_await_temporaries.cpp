// The co_await temporaries rule (squall/coro/task.hpp): with the documented form, options that own heap
// memory (strings long and short, a vector, a std::function) and a capturing lambda, named before the
// co_await and passed by name or moved from the name, reach a coroutine that suspends intact, and are
// freed once. AddressSanitizer (the asan preset CI runs) reports a double free or a bad free otherwise:
// the hazardous form, `co_await by_value(loop, Opts{...})`, does exactly that on g++ 12.2. Its compile
// error on affected GCC versions is checked by the await_temporaries_rejected test (tests/coro).
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "squall/coro/task.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/testing.hpp"

using namespace std::chrono_literals;
using squall::Task;

namespace {

struct Opts {
    std::string name;
    std::vector<std::string> tags{};
    std::function<std::size_t()> size{};
};

std::string describe(const Opts& o) {
    std::string out = o.name;
    for (const auto& t : o.tags) out += "," + t;
    if (o.size) out += "," + std::to_string(o.size());
    return out;
}

// Each suspends on the loop before reading its argument, so the caller's frame holds it across a resume.
Task<std::string> by_value(squall::IOLoop& loop, Opts o) {
    co_await squall::sleep(loop, 1ms);
    co_return describe(o);
}
Task<std::string> by_reference(squall::IOLoop& loop, const Opts& o) {
    co_await squall::sleep(loop, 1ms);
    co_return describe(o);
}
template <class F>
Task<std::size_t> call(squall::IOLoop& loop, F f) {
    co_await squall::sleep(loop, 1ms);
    co_return f();
}

}  // namespace

TEST_SUITE("coro") {
    SQUALL_TEST_CASE(
        "named options and lambdas reach a suspending coroutine intact (the co_await temporaries rule)", 5s) {
        const std::string long_name(64, 'n');  // on the heap
        Opts named{.name = long_name};
        named.tags.push_back(std::string(40, 't'));
        named.size = [long_name] { return long_name.size(); };
        const std::string expected = long_name + "," + std::string(40, 't') + ",64";

        CHECK(co_await by_value(loop, named) == expected);
        CHECK(co_await by_reference(loop, named) == expected);
        CHECK(describe(named) == expected);  // the caller's copy is untouched
        CHECK(co_await by_value(loop, std::move(named)) == expected);

        Opts short_name{.name = "s"};  // a short string lives in the object itself (its inline buffer)
        CHECK(co_await by_value(loop, short_name) == "s");
        CHECK(co_await by_value(loop, std::move(short_name)) == "s");

        auto measure = [long_name] { return long_name.size(); };
        CHECK(co_await call(loop, measure) == 64);
        CHECK(co_await call(loop, std::move(measure)) == 64);
    }
}
