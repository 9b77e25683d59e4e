// The AMQP error hierarchy and make_close_error().
#include <doctest/doctest.h>

#include <string>

#include "squall/amqp/errors.hpp"
#include "squall/amqp/spec.hpp"

using namespace squall::amqp;

namespace {

template <class E>
const E* rethrown_as(const std::exception_ptr& e, std::string* what = nullptr) {
    try {
        std::rethrow_exception(e);
    } catch (const E& err) {
        if (what) *what = err.what();
        static thread_local std::exception_ptr keep;
        keep = std::current_exception();  // keep the object alive after the handler
        try {
            std::rethrow_exception(keep);
        } catch (const E& again) {
            return &again;
        }
    } catch (...) {
    }
    return nullptr;
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("make_close_error builds the subclass of the reply code for channels") {
        std::string what;
        auto e =
            make_close_error(CloseScope::channel, 404, "NOT_FOUND - no queue 'q' in vhost '/'", 50, 10, 3);
        const NotFoundError* nf = rethrown_as<NotFoundError>(e, &what);
        REQUIRE(nf != nullptr);
        CHECK(nf->reply_code() == 404);
        CHECK(nf->reply_text() == "NOT_FOUND - no queue 'q' in vhost '/'");
        CHECK(nf->class_id() == 50);
        CHECK(nf->method_id() == 10);
        CHECK(nf->channel() == 3);
        CHECK(what ==
              "channel 3 closed: 404 NOT_FOUND - no queue 'q' in vhost '/' (caused by queue.declare)");
        CHECK(rethrown_as<ChannelClosedError>(e) != nullptr);
        CHECK(rethrown_as<ClosedError>(e) != nullptr);
        CHECK(rethrown_as<squall::Error>(e) != nullptr);
        CHECK(rethrown_as<ConnectionClosedError>(e) == nullptr);

        CHECK(rethrown_as<AccessRefusedError>(make_close_error(CloseScope::channel, 403, "ACCESS_REFUSED")) !=
              nullptr);
        CHECK(rethrown_as<ResourceLockedError>(
                  make_close_error(CloseScope::channel, 405, "RESOURCE_LOCKED")) != nullptr);
        CHECK(rethrown_as<PreconditionFailedError>(
                  make_close_error(CloseScope::channel, 406, "PRECONDITION_FAILED")) != nullptr);
        auto other = make_close_error(CloseScope::channel, 504, "CHANNEL_ERROR");
        CHECK(rethrown_as<ChannelClosedError>(other) != nullptr);
        CHECK(rethrown_as<NotFoundError>(other) == nullptr);
    }

    // Every reply code RabbitMQ sends has its class (the table in errors.hpp), at its scope; the class keeps
    // the close's fields and the channel-scope ones their channel.
    template <class E>
    void check_code(CloseScope scope, uint16_t code) {
        auto e = make_close_error(scope, code, "TEXT", 50, 10, 7);
        const E* err = rethrown_as<E>(e);
        REQUIRE_MESSAGE(err != nullptr, "reply code " << code);
        CHECK(err->reply_code() == code);
        CHECK(err->reply_text() == "TEXT");
        CHECK(err->class_id() == 50);
        CHECK(err->method_id() == 10);
        if (scope == CloseScope::channel) {
            CHECK(rethrown_as<ChannelClosedError>(e)->channel() == 7);
            CHECK(rethrown_as<ConnectionClosedError>(e) == nullptr);
        } else {
            CHECK(rethrown_as<ChannelClosedError>(e) == nullptr);
        }
    }

    TEST_CASE("make_close_error: one typed error per reply code RabbitMQ sends") {
        check_code<ContentTooLargeError>(CloseScope::channel, 311);
        check_code<NoRouteError>(CloseScope::channel, 312);
        check_code<NoConsumersError>(CloseScope::channel, 313);
        check_code<ChannelAccessRefusedError>(CloseScope::channel, 403);
        check_code<NotFoundError>(CloseScope::channel, 404);
        check_code<ResourceLockedError>(CloseScope::channel, 405);
        check_code<PreconditionFailedError>(CloseScope::channel, 406);
        check_code<ConnectionForcedError>(CloseScope::connection, 320);
        check_code<InvalidPathError>(CloseScope::connection, 402);
        check_code<ConnectionAccessRefusedError>(CloseScope::connection, 403);
        check_code<BrokerFrameError>(CloseScope::connection, 501);
        check_code<BrokerSyntaxError>(CloseScope::connection, 502);
        check_code<CommandInvalidError>(CloseScope::connection, 503);
        check_code<ChannelProtocolError>(CloseScope::connection, 504);
        check_code<UnexpectedFrameError>(CloseScope::connection, 505);
        check_code<ResourceError>(CloseScope::connection, 506);
        check_code<NotAllowedError>(CloseScope::connection, 530);
        check_code<NotImplementedError>(CloseScope::connection, 540);
        check_code<InternalError>(CloseScope::connection, 541);
        // Each class is its code's only: a 530 is not an access refusal, a 404 at connection scope is not a
        // NotFoundError.
        CHECK(rethrown_as<AccessRefusedError>(make_close_error(CloseScope::connection, 530, "NOT_ALLOWED")) ==
              nullptr);
        CHECK(rethrown_as<NotFoundError>(make_close_error(CloseScope::connection, 404, "NOT_FOUND")) ==
              nullptr);
        CHECK(rethrown_as<ConnectionClosedError>(
                  make_close_error(CloseScope::connection, 404, "NOT_FOUND")) != nullptr);
        CHECK(rethrown_as<NotAllowedError>(make_close_error(CloseScope::connection, 320, "x")) == nullptr);
    }

    TEST_CASE("make_close_error builds a ConnectionClosedError for the connection, whatever the code") {
        std::string what;
        auto e = make_close_error(CloseScope::connection, 320,
                                  "CONNECTION_FORCED - broker forced connection closure");
        const ConnectionClosedError* c = rethrown_as<ConnectionClosedError>(e, &what);
        REQUIRE(c != nullptr);
        CHECK(c->reply_code() == 320);
        CHECK(what == "connection closed: 320 CONNECTION_FORCED - broker forced connection closure");
        auto refused =
            make_close_error(CloseScope::connection, 403, "ACCESS_REFUSED - Login was refused", 10, 11);
        CHECK(rethrown_as<ConnectionClosedError>(refused, &what) != nullptr);
        CHECK(rethrown_as<ChannelClosedError>(refused) == nullptr);
        CHECK(what.find("(caused by connection.start-ok)") != std::string::npos);
        CHECK(std::string(ConnectionClosedError(541, "", 60, 99).what()) ==
              "connection closed: 541 (no reply text) (caused by unknown method (60, 99))");
    }

    TEST_CASE("message errors carry what the broker said") {
        MessageNackedError nack(42);
        CHECK(nack.delivery_tag() == 42);
        CHECK(std::string(nack.what()).find("delivery tag 42") != std::string::npos);
        MessageReturnedError ret(312, "NO_ROUTE", "media", "video");
        CHECK(ret.reply_code() == 312);
        CHECK(ret.exchange() == "media");
        CHECK(ret.routing_key() == "video");
        CHECK(std::string(ret.what()) ==
              "message returned by the broker: 312 NO_ROUTE (exchange 'media', routing key 'video')");
        FrameError fe("x");
        const squall::Error& base = fe;
        CHECK(std::string(base.what()) == "x");
    }

}  // TEST_SUITE
