// Pure parts of the messaging layer: entity identities and defaults, serializers, compression, retry
// intervals and retry_over_time's counting and sleeping (on a loop, no broker).
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/ioloop/periodic_callback.hpp"
#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using squall::amqp::FieldTable;

TEST_CASE("entities default to kombu's durable, not auto-delete; '' and amq.* are never declared") {
    Exchange media{"media"};
    CHECK(media.type == "direct");
    CHECK(media.options.durable);
    CHECK_FALSE(media.options.auto_delete);
    CHECK(media.can_declare());
    CHECK_FALSE(Exchange("").can_declare());
    CHECK_FALSE(Exchange("amq.topic", "topic").can_declare());
    Queue video{"video", media, "video"};
    CHECK(video.options.durable);
    CHECK(video.can_cache_declaration());
}

TEST_CASE("auto-delete, x-expires and server-named queues are not cached") {
    CHECK_FALSE(Exchange("e", "fanout", {.auto_delete = true}).can_cache_declaration());
    CHECK_FALSE(Queue("q", {}, "", {.auto_delete = true}).can_cache_declaration());
    CHECK_FALSE(Queue("q", {}, "", {.expires = 60s}).can_cache_declaration());
    QueueOptions with_arg;
    with_arg.queue_arguments.set("x-expires", int32_t{1000});
    CHECK_FALSE(Queue("q", {}, "", with_arg).can_cache_declaration());
    CHECK_FALSE(Queue("").can_cache_declaration());
}

TEST_CASE("queue shorthands become x-arguments; explicit queue_arguments win") {
    QueueOptions o{.message_ttl = 5000ms,
                   .max_length = 10,
                   .max_priority = uint8_t{9},
                   .dead_letter_exchange = std::string("dlx"),
                   .queue_type = std::string("quorum")};
    o.queue_arguments.set("x-max-length", int32_t{7});
    FieldTable args = Queue("q", {}, "", o).arguments();
    CHECK(args.find("x-message-ttl")->as_integer() == 5000);
    CHECK(args.find("x-max-length")->as_integer() == 7);
    CHECK(args.find("x-max-priority")->as_integer() == 9);
    CHECK(args.find("x-dead-letter-exchange")->as<std::string>() == "dlx");
    CHECK(args.find("x-queue-type")->as<std::string>() == "quorum");
}

TEST_CASE("cache keys differ when anything declared differs") {
    Exchange a{"x", "direct"}, b{"x", "topic"}, c{"x", "direct", {.durable = false}};
    CHECK(a.cache_key() == Exchange("x", "direct").cache_key());
    CHECK(a.cache_key() != b.cache_key());
    CHECK(a.cache_key() != c.cache_key());
    CHECK(Queue("q", a, "k").cache_key() != Queue("q", a, "k2").cache_key());
    CHECK(Queue("q", a, "k").cache_key() != Queue("q", b, "k").cache_key());
    CHECK(Queue("q", a, "k").cache_key() != Queue("q", a, "k", {.max_length = 1}).cache_key());
}

TEST_CASE("serializers use kombu's content types and encodings") {
    CHECK(serializer_type("json").content_type == "application/json");
    CHECK(serializer_type("json").content_encoding == "utf-8");
    CHECK(serializer_type("").content_type == "text/plain");
    CHECK(serializer_type("raw").content_type == "application/data");
    CHECK(serializer_type("raw").content_encoding == "binary");
    CHECK_THROWS_AS(serializer_type("pickle"), squall::UsageError);
}

TEST_CASE("zlib compression round-trips and bad input is a DecodeError") {
    std::string body(100000, 'a');
    std::string packed = compress(body, "zlib");
    CHECK(packed.size() < 1000);
    CHECK(decompress(packed, kZlibContentType) == body);
    CHECK(compression_content_type("gzip") == "application/x-gzip");
    CHECK_THROWS_AS(decompress("not zlib", kZlibContentType), DecodeError);
    CHECK_THROWS_AS(decompress(packed.substr(0, packed.size() / 2), kZlibContentType), DecodeError);
    CHECK_THROWS_AS(decompress(packed + "x", kZlibContentType), DecodeError);
    CHECK_THROWS_AS(decompress(packed, kZlibContentType, 1000), DecodeError);  // a zip bomb is bounded
    CHECK_THROWS_AS(decompress(packed, "application/x-bz2"), DecodeError);
}

TEST_CASE("retry intervals grow by interval_step and stop at interval_max (not max + start)") {
    RetryIntervals r(RetryPolicy{.interval_start = 2000ms, .interval_step = 2000ms, .interval_max = 5000ms});
    CHECK(r.next() == 2000ms);
    CHECK(r.next() == 4000ms);
    CHECK(r.next() == 5000ms);
    CHECK(r.next() == 5000ms);
}

namespace {
squall::Task<int> fail_with(std::exception_ptr e) {
    std::rethrow_exception(e);
    co_return 0;
}
}  // namespace

