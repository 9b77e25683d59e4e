// Publishing: body sizes around frame_max, every property, publisher confirms (ack, nack, returned
// mandatory messages, 10,000 in flight), return handler, immediate refused.
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "tests/amqp/amqp_test_util.hpp"
#include "tests/amqp/codec_test_util.hpp"

using namespace squall::amqp::test;

namespace {

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

// GCC 12 rejects braced FieldTable initializers with string literals inside coroutines ("array used as
// initializer"): build the tables in plain functions.
FieldTable reject_publish_after_one() {
    return FieldTable{{"x-max-length", int32_t{1}}, {"x-overflow", "reject-publish"}};
}

}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("bodies of 0, 1, frame_max-1, frame_max and 1 MiB arrive intact", 30s) {
        SQUALL_AMQP_URL_OR_RETURN(url);
        auto conn = co_await Connection::open(loop, url + "?frame_max=8192");
        REQUIRE(conn->frame_max() == 8192u);
        auto ch = co_await conn->channel();
        auto q = co_await exclusive_queue(*ch);
        ConsumeOptions no_ack{.no_ack = true};
        auto consumer = co_await ch->consume(q.queue, std::move(no_ack));
        std::vector<size_t> sizes{0, 1, 8191, 8192, 8192 - 8, 8192 - 9, 8192 * 3 + 5, 1024 * 1024};
        for (size_t n : sizes) ch->basic_publish("", q.queue, pattern(n));
        for (size_t n : sizes) {
            Delivery m = co_await consumer->next();
            CHECK(m.body.size() == n);
            CHECK(m.body == pattern(n));
        }
        co_await conn->close();
    }

    SQUALL_TEST_CASE("all 14 properties round-trip through the broker", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q = co_await exclusive_queue(*ch);
        BasicProperties p = every_property();
        ch->basic_publish("", q.queue, "props", p);
        auto m = co_await get_when_routed(loop, *ch, q.queue);
        REQUIRE(m);
        CHECK(m->properties == p);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("confirm mode: 10,000 publishes in flight all confirmed", 60s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q = co_await exclusive_queue(*ch);
        co_await ch->confirm_select();
        CHECK(ch->confirm_mode());
        std::vector<Confirmation> window;
        window.reserve(10000);
        std::string body(100, 'x');
        for (int i = 0; i < 10000; ++i) window.push_back(ch->basic_publish("", q.queue, body));
        CHECK(ch->unconfirmed() > 0);
        for (auto& c : window) co_await c;
        CHECK(ch->unconfirmed() == 0);
        auto passive = co_await ch->queue_declare(q.queue, {.passive = true});
        CHECK(passive.message_count == 10000);
        co_await ch->publish("", q.queue, "via publish()");
        co_await conn->close();
    }

    SQUALL_TEST_CASE("confirm mode: nack fails with MessageNackedError", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        QueueDeclareOptions bounded{.exclusive = true, .arguments = reject_publish_after_one()};
        auto q = co_await ch->queue_declare("", std::move(bounded));
        co_await ch->confirm_select();
        co_await ch->basic_publish("", q.queue, "fits");
        auto e = co_await error_of(ch->basic_publish("", q.queue, "rejected"));
        REQUIRE(holds<MessageNackedError>(e));
        CHECK(test::what_of<MessageNackedError>(e).find("delivery tag 2") != std::string::npos);
        co_await conn->close();
    }

    SQUALL_TEST_CASE("confirm mode: a mandatory unroutable message fails with MessageReturnedError", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        auto q = co_await exclusive_queue(*ch);
        std::vector<ReturnedMessage> returns;
        ch->set_return_handler([&](ReturnedMessage&& r) { returns.push_back(std::move(r)); });
        co_await ch->confirm_select();
        auto ok1 = ch->basic_publish("", q.queue, "routed", {}, {.mandatory = true});
        std::string nowhere = unique_name("nowhere");
        auto bad = ch->basic_publish("", nowhere, "unroutable", {}, {.mandatory = true});
        auto ok2 = ch->basic_publish("", q.queue, "routed too", {}, {.mandatory = true});
        co_await ok1;
        auto e = co_await error_of(std::move(bad));
        REQUIRE(holds<MessageReturnedError>(e));
        try {
            std::rethrow_exception(e);
        } catch (const MessageReturnedError& err) {
            CHECK(err.reply_code() == 312);
            CHECK(err.routing_key() == nowhere);
        }
        co_await ok2;
        REQUIRE(returns.size() == 1);
        CHECK(returns[0].message.body == "unroutable");
        CHECK(returns[0].reply_text == "NO_ROUTE");
        co_await conn->close();
    }

    SQUALL_TEST_CASE("without confirms a return goes to the handler; immediate is refused", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        Event returned;
        std::string body;
        ch->set_return_handler([&](ReturnedMessage&& r) {
            body = r.message.body;
            returned.set();
        });
        co_await ch->basic_publish("", unique_name("nowhere"), "back", {}, {.mandatory = true});
        co_await with_timeout(5s, returned.wait());
        CHECK(body == "back");
        CHECK_THROWS_AS(ch->basic_publish("", "q", "x", {}, {.immediate = true}), UsageError);
        // A return without a handler is only logged.
        ch->set_return_handler(nullptr);
        ch->basic_publish("", unique_name("nowhere"), "lost", {}, {.mandatory = true});
        auto q = co_await exclusive_queue(*ch);
        CHECK(ch->is_open());
        (void)q;
        co_await conn->close();
    }

    SQUALL_TEST_CASE("publishes on a closed channel throw its close reason", 20s) {
        SQUALL_AMQP_CHANNEL_OR_RETURN(url, conn, ch);
        co_await ch->close();
        CHECK_THROWS_AS(ch->basic_publish("", "q", "x"), ChannelClosedError);
        CHECK_THROWS_AS(ch->basic_ack(1), ChannelClosedError);
        co_await conn->close();
        auto ch2_error = co_await error_of(conn->channel());
        CHECK(holds<ConnectionClosedError>(ch2_error));
    }
}
