// connection.blocked / unblocked against the real broker: a memory alarm (vm_memory_high_watermark set
// to almost nothing) makes RabbitMQ block publishing connections; Channel::publish waits for unblocked
// (or fails with TimeoutError after blocked_timeout) and the on_blocked / on_unblocked callbacks run.
//
// The alarm is broker-wide: while it is set every publisher on this broker stalls, so the test keeps it
// short and a guard always restores the default watermark (0.4), the test failing or not.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

// Raises RabbitMQ's memory alarm for its lifetime (restore() ends it early and checks that it ended).
class MemoryAlarm {
public:
    MemoryAlarm() {
        testing::rabbitmqctl({"set_vm_memory_high_watermark", "0.000001"});
        raised_ = true;
    }
    ~MemoryAlarm() {
        if (raised_) testing::try_rabbitmqctl({"set_vm_memory_high_watermark", "0.4"});
    }
    MemoryAlarm(const MemoryAlarm&) = delete;
    MemoryAlarm& operator=(const MemoryAlarm&) = delete;

    void restore() {
        raised_ = false;
        testing::rabbitmqctl({"set_vm_memory_high_watermark", "0.4"});
    }

private:
    bool raised_ = false;
};

// What the callbacks of one connection saw.
struct BlockedLog {
    std::vector<std::string> blocked_reasons;
    int unblocked = 0;
    Event blocked_event;
};

void record(Connection& conn, const std::shared_ptr<BlockedLog>& seen) {
    conn.on_blocked([seen](const std::string& reason) {
        seen->blocked_reasons.push_back(reason);
        seen->blocked_event.set();
    });
    conn.on_unblocked([seen] { ++seen->unblocked; });
}

// GCC 12 rejects braced lists of string literals inside coroutines: built here.
std::multiset<std::string> published_bodies() {
    return {"before-blocked", "while-blocked", "bounded-before-blocked"};
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE(
        "a memory alarm blocks publish until connection.unblocked; blocked_timeout bounds the wait", 60s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        const std::string queue = unique_name("blocked");

        // The consumer never publishes, so the broker never blocks it: it sees what the publishers sent.
        auto consumer_conn = co_await Connection::open(loop, url);
        auto consumer_ch = co_await consumer_conn->channel();
        QueueDeclareOptions exclusive{.exclusive = true};
        co_await consumer_ch->queue_declare(queue, std::move(exclusive));
        ConsumeOptions no_ack{.no_ack = true};
        auto consumer = co_await consumer_ch->consume(queue, std::move(no_ack));

        auto waiting = co_await Connection::open(loop, url);  // publish() waits without bound
        auto waiting_seen = std::make_shared<BlockedLog>();
        record(*waiting, waiting_seen);
        // No confirm mode on either publisher: basic_publish resolves once written, so a publish() that is
        // still pending proves the client itself waits for unblocked (not the broker withholding an ack).
        auto waiting_ch = co_await waiting->channel();

        ConnectionOptions bounded_options = ConnectionOptions::from_url(url);
        bounded_options.blocked_timeout = 400ms;
        auto bounded = co_await Connection::open(loop, std::move(bounded_options));
        auto bounded_seen = std::make_shared<BlockedLog>();
        record(*bounded, bounded_seen);
        auto bounded_ch = co_await bounded->channel();
        CHECK_FALSE(waiting->blocked());
        CHECK(waiting->blocked_reason().empty());

        MemoryAlarm alarm;
        // RabbitMQ blocks a connection when it publishes during the alarm: that message still gets in.
        waiting_ch->basic_publish("", queue, "before-blocked");
        co_await with_timeout(15s, waiting_seen->blocked_event.wait());
        CHECK(waiting->blocked());
        REQUIRE(waiting_seen->blocked_reasons.size() == 1);
        CHECK(waiting_seen->blocked_reasons[0] == waiting->blocked_reason());
        CHECK(waiting->blocked_reason().find("memory") != std::string::npos);  // "low on memory"
        CHECK(waiting_seen->unblocked == 0);

        Future<void> waited_publish = spawn(loop, waiting_ch->publish("", queue, "while-blocked"));
        co_await squall::sleep(loop, 300ms);
        CHECK_FALSE(waited_publish.done());

        bounded_ch->basic_publish("", queue, "bounded-before-blocked");
        co_await with_timeout(15s, bounded_seen->blocked_event.wait());
        REQUIRE(bounded->blocked());
        const auto t0 = loop.time();
        auto timed_out = co_await error_of(bounded_ch->publish("", queue, "never-sent"));
        const auto waited = loop.time() - t0;
        REQUIRE(timed_out != nullptr);  // publish() must not have gone through while blocked
        CHECK(holds<TimeoutError>(timed_out));
        CHECK(waited >= 390ms);
        CHECK(waited < 5s);
        CHECK(bounded->is_open());  // a timed-out publish leaves the connection usable
        CHECK_FALSE(waited_publish.done());

        alarm.restore();
        co_await with_timeout(15s, waiting->wait_unblocked());
        CHECK_FALSE(waiting->blocked());
        CHECK(waiting->blocked_reason().empty());
        CHECK(waiting_seen->unblocked == 1);
        co_await with_timeout(15s, std::move(waited_publish));  // written once unblocked arrived
        co_await with_timeout(15s, bounded->wait_unblocked());
        CHECK(bounded_seen->unblocked == 1);

        std::multiset<std::string> bodies;
        for (int i = 0; i < 3; ++i) {
            Delivery m = co_await with_timeout(10s, consumer->next());
            bodies.insert(m.body);
        }
        CHECK(bodies == published_bodies());

        co_await bounded->close();
        co_await waiting->close();
        co_await consumer_conn->close();
    }
}