SQUALL_TEST_CASE("retry_over_time gives up after max_retries with the last error", 5s) {
    int calls = 0;
    std::vector<std::chrono::milliseconds> sleeps;
    RetryPolicy p{.max_retries = 3, .interval_start = 10ms, .interval_step = 10ms, .interval_max = 25ms};
    p.errback = [&](const std::exception_ptr&, std::chrono::milliseconds s) { sleeps.push_back(s); };
    auto fn = [&] {
        ++calls;
        return fail_with(std::make_exception_ptr(squall::TimeoutError("attempt " + std::to_string(calls))));
    };
    auto t0 = loop.time();
    auto task = retry_over_time(loop, fn, p);
    auto e = co_await test::error_of(std::move(task));
    CHECK(calls == 4);
    REQUIRE(test::holds<squall::TimeoutError>(e));
    CHECK(describe(e) == "attempt 4");
    CHECK(sleeps == std::vector<std::chrono::milliseconds>{10ms, 20ms, 25ms});
    CHECK(loop.time() - t0 >= 55ms);
}

SQUALL_TEST_CASE("retry_over_time with several brokers sleeps only after a full pass", 5s) {
    int calls = 0;
    std::vector<std::chrono::milliseconds> sleeps;
    RetryPolicy p{.max_retries = 5, .interval_start = 10ms, .interval_step = 10ms, .interval_max = 100ms};
    p.errback = [&](const std::exception_ptr&, std::chrono::milliseconds s) { sleeps.push_back(s); };
    auto fn = [&] {
        ++calls;
        return fail_with(std::make_exception_ptr(squall::TimeoutError("down")));
    };
    auto task = retry_over_time(loop, fn, p, 3);
    auto e = co_await test::error_of(std::move(task));
    CHECK(calls == 6);
    CHECK(sleeps == std::vector<std::chrono::milliseconds>{0ms, 0ms, 10ms, 0ms, 0ms});
    CHECK(e != nullptr);
}

SQUALL_TEST_CASE("retry_over_time stops at the timeout and never sleeps past it", 5s) {
    int calls = 0;
    RetryPolicy p{.interval_start = 40ms, .interval_step = 0ms, .interval_max = 40ms, .timeout = 100ms};
    auto fn = [&] {
        ++calls;
        return fail_with(std::make_exception_ptr(squall::TimeoutError("down")));
    };
    auto t0 = loop.time();
    auto task = retry_over_time(loop, fn, p);
    auto e = co_await test::error_of(std::move(task));
    auto took = loop.time() - t0;
    CHECK(e != nullptr);
    CHECK(calls >= 3);
    CHECK(calls <= 5);
    CHECK(took >= 100ms);
    CHECK(took < 200ms);
}

SQUALL_TEST_CASE("retry_over_time does not retry errors a reconnect cannot fix", 5s) {
    int calls = 0;
    auto fn = [&] {
        ++calls;
        return fail_with(std::make_exception_ptr(squall::UsageError("bad call")));
    };
    RetryPolicy p{.max_retries = 5};
    auto task = retry_over_time(loop, fn, p);
    auto e = co_await test::error_of(std::move(task));
    CHECK(calls == 1);
    CHECK(test::holds<squall::UsageError>(e));
}

SQUALL_TEST_CASE("retry_over_time returns the first success", 5s) {
    int calls = 0;
    auto fn = [&]() -> squall::Task<int> {
        if (++calls < 3) throw squall::TimeoutError("not yet");
        co_return 42;
    };
    RetryPolicy p{.interval_start = 1ms, .interval_step = 1ms};
    auto task = retry_over_time(loop, fn, p);
    int v = co_await std::move(task);
    CHECK(v == 42);
    CHECK(calls == 3);
}

SQUALL_TEST_CASE("retry_over_time without limits still lets the loop run: a 100 ms timer keeps firing", 20s) {
    // Attempts that fail without suspending, zero intervals, no max_retries and no timeout: a retry storm.
    // Every retry yields to the loop, so the timer fires; the storm ends once it fired three times (or,
    // were the loop starved, after 200000 attempts).
    int ticks = 0, calls = 0;
    squall::PeriodicCallback timer(
        loop, [&] { ++ticks; }, 100ms);
    timer.start();
    RetryPolicy p{.interval_start = 0ms, .interval_step = 0ms, .interval_max = 0ms};
    auto fn = [&] {
        ++calls;
        if (ticks >= 3 || calls >= 200000)
            return fail_with(std::make_exception_ptr(squall::UsageError("storm over")));
        return fail_with(std::make_exception_ptr(squall::TimeoutError("recoverable")));
    };
    auto task = retry_over_time(loop, fn, p);
    auto e = co_await test::error_of(std::move(task));
    timer.stop();
    CHECK(test::holds<squall::UsageError>(e));
    CHECK_MESSAGE(ticks >= 3, calls << " attempts ran while the timer fired " << ticks << " times");
    CHECK(calls < 200000);
}
