// Channel methods against RabbitMQ: declarations, bindings, qos, consume/cancel, get, ack/nack/reject,
// recover, tx, flow, channel errors of each common code and the connection going on.
#include <doctest/doctest.h>

#include <set>
#include <squall/testing.hpp>
#include <sstream>

#include "squall/amqp/amqp.hpp"
#include "squall/coro/gather.hpp"
#include "squall/coro/start.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {

template <class E>
Task<void> expect_channel_error(std::shared_ptr<Channel> ch, std::exception_ptr e, uint16_t code) {
    REQUIRE_MESSAGE(holds<E>(e), test::what_of<std::exception>(e));
    try {
        std::rethrow_exception(e);
    } catch (const ChannelClosedError& err) {
        CHECK(err.reply_code() == code);
        CHECK(err.channel() == ch->id());
    }
    CHECK(ch->is_closed());
    CHECK(holds<E>(ch->close_reason()));
    // Later operations fail with the same error, the channel is not reopened.
    auto again = co_await error_of(exclusive_queue(*ch));
    CHECK(holds<E>(again));
}

// GCC 12 rejects braced FieldTable initializers with string literals inside coroutines ("array used as
// initializer"): build the tables in plain functions.
FieldTable max_length(int32_t n) {
    return FieldTable{{"x-max-length", n}};
}

