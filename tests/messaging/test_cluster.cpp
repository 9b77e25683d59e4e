// The distributed tests: a 3-node RabbitMQ cluster with a quorum queue.
// - The node the client is connected to stops during a confirmed publish stream; the client fails over and
//   no confirmed message is lost.
// - A consumer on the queue's leader node keeps consuming across that node's stop: it fails over, re-consumes
//   on the new leader, and every message arrives, none lost; a message delivered again is one that was
//   unsettled at the stop (redelivered, at most the prefetch window), and no message is acked twice.
// They run with SQUALL_SOAK=1 (scripts/test --soak, which starts the cluster of `scripts/rabbitmq cluster
// start` when this suite is selected; .ci/run runs them as a step of their own). Label "cluster".
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <squall/testing.hpp>
#include <sstream>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

namespace {

squall::Task<void> cluster_failover(squall::IOLoop& loop) {
    SQUALL_AMQP_CLUSTER_OR_RETURN(urls, names);
    int lost = 0, recovered = 0;
    auto options = counting_options(lost, recovered);
    auto conn = co_await BrokerConnection::open(loop, urls, options);
    std::size_t victim = 0;
    for (std::size_t i = 0; i < urls.size(); ++i)
        if (urls[i].find(conn->current_broker()) != std::string::npos) victim = i;

    Queue q{unique_name("quorum"), {}, "", {.queue_type = std::string("quorum")}};
    Producer producer(conn, ProducerOptions{.routing_key = q.name, .retry = true});
    PublishOptions po{.declare = {q}};
    po.retry_policy =
        RetryPolicy{.interval_start = 200ms, .interval_step = 200ms, .interval_max = 1s, .timeout = 120s};
    std::set<int> confirmed;
    std::optional<squall::Future<squall::testing::CommandResult>> stop;
    int after = 0, id = 0;
    while (!stop || !stop->done() || after < 300) {
        std::vector<squall::Future<void>> window;
        std::vector<int> ids;
        for (int i = 0; i < 20; ++i, ++id) {
            window.push_back(squall::start(producer.publish(std::to_string(id), po)));
            ids.push_back(id);
        }
        for (std::size_t i = 0; i < window.size(); ++i) {
            co_await window[i];
            confirmed.insert(ids[i]);
            if (stop && stop->done()) ++after;
        }
        if (!stop && confirmed.size() >= 300)
            stop = rabbitmq_script_async(loop, {"stop", "--name", names[victim]});
    }
    auto stopped = co_await *stop;
    REQUIRE_MESSAGE(stopped.exit_code == 0, stopped.output);
    CHECK(lost >= 1);
    CHECK(recovered >= 1);
    CHECK(urls[victim].find(conn->current_broker()) == std::string::npos);

    Consumer consumer(conn, {q}, {.prefetch_count = 200});
    std::set<int> consumed;
    while (consumed.size() < confirmed.size()) {
        std::optional<Message> m;
        try {
            m = co_await squall::with_timeout(10s, consumer.next());
        } catch (const squall::TimeoutError&) {
        }
        if (!m) break;
        consumed.insert(std::stoi(m->body()));
        m->ack();
    }
    std::size_t missing = 0;
    for (int c : confirmed) missing += consumed.count(c) == 0;
    CHECK_MESSAGE(missing == 0, missing << " of " << confirmed.size() << " confirmed messages lost");
    auto ch = co_await conn->default_channel();
    co_await ch->queue_delete(q.name);
    co_await conn->close();
    // Bring the node back into the cluster for later runs.
    std::vector<std::string> start_args{"start", "--name", names[victim]};
    auto starting = rabbitmq_script_async(loop, start_args);
    auto started = co_await std::move(starting);
    CHECK_MESSAGE(started.exit_code == 0, started.output);
}

// The index (in `names`) of the node that leads quorum queue `queue`, asked of node `ask`.
std::size_t queue_leader(const std::vector<std::string>& names, std::size_t ask, const std::string& queue) {
    auto out = squall::testing::rabbitmqctl(
        {"list_queues", "name", "leader", "--quiet", "--no-table-headers"}, names[ask]);
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(queue + "\t", 0) != 0) continue;
        for (std::size_t i = 0; i < names.size(); ++i)
            if (line.find(names[i] + "@") != std::string::npos) return i;
    }
    FAIL("no leader for queue " << queue << " in:\n" << out);
    return 0;
}

// What the consumer saw of each message id across the failover.
struct Tally {
    std::map<int, int> deliveries, acks;
    int redelivered_repeats = 0, plain_repeats = 0, ack_failures = 0;
};

// No message lost, repeats flagged redelivered and limited to the window unsettled at the stop.
void check_tally(Tally& t, int kTotal, int kPrefetch) {
    int missing = 0, over_acked = 0, acked_again = 0;
    for (int id = 0; id < kTotal; ++id) {
        missing += t.deliveries.count(id) == 0;
        over_acked += t.acks[id] > t.deliveries[id];  // a delivery acked twice
        // Acked on the old channel, but the ack did not reach the stopped node: it comes back
        // (redelivered) and is acked again. Only the window in flight at the stop may.
        acked_again += t.acks[id] > 1;
    }
    MESSAGE("consumer across the leader's stop: " << t.deliveries.size() << " messages, "
                                                  << t.redelivered_repeats << " redelivered again, "
                                                  << t.ack_failures << " acks refused on the lost channel");
    CHECK_MESSAGE(missing == 0, missing << " of " << kTotal << " messages never arrived");
    CHECK(t.plain_repeats == 0);                    // a repeat is always flagged redelivered
    CHECK(t.redelivered_repeats <= kPrefetch + 1);  // only the window unsettled at the stop comes back
    CHECK(over_acked == 0);
    CHECK(acked_again <= kPrefetch + 1);
}

