// bench_amqp_recovery_squall: how long a messaging::Consumer on a BrokerConnection needs to consume
// again after the broker restarts (the issue-6 figure "recovery time from broker restart to the first
// consumed message").
//
//   bench_amqp_recovery_squall --backend epoll|uring --url U --stop-cmd CMD --start-cmd CMD
//                              [--queue NAME] [--retry-interval-ms 100] [--timeout-s 180]
//
//   e.g. --stop-cmd 'scripts/rabbitmq stop --name squall-test' --start-cmd 'scripts/rabbitmq start --name
//   squall-test'
//
// Setup: a BrokerConnection to U declares a durable queue and a Consumer (no_ack) consumes it; one message
// through it proves the consumer runs. Then a thread runs CMD stop and, once it returns, CMD start, while
// the loop goes on (recovery attempts run during the start, as they would in production). The clock
// starts when the stop command returns (the broker is down) and stops at the first message the
// consumer receives after the restart. Once the start command returns, a separate plain amqp::Connection
// (reconnecting every 10 ms until the broker accepts) publishes one message to the queue every 10 ms, so
// the first consumed message comes at most ~10 ms after both the broker and the consumer are back.
//
// Recovery retries every --retry-interval-ms (BrokerOptions::recovery_policy with a fixed interval): the
// figure measures squall's reconnect + topology + re-consume path, not kombu's default back-off (2 s,
// +2 s, ...), which would add up to one whole interval.
//
// Prints JSON lines (DESIGN.md section 8): recovery_ms (stop returned -> first consumed message),
// broker_start_ms (stop returned -> start command returned), after_start_ms (start command returned
// -> first consumed message) and consumer_recovered_ms (stop returned -> on_connection_recovered: the
// consumer is back; `scripts/rabbitmq start` returns only after `rabbitmqctl await_startup`, so this can
// come before the start command returns), and a human line on stderr.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "bench/support/squall.hpp"
#include "squall/amqp/amqp.hpp"
#include "squall/amqp/messaging/messaging.hpp"
#include "squall/ioloop/async.hpp"