// Publishes `n` messages to `queue` and consumes them with a callback that acks each one; returns once the
// callback has acked the last. Event resumes its waiter inline, so the caller goes on inside that callback,
// while the reader still holds the batch's acks back.
Task<std::shared_ptr<ChannelConsumer>> ack_all_in_callback(std::shared_ptr<Channel> ch, std::string queue,
                                                           int n) {
    QosOptions qos{.prefetch_count = 100};
    co_await ch->basic_qos(qos);
    for (int i = 0; i < n; ++i) ch->basic_publish("", queue, "m" + std::to_string(i));
    auto seen = std::make_shared<int>(0);
    auto done = std::make_shared<Event>();
    Channel* acker = ch.get();
    // Named first: GCC 12 destroys a lambda temporary inside a co_await expression twice.
    DeliveryCallback ack = [acker, seen, done, n](Delivery&& m) {
        acker->basic_ack(m.delivery_tag);
        if (++*seen == n) done->set();
    };
    auto consumer = co_await ch->basic_consume(queue, std::move(ack));
    co_await with_timeout(10s, done->wait());
    co_return consumer;
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("exchange and queue declare, bind, unbind, purge, delete", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        std::string ex = unique_name("ex"), ex2 = unique_name("ex2"), qn = unique_name("q");
        co_await ch->exchange_declare(ex, "direct");
        co_await ch->exchange_declare(ex2, "fanout");
        ExchangeDeclareOptions exchange_exists{.passive = true};
        co_await ch->exchange_declare(ex, "direct", exchange_exists);
        co_await ch->exchange_bind(ex2, ex, "k");
        // Options with heap-owning members are named before co_await: GCC 12 destroys an aggregate
        // temporary inside a co_await expression twice.
        QueueDeclareOptions limited{.auto_delete = false, .arguments = max_length(100)};
        auto q = co_await ch->queue_declare(qn, std::move(limited));
        CHECK(q.queue == qn);
        CHECK(q.message_count == 0);
        co_await ch->queue_bind(qn, ex2, "");
        // ex -(k)-> ex2 -> q
        ch->basic_publish(ex, "k", "one");
        ch->basic_publish(ex, "other", "dropped");
        ch->basic_publish(ex, "k", "two");
        auto first = co_await get_when_routed(loop, *ch, qn);
        REQUIRE(first);
        CHECK(first->body == "one");
        CHECK(first->exchange == ex);
        CHECK(first->routing_key == "k");
        CHECK(first->message_count == 1u);
        QueueDeclareOptions queue_exists{.passive = true};
        auto passive = co_await ch->queue_declare(qn, queue_exists);
        CHECK(passive.message_count == 1);
        CHECK(co_await ch->queue_purge(qn) == 1);
        co_await ch->exchange_unbind(ex2, ex, "k");
        co_await ch->queue_unbind(qn, ex2, "");
        ch->basic_publish(ex, "k", "after unbind");
        auto none = co_await ch->basic_get(qn, true);
        CHECK_FALSE(none);
        co_await ch->exchange_delete(ex2);
        co_await ch->exchange_delete(ex, {.if_unused = true});
        CHECK(co_await ch->queue_delete(qn, {.if_empty = true}) == 0);
        // nowait variants
        std::string qn2 = unique_name("nowait");
        QueueDeclareOptions transient_nowait{.auto_delete = true, .nowait = true};
        co_await ch->queue_declare(qn2, transient_nowait);
        co_await ch->queue_delete(qn2, {.nowait = true});
        co_await exclusive_queue(*ch);  // the channel is still fine
        CHECK(co_await ch->flow(true));
        co_await ch->close();
        co_await conn->close();
    }

    SQUALL_TEST_CASE("concurrent requests on one channel are sent in order", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        std::vector<Future<QueueDeclareResult>> results;
        for (int i = 0; i < 20; ++i) results.push_back(start(ch->queue_declare("", {.exclusive = true})));
        std::set<std::string> names;
        for (auto& f : results) names.insert((co_await f).queue);
        CHECK(names.size() == 20);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("consume delivers to next() and to a callback; ack, nack, reject, recover", 30s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q = co_await exclusive_queue(*ch);
        co_await ch->basic_qos({.prefetch_count = 10});
        for (int i = 0; i < 5; ++i) ch->basic_publish("", q.queue, "m" + std::to_string(i));
        ConsumeOptions tagged{.consumer_tag = "squall-tag"};
        auto consumer = co_await ch->consume(q.queue, std::move(tagged));
        CHECK(consumer->tag() == "squall-tag");
        std::vector<Delivery> got;
        for (int i = 0; i < 5; ++i) got.push_back(co_await consumer->next());
        CHECK(got[0].body == "m0");
        CHECK(got[4].body == "m4");
        CHECK(got[0].consumer_tag == "squall-tag");
        CHECK_FALSE(got[0].redelivered);
        ch->basic_ack(got[0].delivery_tag);
        ch->basic_ack(got[1].delivery_tag, true /* multiple */);
        ch->basic_reject(got[2].delivery_tag, true);  // requeued: redelivered to us
        Delivery again = co_await consumer->next();
        CHECK(again.body == "m2");
        CHECK(again.redelivered);
        ch->basic_nack(again.delivery_tag, {.requeue = false});  // dropped
        co_await ch->basic_recover(true);                        // m3, m4 redelivered
        Delivery r1 = co_await consumer->next();
        Delivery r2 = co_await consumer->next();
        CHECK(r1.redelivered);
        CHECK(r2.redelivered);
        ch->basic_ack(r2.delivery_tag, true);
        co_await consumer->cancel();
        CHECK_FALSE(consumer->active());
        auto e = co_await error_of(consumer->next());
        CHECK(holds<ConsumerCancelledError>(e));
        // Callback consumer
        std::vector<std::string> seen;
        Event done;
        ConsumeOptions no_ack{.no_ack = true};
        auto cb = co_await ch->basic_consume(
            q.queue,
            [&](Delivery&& m) {
                seen.push_back(m.body);
                if (seen.size() == 2) done.set();
            },
            std::move(no_ack));
        ch->basic_publish("", q.queue, "x");
        ch->basic_publish("", q.queue, "y");
        co_await with_timeout(5s, done.wait());
        CHECK(seen == std::vector<std::string>{"x", "y"});
        co_await ch->basic_cancel(cb->tag());
        CHECK(co_await ch->queue_delete(q.queue) == 0);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("a callback consumer sees each message whole: nothing of the previous one is left",
                     30s) {
        // The channel reuses one Delivery object and the storage its receiver left in it: check that no
        // property, body byte or name of one message shows in the next, whether the callback moved parts out
        // or not.
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q = co_await exclusive_queue(*ch);
        std::string ex = unique_name("recycle-ex");
        co_await ch->exchange_declare(ex, "fanout");
        co_await ch->queue_bind(q.queue, ex);
        BasicProperties rich;
        rich.content_type = "application/json";
        rich.message_id = "m-1";
        rich.headers = FieldTable{{"x-n", int32_t{5}}};
        rich.priority = 3;
        ch->basic_publish(ex, "rk-long-enough-to-allocate", std::string(300, 'a'), rich);
        ch->basic_publish("", q.queue, "b");
        ch->basic_publish(ex, "", "");
        ch->basic_publish("", q.queue, std::string(70000, 'd'), rich);
        ch->basic_publish("", q.queue, "e");
        std::vector<Delivery> seen;
        std::vector<std::string> stolen_bodies;
        Event done;
        ConsumeOptions no_ack{.no_ack = true};
        auto consumer = co_await ch->basic_consume(
            q.queue,
            [&](Delivery&& m) {
                if (seen.size() % 2 == 0) {
                    seen.push_back(m);  // a copy: the Delivery keeps its storage
                } else {
                    stolen_bodies.push_back(std::move(m.body));
                    seen.push_back(std::move(m));
                }
                if (seen.size() == 5) done.set();
            },
            std::move(no_ack));
        co_await with_timeout(10s, done.wait());
        REQUIRE(seen.size() == 5);
        CHECK(seen[0].body == std::string(300, 'a'));
        CHECK(seen[0].properties == rich);
        CHECK(seen[0].exchange == ex);
        CHECK(seen[0].routing_key == "rk-long-enough-to-allocate");
        CHECK(seen[0].consumer_tag == consumer->tag());
        CHECK(seen[1].body.empty());  // moved out by the callback
        CHECK(stolen_bodies[0] == "b");
        CHECK(seen[1].properties == BasicProperties{});
        CHECK(seen[1].exchange.empty());
        CHECK(seen[1].routing_key == q.queue);
        CHECK(seen[2].body.empty());
        CHECK(seen[2].properties == BasicProperties{});
        CHECK(seen[2].exchange == ex);
        CHECK(seen[2].routing_key.empty());
        CHECK(stolen_bodies[1] == std::string(70000, 'd'));
        CHECK(seen[3].properties == rich);
        CHECK(seen[4].body == "e");
        CHECK(seen[4].properties == BasicProperties{});
        CHECK(seen[4].exchange.empty());
        for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i].delivery_tag == seen[i - 1].delivery_tag + 1);
        co_await consumer->cancel();
        co_await ch->exchange_delete(ex);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("acks written in a delivery callback reach the broker with nothing written after them",
                     40s) {
        // The reader holds back the acks of a batch of deliveries and writes them once the batch is handled:
        // they must leave even when the connection writes nothing else afterwards.
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        QueueDeclareOptions exclusive{.exclusive = true};
        auto q = co_await ch->queue_declare(unique_name("acked-in-callback"), exclusive);
        auto consumer = co_await ack_all_in_callback(ch, q.queue, 50);
        // The broker's own count of unacknowledged messages, until it shows every ack (rabbitmqctl is slow
        // to start, so this is rarely more than one call).
        std::string line;
        for (int attempt = 0; attempt < 20; ++attempt) {
            std::vector<std::string> args{"list_queues",    "name",    "messages_unacknowledged",
                                          "messages_ready", "--quiet", "--no-table-headers"};
            std::istringstream out(testing::rabbitmqctl(args));
            line.clear();
            for (std::string l; std::getline(out, l);) {
                if (l.rfind(q.queue + "\t", 0) == 0) line = l;
            }
            if (line == q.queue + "\t0\t0") break;
            co_await sleep(200ms);
        }
        CHECK(line == q.queue + "\t0\t0");
        CHECK(ch->is_open());
        co_await conn->close();
    }

    SQUALL_TEST_CASE("acks from a callback precede what the connection writes next: none is lost to a close",
                     30s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q =
            co_await ch->queue_declare(unique_name("ack-then-close"));  // not auto-delete: outlives the close
        auto consumer = co_await ack_all_in_callback(ch, q.queue, 30);
        // Still inside the last delivery's callback: the channel's close is written while the acks are held
        // back, and must follow them on the wire. An unacked message would be requeued by the close and show
        // as ready.
        co_await ch->close();
        auto other = co_await conn->channel();
        QueueDeclareOptions passive{.passive = true};
        auto state = co_await other->queue_declare(q.queue, std::move(passive));
        CHECK(state.message_count == 0);
        CHECK(state.consumer_count == 0);
        co_await other->queue_delete(q.queue);
        co_await conn->close();
    }

    SQUALL_TEST_CASE(
        "a consumer cancelled (nowait) in its own callback: later deliveries go back to the queue", 30s) {
        // The channel holds the only reference to the consumer: cancelling it inside its callback must not
        // destroy the callback while it runs (AddressSanitizer watches this).
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        QueueDeclareOptions kept{.auto_delete = false};
        auto q = co_await ch->queue_declare(unique_name("self-cancel"), kept);
        co_await ch->basic_qos({.prefetch_count = 100});
        constexpr int kMessages = 10;
        for (int i = 0; i < kMessages; ++i) ch->basic_publish("", q.queue, "m" + std::to_string(i));
        int calls = 0;
        Event first;
        std::string tag;
        {
            auto consumer = co_await ch->basic_consume(q.queue, [&](Delivery&& m) {
                if (++calls > 1) return;  // must not happen: the consumer is gone
                ch->basic_ack(m.delivery_tag);
                start(ch->basic_cancel(tag, /*nowait=*/true));
                first.set();
            });
            tag = consumer->tag();
        }
        co_await with_timeout(10s, first.wait());
        // The broker delivered more before it saw the cancel: those are rejected with requeue, so all but
        // the acked one come back to the queue.
        auto other = co_await conn->channel();
        uint32_t ready = 0;
        for (int attempt = 0; attempt < 100 && ready != kMessages - 1; ++attempt) {
            QueueDeclareOptions passive{.passive = true};
            ready = (co_await other->queue_declare(q.queue, std::move(passive))).message_count;
            if (ready != kMessages - 1) co_await sleep(50ms);
        }
        CHECK(ready == kMessages - 1);
        CHECK(calls == 1);
        CHECK(ch->is_open());
        co_await other->queue_delete(q.queue);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("the broker cancelling a consumer ends its next() with ConsumerCancelledError", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        QueueDeclareOptions transient{.auto_delete = true};
        auto q = co_await ch->queue_declare(unique_name("cancelled"), transient);
        bool notified = false;
        ConsumeOptions notify{.on_cancel = [&](const std::string&) { notified = true; }};
        auto consumer = co_await ch->consume(q.queue, std::move(notify));
        Future<Delivery> waiting = consumer->next();
        auto other = co_await conn->channel();
        co_await other->queue_delete(q.queue);
        auto e = co_await error_of(waiting);
        REQUIRE(holds<ConsumerCancelledError>(e));
        try {
            std::rethrow_exception(e);
        } catch (const ConsumerCancelledError& err) {
            CHECK(err.by_broker());
        }
        CHECK(notified);
        CHECK(ch->is_open());
        co_await conn->close();
    }

    SQUALL_TEST_CASE("basic_get on an empty queue returns nullopt; tx commit and rollback", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q = co_await exclusive_queue(*ch);
        CHECK_FALSE(co_await ch->basic_get(q.queue));
        co_await ch->tx_select();
        ch->basic_publish("", q.queue, "rolled back");
        co_await ch->tx_rollback();
        ch->basic_publish("", q.queue, "committed");
        co_await ch->tx_commit();
        auto m = co_await ch->basic_get(q.queue);
        REQUIRE(m);
        CHECK(m->body == "committed");
        ch->basic_ack(m->delivery_tag);
        co_await ch->tx_commit();
        CHECK_FALSE(co_await ch->basic_get(q.queue));
        co_await conn->close();
    }

    SQUALL_TEST_CASE("channel errors 404, 403, 405, 406 close only that channel", 30s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url);
        auto survivor = co_await conn->channel();
        QueueDeclareOptions exclusive{.exclusive = true};
        auto survivor_q = co_await survivor->queue_declare("", exclusive);

        auto ch404 = co_await conn->channel();
        QueueDeclareOptions passive{.passive = true};
        auto e = co_await error_of(ch404->queue_declare(unique_name("missing"), passive));
        co_await expect_channel_error<NotFoundError>(ch404, e, 404);

        auto ch403 = co_await conn->channel();
        e = co_await error_of(ch403->exchange_declare("amq.squall-" + unique_name("x"), "direct"));
        co_await expect_channel_error<ChannelAccessRefusedError>(ch403, e, 403);
        CHECK(holds<AccessRefusedError>(e));

        auto ch406 = co_await conn->channel();
        std::string qn = unique_name("args");
        QueueDeclareOptions five{.auto_delete = true, .arguments = max_length(5)};
        QueueDeclareOptions six{.auto_delete = true, .arguments = max_length(6)};
        co_await ch406->queue_declare(qn, std::move(five));
        auto consumer = co_await ch406->consume(qn);  // keeps the auto-delete queue alive
        auto pending_next = consumer->next();
        e = co_await error_of(ch406->queue_declare(qn, std::move(six)));
        co_await expect_channel_error<PreconditionFailedError>(ch406, e, 406);
        CHECK(holds<PreconditionFailedError>(co_await error_of(pending_next)));

        // 405: an exclusive queue of another connection.
        auto other = co_await Connection::open(loop, url);
        auto och = co_await other->channel();
        auto excl = co_await och->queue_declare(unique_name("exclusive"), exclusive);
        auto ch405 = co_await conn->channel();
        e = co_await error_of(ch405->queue_declare(excl.queue, exclusive));
        co_await expect_channel_error<ResourceLockedError>(ch405, e, 405);
        co_await other->close();

        // 403 from publishing to a missing exchange is 404 and arrives asynchronously: the next RPC fails.
        auto chpub = co_await conn->channel();
        chpub->basic_publish(unique_name("no-exchange"), "k", "body");
        e = co_await error_of(chpub->queue_declare("", exclusive));
        co_await expect_channel_error<NotFoundError>(chpub, e, 404);

        // The connection and the first channel go on; ids are reused.
        CHECK(conn->is_open());
        CHECK(survivor->is_open());
        auto again = co_await survivor->queue_declare(survivor_q.queue, passive);
        CHECK(again.queue == survivor_q.queue);
        auto reused = co_await conn->channel();
        CHECK(reused->id() <= 6);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("1000 channels on one connection", 60s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url + "?channel_max=1000");
        CHECK(conn->channel_max() == 1000);
        std::vector<Future<std::shared_ptr<Channel>>> opening;
        for (int i = 0; i < 1000; ++i) opening.push_back(start(conn->channel()));
        std::vector<std::shared_ptr<Channel>> channels;
        for (auto& f : opening) channels.push_back(co_await f);
        CHECK(conn->channel_count() == 1000);
        std::set<uint16_t> ids;
        for (auto& c : channels) ids.insert(c->id());
        CHECK(ids.size() == 1000);
        CHECK(*ids.rbegin() == 1000);
        auto e = co_await error_of(conn->channel());
        CHECK(holds<UsageError>(e));
        // Every channel works.
        std::vector<Future<QueueDeclareResult>> declared;
        for (auto& c : channels) declared.push_back(start(c->queue_declare("", {.exclusive = true})));
        for (auto& f : declared) co_await f;
        co_await channels[499]->close();
        auto reopened = co_await conn->channel();
        CHECK(reopened->id() == 500);
        co_await conn->close();
        CHECK(conn->channel_count() == 0);
    }
}
