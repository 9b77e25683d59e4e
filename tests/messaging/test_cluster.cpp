// The distributed test: a 3-node RabbitMQ cluster with a quorum queue; the node the client is connected
// to stops during a confirmed publish stream; the client fails over and no confirmed message is lost.
// Slow (node stop and restart, quorum leader election): runs only with SQUALL_SOAK=1 (scripts/test --soak),
// against the cluster of `scripts/rabbitmq cluster start` (SQUALL_AMQP_CLUSTER_URLS).
#include <doctest/doctest.h>

#include <set>
#include <squall/testing.hpp>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;

namespace {

squall::Task<void> cluster_failover(squall::IOLoop& loop) {
    auto urls = squall::testing::amqp_cluster_urls();
    auto names = squall::testing::rabbitmq_cluster_names();
    if (urls.empty()) co_return;
    REQUIRE(names.size() == urls.size());
    auto options = quick_options();
    int lost = 0, recovered = 0;
    options.on_connection_lost = [&](const std::exception_ptr&) { ++lost; };
    options.on_connection_recovered = [&] { ++recovered; };
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

}  // namespace

TEST_CASE("cluster: stopping the connected node loses no confirmed message on a quorum queue" *
          doctest::skip(!squall::testing::env_flag("SQUALL_SOAK"))) {
    squall::testing::run_test(squall::Backend::automatic, cluster_failover, std::chrono::seconds(240));
}
