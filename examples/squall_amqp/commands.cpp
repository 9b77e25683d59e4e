// squall-amqp's commands: publish, consume, get, rpc, declare.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <iterator>
#include <string>

#include "examples/squall_amqp/cli.hpp"
#include "squall/amqp/amqp.hpp"
#include "squall/amqp/rpc.hpp"
#include "squall/ioloop/async.hpp"

namespace squall_amqp {

using namespace squall;
using namespace squall::amqp;

namespace {

// "published 12,345 messages, 23,456 msg/s" on stderr, redrawn in place at most 5 times a second, when
// stderr is a terminal (and not --quiet); a final line at the end.
class RateDisplay {
public:
    RateDisplay(const char* verb, bool enabled) : verb_(verb), enabled_(enabled && ::isatty(2)) {}
    void add(std::uint64_t n = 1) {
        count_ += n;
        if (enabled_ && (count_ & 63) == 0) {
            auto now = Clock::now();
            if (now - last_ >= std::chrono::milliseconds(200)) {
                last_ = now;
                draw("\r");
            }
        }
    }
    void finish() {
        if (enabled_) draw("\r"), std::fputs("\n", stderr);
    }
    std::uint64_t count() const { return count_; }

private:
    using Clock = std::chrono::steady_clock;
    void draw(const char* prefix) {
        double s = std::chrono::duration<double>(Clock::now() - start_).count();
        std::fprintf(stderr, "%s%s %llu messages, %.0f msg/s   ", prefix, verb_,
                     static_cast<unsigned long long>(count_), s > 0 ? static_cast<double>(count_) / s : 0.0);
        std::fflush(stderr);
    }
    const char* verb_;
    bool enabled_;
    std::uint64_t count_ = 0;
    Clock::time_point start_ = Clock::now(), last_ = start_;
};

BasicProperties properties_of(const Cli& cli) {
    BasicProperties p;
    if (!cli.content_type.empty()) p.content_type = cli.content_type;
    if (!cli.correlation_id.empty()) p.correlation_id = cli.correlation_id;
    if (!cli.reply_to.empty()) p.reply_to = cli.reply_to;
    if (cli.persistent) p.delivery_mode = kDeliveryModePersistent;
    if (!cli.headers.empty()) {
        p.headers = FieldTable{};
        for (const auto& [k, v] : cli.headers) p.headers->set(k, v);
    }
    return p;
}

void print_message(const Cli& cli, const Delivery& m) {
    if (cli.verbose) {
        std::printf("exchange=%s routing_key=%s delivery_tag=%llu redelivered=%d", m.exchange.c_str(),
                    m.routing_key.c_str(), static_cast<unsigned long long>(m.delivery_tag), m.redelivered);
        const auto& p = m.properties;
        if (p.content_type) std::printf(" content_type=%s", p.content_type->c_str());
        if (p.correlation_id) std::printf(" correlation_id=%s", p.correlation_id->c_str());
        if (p.reply_to) std::printf(" reply_to=%s", p.reply_to->c_str());
        if (p.message_id) std::printf(" message_id=%s", p.message_id->c_str());
        if (p.delivery_mode) std::printf(" delivery_mode=%u", unsigned{*p.delivery_mode});
        if (p.headers) {
            for (const auto& [k, v] : *p.headers) {
                if (const auto* s = v.get_if<std::string>())
                    std::printf(" %s=%s", k.c_str(), s->c_str());
                else if (auto n = v.as_integer())
                    std::printf(" %s=%lld", k.c_str(), static_cast<long long>(*n));
                else
                    std::printf(" %s=<%c>", k.c_str(), v.type_letter());
            }
        }
        std::printf(" body_size=%zu\n", m.body.size());
    }
    std::fwrite(m.body.data(), 1, m.body.size(), stdout);
    std::fputc('\n', stdout);
}

std::vector<std::string> publish_bodies(const Cli& cli) {
    if (!cli.args.empty()) return cli.args;
    std::vector<std::string> bodies;
    if (cli.lines) {
        for (std::string line; std::getline(std::cin, line);) bodies.push_back(line);
    } else {
        bodies.emplace_back(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    return bodies;
}

Task<int> publish(Connection& conn, Channel& ch, const Cli& cli) {
    std::vector<std::string> bodies = publish_bodies(cli);
    BasicProperties props = properties_of(cli);
    long copies = cli.count < 0 ? 1 : cli.count;
    if (cli.confirm) co_await ch.confirm_select();
    RateDisplay rate("published", !cli.quiet);
    std::deque<Confirmation> window;  // confirm mode: at most 1,000 unconfirmed
    for (long c = 0; c < copies; ++c) {
        for (const auto& body : bodies) {
            if (cli.confirm) {
                while (window.size() >= 1000 || (!window.empty() && window.front().done())) {
                    co_await window.front();
                    window.pop_front();
                }
                window.push_back(ch.basic_publish(cli.exchange, cli.routing_key, body, props));
            } else {
                ch.basic_publish(cli.exchange, cli.routing_key, body, props);
                if ((rate.count() + 1) % 1000 == 0) co_await conn.stream()->flush();
            }
            rate.add();
        }
    }
    for (auto& c : window) co_await c;
    co_await conn.stream()->flush();
    rate.finish();
    co_return kExitOk;
}

Task<int> consume(Channel& ch, const Cli& cli) {
    std::string queue = cli.queue;
    if (queue.empty()) {  // amqp-consume style: a private queue bound to the exchange
        QueueDeclareOptions exclusive{.exclusive = true, .auto_delete = true};
        queue = (co_await ch.queue_declare("", std::move(exclusive))).queue;
        co_await ch.queue_bind(queue, cli.exchange, cli.routing_key);
    } else if (!cli.exchange.empty()) {
        co_await ch.queue_bind(queue, cli.exchange, cli.routing_key);
    }
    if (!cli.no_ack) {
        QosOptions qos{.prefetch_count = static_cast<uint16_t>(cli.prefetch)};
        co_await ch.basic_qos(qos);
    }
    ConsumeOptions options;
    options.no_ack = cli.no_ack;
    auto consumer = co_await ch.consume(queue, std::move(options));
    RateDisplay rate("consumed", !cli.quiet);
    for (long n = 0; cli.count < 0 || n < cli.count; ++n) {
        Delivery m = co_await consumer->next();
        print_message(cli, m);
        if (!cli.no_ack) ch.basic_ack(m.delivery_tag);
        rate.add();
    }
    std::fflush(stdout);
    co_await consumer->cancel();
    rate.finish();
    co_return kExitOk;
}

Task<int> get(Channel& ch, const Cli& cli) {
    long want = cli.count < 0 ? 1 : cli.count;
    long got = 0;
    for (; got < want; ++got) {
        std::optional<Delivery> m = co_await ch.basic_get(cli.queue, cli.no_ack);
        if (!m) break;
        print_message(cli, *m);
        if (!cli.no_ack) ch.basic_ack(m->delivery_tag);
    }
    std::fflush(stdout);
    co_return got == 0 && want > 0 ? kExitEmpty : kExitOk;
}

Task<int> rpc(const std::shared_ptr<Channel>& ch, const Cli& cli) {
    auto client = co_await RpcClient::create(ch);
    auto timeout = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(cli.timeout));
    BasicProperties props = properties_of(cli);  // named: the co_await temporaries rule (coro/task.hpp)
    Delivery reply;
    try {
        reply = co_await client->call_message(cli.routing_key, cli.args[0], timeout, std::move(props));
    } catch (const TimeoutError& e) {
        std::fprintf(stderr, "squall-amqp: %s\n", e.what());
        co_return kExitTimeout;
    }
    print_message(cli, reply);
    std::fflush(stdout);
    co_return kExitOk;
}

Task<int> declare(Channel& ch, const Cli& cli) {
    const std::string& kind = cli.args[0];
    if (kind == "queue") {
        QueueDeclareOptions o{.passive = cli.passive,
                              .durable = cli.durable,
                              .exclusive = cli.exclusive,
                              .auto_delete = cli.auto_delete};
        std::string name = cli.args.size() > 1 ? cli.args[1] : std::string();  // "": server-named
        auto r = co_await ch.queue_declare(std::move(name), std::move(o));
        std::printf("%s messages=%u consumers=%u\n", r.queue.c_str(), r.message_count, r.consumer_count);
    } else if (kind == "exchange") {
        ExchangeDeclareOptions o{
            .passive = cli.passive, .durable = cli.durable, .auto_delete = cli.auto_delete};
        co_await ch.exchange_declare(cli.args[1], cli.type, std::move(o));
        std::printf("%s (%s)\n", cli.args[1].c_str(), cli.type.c_str());
    } else {
        co_await ch.queue_bind(cli.queue, cli.exchange, cli.routing_key);
        std::printf("%s <- %s [%s]\n", cli.queue.c_str(), cli.exchange.c_str(), cli.routing_key.c_str());
    }
    co_return kExitOk;
}

Task<int> dispatch(Connection& conn, const std::shared_ptr<Channel>& ch, const Cli& cli) {
    if (cli.command == "publish") co_return co_await publish(conn, *ch, cli);
    if (cli.command == "consume") co_return co_await consume(*ch, cli);
    if (cli.command == "get") co_return co_await get(*ch, cli);
    if (cli.command == "rpc") co_return co_await rpc(ch, cli);
    co_return co_await declare(*ch, cli);
}

}  // namespace

Task<int> run_command(IOLoop& loop, const Cli& cli) {
    auto conn = co_await Connection::open(loop, cli.url);
    auto ch = co_await conn->channel();
    int code = co_await dispatch(*conn, ch, cli);
    co_await conn->close();
    co_return code;
}

}  // namespace squall_amqp
