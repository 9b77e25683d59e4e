// Declaring entities on a real broker: what gets declared, the maybe_declare cache and its reset.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "tests/messaging/messaging_test_util.hpp"

using namespace std::chrono_literals;
using namespace squall::amqp::messaging;
using namespace squall::amqp::messaging::test;
using squall::amqp::Channel;
using squall::amqp::Connection;

namespace {

// True when the queue exists (passive declare on a throwaway channel).
squall::Task<bool> queue_exists(std::shared_ptr<Connection> conn, std::string name) {
    auto ct = conn->channel();
    auto ch = co_await std::move(ct);
    squall::amqp::QueueDeclareOptions o;
    o.passive = true;
    auto t = ch->queue_declare(name, o);
    auto e = co_await error_of(std::move(t));
    if (ch->is_open()) co_await ch->close();
    co_return e == nullptr;
}

}  // namespace

SQUALL_TEST_CASE("declare makes the exchange, the queue and its bindings", 20s) {
    SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
    Exchange ex{unique_name("ex"), "topic", {.auto_delete = true}};
    Exchange other{unique_name("ex2"), "fanout", {.auto_delete = true}};
    QueueOptions qo{.exclusive = true, .bindings = {Binding{other, ""}}};
    Queue q{unique_name("q"), ex, "a.*", qo};
    auto t = declare(*ch, q);
    std::string name = co_await std::move(t);
    CHECK(name == q.name);
    // Routed through both bindings.
    co_await ch->confirm_select();
    co_await ch->basic_publish(ex.name, "a.b", "via topic");
    co_await ch->basic_publish(other.name, "", "via fanout");
    auto m1 = co_await ch->basic_get(name, true);
    auto m2 = co_await ch->basic_get(name, true);
    REQUIRE(m1);
    REQUIRE(m2);
    CHECK(m1->body == "via topic");
    CHECK(m2->body == "via fanout");
    co_await conn->close();
}

SQUALL_TEST_CASE("a server-named queue gets the broker's name", 20s) {
    SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
    Queue q{"", {}, "", {.exclusive = true}};
    auto t = declare(*ch, q);
    std::string name = co_await std::move(t);
    CHECK(name.rfind("amq.gen-", 0) == 0);
    co_await conn->close();
}

SQUALL_TEST_CASE("maybe_declare declares once per cache; '' and amq.* are never declared", 20s) {
    SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
    DeclarationCache cache;
    Queue q{unique_name("q"),
            Exchange(unique_name("ex"), "direct", {.auto_delete = true}),
            "k",
            {.exclusive = true}};
    auto t1 = maybe_declare(*ch, q, cache);
    CHECK((co_await std::move(t1)).declared);
    auto t2 = maybe_declare(*ch, q, cache);
    CHECK_FALSE((co_await std::move(t2)).declared);
    CHECK(cache.size() == 1);
    // amq.topic is a topic exchange: declaring it as fanout would close the channel (406).
    auto t3 = maybe_declare(*ch, Exchange("amq.topic", "fanout"), cache);
    CHECK_FALSE((co_await std::move(t3)).declared);
    auto t4 = maybe_declare(*ch, Exchange(""), cache);
    CHECK_FALSE((co_await std::move(t4)).declared);
    CHECK(ch->is_open());
    // An auto-delete exchange is declared every time (it may have vanished).
    Exchange ad{unique_name("ad"), "fanout", {.auto_delete = true}};
    auto t5 = maybe_declare(*ch, ad, cache);
    CHECK((co_await std::move(t5)).declared);
    auto t6 = maybe_declare(*ch, ad, cache);
    CHECK((co_await std::move(t6)).declared);
    cache.clear();
    auto t7 = maybe_declare(*ch, q, cache);
    CHECK((co_await std::move(t7)).declared);
    co_await conn->close();
}

SQUALL_TEST_CASE("BrokerConnection's cache is reset on reconnect and topology is redeclared", 30s) {
    SQUALL_AMQP_URL_OR_RETURN(url);
    std::string name = unique_name("conn");
    int lost = 0, recovered = 0;
    auto options = counting_options(lost, recovered, name);
    auto conn = co_await BrokerConnection::open(loop, url, options);
    Queue q{unique_name("q"),
            Exchange(unique_name("ex"), "direct", {.auto_delete = true}),
            "k",
            {.auto_delete = true}};
    Queue durable{unique_name("dq"), {}, "", {.durable = false}};
    auto d1 = conn->maybe_declare(durable);
    CHECK((co_await std::move(d1)).declared);
    auto d2 = conn->maybe_declare(durable);
    CHECK_FALSE((co_await std::move(d2)).declared);
    auto d3 = conn->maybe_declare(q);
    co_await std::move(d3);
    const auto gen = conn->generation();

    // Delete the queue behind the connection's back, then force a reconnect: recovery redeclares it.
    auto raw = co_await Connection::open(loop, url);
    auto rch = co_await raw->channel();
    co_await rch->queue_delete(durable.name);
    CHECK_FALSE(co_await queue_exists(raw, durable.name));
    std::string pid;
    for (int i = 0; i < 50 && pid.empty(); ++i) {
        pid = connection_pid(name);
        if (pid.empty()) co_await squall::sleep(loop, 100ms);
    }
    REQUIRE(!pid.empty());
    squall::testing::rabbitmqctl({"close_connection", pid, "squall test: reconnect"});
    for (int i = 0; i < 100 && recovered == 0; ++i) co_await squall::sleep(loop, 50ms);
    CHECK(lost == 1);
    CHECK(recovered == 1);
    CHECK(conn->generation() == gen + 1);
    CHECK(co_await queue_exists(raw, durable.name));
    CHECK(co_await queue_exists(raw, q.name));
    // The cache was rebuilt by the redeclaration: a further maybe_declare is a cache hit.
    auto d4 = conn->maybe_declare(durable);
    CHECK_FALSE((co_await std::move(d4)).declared);
    co_await rch->queue_delete(durable.name);
    co_await raw->close();
    co_await conn->close();
}