namespace {

namespace amqp = squall::amqp;
namespace messaging = squall::amqp::messaging;

constexpr auto kPublishEvery = std::chrono::milliseconds(10);
constexpr const char* kAfterRestart = "after-restart-";

struct Args {
    std::string url, stop_cmd, start_cmd, queue;
    long retry_interval_ms = 100;
    long timeout_s = 180;
};

// Monotonic seconds at which each phase ended, as seen by the loop's thread.
struct Timeline {
    double stop_returned = 0, start_returned = 0, first_consumed = 0, recovered = 0;
    long lost = 0, recoveries = 0, published = 0;
};

// Runs a shell command; a failing command ends the benchmark (its figure would be meaningless).
void run_command(const std::string& what, const std::string& cmd) {
    int rc = std::system(cmd.c_str());
    if (rc != 0)
        bench::die("bench_amqp_recovery_squall: " + what + " command failed (" + std::to_string(rc) +
                   "): " + cmd);
}

// Publishes "after-restart-<n>" every kPublishEvery on its own connection until `done`, reconnecting
// (every kPublishEvery) while the broker does not accept yet.
squall::Task<void> publish_until(squall::IOLoop& loop, std::string url, std::string queue,
                                 std::shared_ptr<bool> done, Timeline& t) {
    std::shared_ptr<amqp::Connection> conn;
    std::shared_ptr<amqp::Channel> ch;
    while (!*done) {
        if (!ch || ch->is_closed()) {
            try {
                conn = co_await amqp::Connection::open(loop, url);
                ch = co_await conn->channel();
            } catch (const std::exception&) {
                ch = nullptr;
            }
        }
        if (ch && ch->is_open()) {
            ch->basic_publish("", queue, kAfterRestart + std::to_string(t.published));
            ++t.published;
        }
        co_await squall::sleep(loop, kPublishEvery);
    }
    if (conn && conn->is_open()) co_await conn->close();
}

// Recovery every --retry-interval-ms, fixed; losses and recoveries are counted in the timeline.
messaging::BrokerOptions recovery_options(const Args& args, Timeline& t) {
    messaging::BrokerOptions options;
    const auto interval = std::chrono::milliseconds(args.retry_interval_ms);
    options.recovery_policy.interval_start = interval;
    options.recovery_policy.interval_step = std::chrono::milliseconds(0);
    options.recovery_policy.interval_max = interval;
    options.on_connection_lost = [&t](const std::exception_ptr&) { ++t.lost; };
    options.on_connection_recovered = [&t] {
        ++t.recoveries;
        t.recovered = bench::now_s(CLOCK_MONOTONIC);
    };
    return options;
}

// Declares the queue durable (it survives the restart) and empties it.
squall::Task<void> declare_durable_queue(messaging::BrokerConnection& broker, const std::string& queue) {
    auto ch = co_await broker.channel();
    amqp::QueueDeclareOptions durable{.durable = true};  // named: GCC 12 and temporaries in co_await
    co_await ch->queue_declare(queue, std::move(durable));
    co_await ch->queue_purge(queue);
    co_await ch->close();
}

// The consumer runs: one message goes through before the restart.
squall::Task<void> check_consumer_runs(messaging::BrokerConnection& broker, messaging::Consumer& consumer,
                                       const std::string& queue) {
    auto ch = co_await broker.channel();
    ch->basic_publish("", queue, "before-restart");
    messaging::Message m = co_await squall::with_timeout(std::chrono::seconds(10), consumer.next());
    if (m.body() != "before-restart") throw std::runtime_error("unexpected message before the restart");
    co_await ch->close();
}

// The commands block: a thread runs them and reports back through add_callback (thread-safe), setting
// `stopped` when the stop command returned and `started` when the start command did.
std::thread run_commands(squall::IOLoop& loop, const Args& args, Timeline& t, squall::Promise<void> stopped,
                         squall::Promise<void> started) {
    return std::thread([&loop, &args, &t, sp = std::move(stopped), st = std::move(started)]() mutable {
        run_command("stop", args.stop_cmd);
        const double stop_returned = bench::now_s(CLOCK_MONOTONIC);
        loop.add_callback([&t, stop_returned, p = std::move(sp)]() mutable {
            t.stop_returned = stop_returned;
            p.set_value();
        });
        run_command("start", args.start_cmd);
        const double start_returned = bench::now_s(CLOCK_MONOTONIC);
        loop.add_callback([&t, start_returned, p = std::move(st)]() mutable {
            t.start_returned = start_returned;
            p.set_value();
        });
    });
}

// Waits for the first message published after the restart, with the publisher running meanwhile.
squall::Task<void> await_first_after_restart(squall::IOLoop& loop, const Args& args, Timeline& t,
                                             messaging::Consumer& consumer) {
    auto done = std::make_shared<bool>(false);
    auto publisher = squall::spawn(loop, publish_until(loop, args.url, args.queue, done, t));
    for (;;) {
        messaging::Message m = co_await consumer.next();
        if (m.body().rfind(kAfterRestart, 0) == 0) break;
    }
    t.first_consumed = bench::now_s(CLOCK_MONOTONIC);
    *done = true;
    co_await std::move(publisher);
}

squall::Task<void> delete_queue(messaging::BrokerConnection& broker, const std::string& queue) {
    auto ch = co_await broker.channel();
    co_await ch->queue_delete(queue);
    co_await ch->close();
}

squall::Task<void> run(squall::IOLoop& loop, const Args& args, Timeline& t) {
    messaging::BrokerOptions options = recovery_options(args, t);
    auto broker = co_await messaging::BrokerConnection::open(loop, args.url, options);

    messaging::Queue queue(args.queue);  // durable (QueueOptions' default): it survives the restart
    co_await declare_durable_queue(*broker, args.queue);
    messaging::ConsumerOptions consumer_options;
    consumer_options.no_ack = true;
    messaging::Consumer consumer(broker, {queue}, consumer_options);
    co_await consumer.consume();
    co_await check_consumer_runs(*broker, consumer, args.queue);

    squall::Promise<void> stopped_promise, started_promise;
    auto stopped = stopped_promise.get_future();
    auto started = started_promise.get_future();
    std::thread commands =
        run_commands(loop, args, t, std::move(stopped_promise), std::move(started_promise));
    struct Joiner {
        std::thread& th;
        ~Joiner() {
            if (th.joinable()) th.join();
        }
    } joiner{commands};

    co_await std::move(stopped);
    co_await std::move(started);
    co_await await_first_after_restart(loop, args, t, consumer);

    co_await consumer.cancel();
    co_await delete_queue(*broker, args.queue);
    co_await broker->close();
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(
        argc, argv,
        {"--backend", "--url", "--stop-cmd", "--start-cmd", "--queue", "--retry-interval-ms", "--timeout-s"});
    const std::string backend = opts.text("--backend", "epoll");
    Args args;
    args.url = opts.text("--url");
    args.stop_cmd = opts.text("--stop-cmd");
    args.start_cmd = opts.text("--start-cmd");
    args.queue = opts.text("--queue", "bench-recovery-" + std::to_string(::getpid()));
    args.retry_interval_ms = opts.integer("--retry-interval-ms", args.retry_interval_ms);
    args.timeout_s = opts.integer("--timeout-s", args.timeout_s);
    if (args.url.empty() || args.stop_cmd.empty() || args.start_cmd.empty() || args.retry_interval_ms < 1 ||
        args.timeout_s < 1)
        bench::die(
            "usage: bench_amqp_recovery_squall --backend epoll|uring --url U --stop-cmd CMD --start-cmd CMD "
            "[--queue NAME] [--retry-interval-ms 100] [--timeout-s 180]");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        Timeline t;
        loop.run_sync(run(loop, args, t), std::chrono::seconds(args.timeout_s));
        const std::string impl = bench::impl_name(loop);
        const std::string params =
            "\"retry_interval_ms\": " + std::to_string(args.retry_interval_ms) +
            ", \"publish_every_ms\": " + std::to_string(static_cast<long>(kPublishEvery.count()));
        auto line = [&](const char* metric, double seconds) {
            bench::print_result("amqp_recovery", impl, params, metric, seconds * 1e3, "ms");
        };
        const double recovery = t.first_consumed - t.stop_returned;
        const double broker_start = t.start_returned - t.stop_returned;
        const double after_start = t.first_consumed - t.start_returned;
        line("recovery_ms", recovery);
        line("broker_start_ms", broker_start);
        line("after_start_ms", after_start);
        line("consumer_recovered_ms", t.recovered - t.stop_returned);
        std::fflush(stdout);
        std::fprintf(stderr,
                     "%s recovery: first message consumed %.1f ms after the broker stopped (start command "
                     "took %.1f ms, then %.1f ms; connection lost %ld time(s), recovered %ld time(s), "
                     "recovered %.1f ms after start returned; %ld messages published after the restart)\n",
                     impl.c_str(), recovery * 1e3, broker_start * 1e3, after_start * 1e3, t.lost,
                     t.recoveries, (t.recovered - t.start_returned) * 1e3, t.published);
    } catch (const std::exception& e) {
        bench::die(std::string("bench_amqp_recovery_squall: ") + e.what());
    }
    return 0;
}