// Everything was acked: the queue is empty (nothing ready, nothing unacked). Then the queue is deleted,
// both connections close and the stopped node starts again.
squall::Task<void> check_empty_and_restore(squall::IOLoop& loop, BrokerConnection& producer_conn,
                                           BrokerConnection& consumer_conn, const std::string& queue,
                                           const std::string& stopped_node) {
    auto ch = co_await producer_conn.default_channel();
    squall::amqp::QueueDeclareOptions passive{.passive = true};
    auto left = co_await ch->queue_declare(queue, passive);
    CHECK(left.message_count == 0u);
    co_await ch->queue_delete(queue);
    co_await producer_conn.close();
    co_await consumer_conn.close();
    std::vector<std::string> start_args{"start", "--name", stopped_node};
    auto starting = rabbitmq_script_async(loop, start_args);
    auto started = co_await std::move(starting);
    CHECK_MESSAGE(started.exit_code == 0, started.output);
}

squall::Task<void> cluster_consumer_failover(squall::IOLoop& loop) {
    SQUALL_AMQP_CLUSTER_OR_RETURN(urls, names);
    // The consumer connects to node 1 first and declares the queue there: its leader is that node
    // (RabbitMQ places a quorum queue's leader on the declaring node), checked below.
    int lost = 0, recovered = 0;
    auto options = counting_options(lost, recovered);
    auto consumer_conn = co_await BrokerConnection::open(loop, urls, options);
    Queue q{unique_name("quorum-consume"), {}, "", {.queue_type = std::string("quorum")}};
    auto declared = consumer_conn->maybe_declare(q);
    co_await std::move(declared);
    std::size_t leader = queue_leader(names, 0, q.name);
    REQUIRE_MESSAGE(urls[leader].find(consumer_conn->current_broker()) != std::string::npos,
                    "the consumer should be on the leader's node " << names[leader]);

    // The producer on another node, publishing with confirms (and retry across the election).
    std::vector<std::string> producer_urls;
    for (std::size_t i = 1; i <= urls.size(); ++i) producer_urls.push_back(urls[(leader + i) % urls.size()]);
    auto producer_conn = co_await BrokerConnection::open(loop, producer_urls, quick_options());
    Producer producer(producer_conn, ProducerOptions{.routing_key = q.name, .retry = true});
    PublishOptions po;
    po.retry_policy =
        RetryPolicy{.interval_start = 200ms, .interval_step = 200ms, .interval_max = 1s, .timeout = 120s};
    constexpr int kBefore = 200, kTotal = 400;
    auto publish_range = [&](int from, int to) -> squall::Task<void> {
        for (int id = from; id < to; id += 20) {
            std::vector<squall::Future<void>> window;
            for (int i = id; i < std::min(to, id + 20); ++i)
                window.push_back(squall::start(producer.publish(std::to_string(i), po)));
            for (auto& f : window) co_await f;
        }
    };
    auto first = publish_range(0, kBefore);
    co_await std::move(first);

    constexpr uint16_t kPrefetch = 20;
    Consumer consumer(consumer_conn, {q}, {.prefetch_count = kPrefetch});
    Tally tally;
    std::optional<squall::Future<squall::testing::CommandResult>> stop;
    std::optional<squall::Future<void>> rest;
    while (static_cast<int>(tally.deliveries.size()) < kTotal) {
        std::optional<Message> m;
        try {
            m = co_await squall::with_timeout(30s, consumer.next());
        } catch (const squall::TimeoutError&) {
        }
        if (!m) break;
        const int id = std::stoi(m->body());
        if (++tally.deliveries[id] > 1)
            (m->redelivered() ? tally.redelivered_repeats : tally.plain_repeats)++;
        try {
            m->ack();
            ++tally.acks[id];
        } catch (const squall::Error&) {
            ++tally.ack_failures;  // its channel is gone: the broker redelivers it
        }
        if (!stop && tally.deliveries.size() >= 100) {
            stop = rabbitmq_script_async(loop, {"stop", "--name", names[leader]});
            rest = squall::start(publish_range(kBefore, kTotal));
        }
    }
    REQUIRE(stop);
    auto stopped = co_await *stop;
    REQUIRE_MESSAGE(stopped.exit_code == 0, stopped.output);
    co_await *rest;
    CHECK(lost >= 1);
    CHECK(recovered >= 1);
    CHECK(urls[leader].find(consumer_conn->current_broker()) == std::string::npos);

    check_tally(tally, kTotal, kPrefetch);
    co_await consumer.cancel();
    co_await check_empty_and_restore(loop, *producer_conn, *consumer_conn, q.name, names[leader]);
}

}  // namespace

TEST_CASE("cluster: stopping the connected node loses no confirmed message on a quorum queue" *
          doctest::skip(!squall::testing::env_flag("SQUALL_SOAK"))) {
    squall::testing::run_test(squall::Backend::automatic, cluster_failover, std::chrono::seconds(240));
}

TEST_CASE("cluster: a consumer on a quorum queue keeps consuming across the leader's node stop" *
          doctest::skip(!squall::testing::env_flag("SQUALL_SOAK"))) {
    squall::testing::run_test(squall::Backend::automatic, cluster_consumer_failover,
                              std::chrono::seconds(240));
}
