// Publisher backpressure against the real broker, frozen (SIGSTOP of its VM: it stops reading, its
// sockets stay open): a publisher writing 64 KiB messages every millisecond for 5 s keeps the connection's
// unsent bytes within write_high_water plus one message, its peak RSS within the bound plus a constant
// (printed: "peak RSS"), its publishes time out (TimeoutError) instead of queueing without bound, and
// after the broker thaws every publish that returned without error is in the queue.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;  // ASan's quarantine keeps freed bodies resident: RSS says nothing then
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"), 0 when unreadable.
size_t status_bytes(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
    }
    return 0;
}

// Resets VmHWM (the peak resident set) to the current RSS.
void reset_peak_rss() {
    std::ofstream("/proc/self/clear_refs") << "5";
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("backpressure: a frozen broker bounds a publisher's memory to write_high_water", 60s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto options = ConnectionOptions::from_url(url);
        options.heartbeat = 0s;  // the frozen broker must not end the connection: only backpressure bounds it
        const size_t high_water = options.write_high_water;
        CHECK(high_water == 4u * 1024 * 1024);  // the documented default
        auto conn = co_await Connection::open(loop, options);
        auto ch = co_await conn->channel();
        const std::string q = unique_name("backpressure");
        QueueDeclareOptions qo{.auto_delete = false};
        co_await ch->queue_declare(q, qo);
        const std::string body(64 * 1024, 'x');

        const size_t rss_before = status_bytes("VmRSS");
        reset_peak_rss();
        size_t max_unsent = 0;
        int published = 0, timeouts = 0;
        {
            testing::FrozenBroker frozen;
            const TimePoint end = loop.time() + 5s;
            while (loop.time() < end) {
                BasicPublishOptions po;
                po.timeout = 200ms;
                auto publish = ch->publish("", q, body, {}, po);
                std::exception_ptr e = co_await error_of(std::move(publish));
                if (!e) {
                    ++published;
                } else {
                    REQUIRE_MESSAGE(holds<TimeoutError>(e), test::what_of<std::exception>(e));
                    ++timeouts;
                }
                max_unsent = std::max(max_unsent, conn->unsent_bytes());
                co_await squall::sleep(loop, 1ms);
            }
            // basic_publish's Confirmation waits the same way: bounded, TimeoutError, the message queued.
            BasicPublishOptions po;
            po.timeout = 100ms;
            Confirmation queued = ch->basic_publish("", q, body, {}, po);
            std::exception_ptr e = co_await error_of(std::move(queued));
            CHECK_MESSAGE(holds<TimeoutError>(e), test::what_of<std::exception>(e));
            ++published;
        }
        const size_t peak = status_bytes("VmHWM");
        const size_t growth = peak > rss_before ? peak - rss_before : 0;
        std::printf(
            "backpressure: peak RSS %.1f MiB (%.1f MiB over the %.1f MiB before; write_high_water %.1f MiB),"
            " %d publishes written, %d timed out, at most %zu bytes unsent%s\n",
            peak / 1048576.0, growth / 1048576.0, rss_before / 1048576.0, high_water / 1048576.0, published,
            timeouts, max_unsent, kAsan ? " (ASan: RSS not checked)" : "");
        std::fflush(stdout);
        CHECK(timeouts > 0);
        CHECK(max_unsent <= high_water + body.size() + 1024);
        if (!kAsan) CHECK(growth <= high_water + 48u * 1024 * 1024);

        // Thawed: the buffer drains, and every publish that returned without error reached the queue.
        co_await conn->flush(30s);
        CHECK(conn->unsent_bytes() == 0);
        co_await ch->confirm_select();
        co_await ch->basic_publish("", q, "last");
        QueueDeclareOptions passive{.passive = true};
        auto r = co_await ch->queue_declare(q, passive);
        CHECK(r.message_count == static_cast<uint32_t>(published + 1));
        co_await ch->queue_delete(q);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("backpressure: wait_writable returns at once under write_high_water", 10s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        CHECK_FALSE(conn->over_high_water());
        co_await conn->wait_writable(1s);
        co_await conn->flush(1s);
        CHECK(conn->unsent_bytes() == 0);
        co_await conn->close();
        auto e = co_await error_of(conn->wait_writable());
        CHECK(holds<ConnectionClosedError>(e));
    }
}
