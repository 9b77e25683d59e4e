// bench_amqp_squall: squall's program of the amqp benchmark (bench/README.md, "amqp"); the same workloads
// as bench_amqp_librabbitmq.c.
//
//   bench_amqp_squall --backend epoll|uring --url U --workload publish|confirm|consume --messages M
//                     [--size 100]          (--count is a synonym of --messages)
//
// publish: basic_publish M times, awaiting the stream's flush after every 1,000 (so the frames of 1,000
//   publishes leave in one sendmsg and the client never queues more than that in memory); the clock stops
//   when a passive queue.declare on a second channel reports M messages (polled every millisecond).
// confirm: confirm mode, at most 1,000 unconfirmed Confirmations in flight; stops at the last confirm.
// consume: M messages are published first (not measured); then basic_qos(prefetch 1,000) and a callback
//   consumer with manual acks (one basic_ack per message); stops when the M-th ack has been written.
// Prints msgs_per_s and cpu_us_per_op (CLOCK_PROCESS_CPUTIME_ID over the measured interval).
#include <unistd.h>

#include <deque>
#include <string>

#include "bench/support/squall.hpp"
#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"

namespace {

constexpr long kBatch = 1000;
constexpr std::size_t kWindow = 1000;
constexpr uint16_t kPrefetch = 1000;

struct Args {
    std::string url, workload;
    long messages = 0, size = 100;
};

struct Result {
    double elapsed = 0, cpu = 0;
};

squall::Task<void> publish_batched(squall::amqp::Connection& conn, squall::amqp::Channel& ch,
                                   const std::string& queue, const std::string& body, long n) {
    for (long i = 0; i < n; ++i) {
        ch.basic_publish("", queue, body);
        if ((i + 1) % kBatch == 0) co_await conn.stream()->flush();
    }
    co_await conn.stream()->flush();
}

squall::Task<void> wait_depth(squall::IOLoop& loop, squall::amqp::Channel& poll, const std::string& queue,
                              long n) {
    for (;;) {
        squall::amqp::QueueDeclareOptions passive{.passive = true};
        auto r = co_await poll.queue_declare(queue, std::move(passive));
        if (static_cast<long>(r.message_count) >= n) co_return;
        co_await squall::sleep(loop, std::chrono::milliseconds(1));
    }
}

squall::Task<void> run(squall::IOLoop& loop, const Args& args, Result& result) {
    using namespace squall::amqp;
    auto conn = co_await Connection::open(loop, args.url);
    auto ch = co_await conn->channel();
    auto poll = co_await conn->channel();
    std::string queue = "bench-squall-" + std::to_string(::getpid());
    co_await ch->queue_declare(queue);
    std::string body(static_cast<std::size_t>(args.size), 'x');
    const long n = args.messages;
    double t0 = 0, cpu0 = 0;
    auto start_clock = [&] {
        t0 = bench::now_s(CLOCK_MONOTONIC);
        cpu0 = bench::now_s(CLOCK_PROCESS_CPUTIME_ID);
    };

    if (args.workload == "publish") {
        start_clock();
        co_await publish_batched(*conn, *ch, queue, body, n);
        co_await wait_depth(loop, *poll, queue, n);
    } else if (args.workload == "confirm") {
        co_await ch->confirm_select();
        std::deque<Confirmation> window;
        start_clock();
        for (long i = 0; i < n; ++i) {
            if (window.size() >= kWindow) {
                co_await window.front();
                window.pop_front();
                // Confirms come in multiple-acks: drop every one already settled before publishing on.
                while (!window.empty() && window.front().done()) {
                    co_await window.front();  // rethrows a nack
                    window.pop_front();
                }
            }
            window.push_back(ch->basic_publish("", queue, body));
        }
        for (auto& c : window) co_await c;
    } else {
        co_await publish_batched(*conn, *ch, queue, body, n);
        co_await wait_depth(loop, *poll, queue, n);
        QosOptions qos{.prefetch_count = kPrefetch};
        co_await ch->basic_qos(qos);
        squall::Promise<void> all_received;
        long received = 0;
        bool wrong_size = false;
        Channel* channel = ch.get();
        start_clock();
        DeliveryCallback on_message = [&](Delivery&& m) {
            if (static_cast<long>(m.body.size()) != args.size) wrong_size = true;
            channel->basic_ack(m.delivery_tag);
            if (++received == n) all_received.set_value();
        };
        auto consumer = co_await ch->basic_consume(queue, std::move(on_message));
        co_await all_received.get_future();
        co_await conn->stream()->flush();
        if (wrong_size) throw std::runtime_error("a delivered body has the wrong size");
        co_await consumer->cancel();
    }
    result.elapsed = bench::now_s(CLOCK_MONOTONIC) - t0;
    result.cpu = bench::now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    co_await poll->queue_delete(queue);
    co_await conn->close();
}

}  // namespace

int main(int argc, char** argv) {
    bench::Options opts(argc, argv, {"--backend", "--url", "--workload", "--messages", "--count", "--size"});
    const std::string backend = opts.text("--backend", "epoll");
    Args args;
    args.url = opts.text("--url");
    args.workload = opts.text("--workload");
    args.messages = opts.integer("--messages", opts.integer("--count", 0));  // --count: a synonym
    args.size = opts.integer("--size", 100);
    if (args.url.empty() || args.messages < 1 || args.size < 0 ||
        (args.workload != "publish" && args.workload != "confirm" && args.workload != "consume"))
        bench::die(
            "usage: bench_amqp_squall --backend epoll|uring --url U --workload publish|confirm|consume "
            "--messages M [--size 100]");
    try {
        squall::IOLoop loop(bench::parse_backend(backend));
        Result r;
        loop.run_sync(run(loop, args, r));
        std::string impl = bench::impl_name(loop);
        double n = static_cast<double>(args.messages);
        const std::string bench_name = "amqp_" + args.workload;
        const std::string params = "\"workload\": \"" + args.workload +
                                   "\", \"messages\": " + std::to_string(args.messages) +
                                   ", \"size\": " + std::to_string(args.size);
        bench::print_result(bench_name.c_str(), impl, params, "msgs_per_s", n / r.elapsed, "1/s");
        bench::print_result(bench_name.c_str(), impl, params, "cpu_us_per_op", r.cpu * 1e6 / n, "us");
        std::fprintf(stderr, "%s %s: %ld messages in %.3f s, %.0f msgs/s, %.3f us CPU/msg\n", impl.c_str(),
                     args.workload.c_str(), args.messages, r.elapsed, n / r.elapsed, r.cpu * 1e6 / n);
    } catch (const std::exception& e) {
        bench::die(std::string("bench_amqp_squall: ") + e.what());
    }
    return 0;
}
