// amqps against RabbitMQ's TLS listener (scripts/rabbitmq start --tls-port, a test CA made at start):
// verified TLS with hostname checking, failures of verification, and SASL EXTERNAL with a client
// certificate (rabbitmq_auth_mechanism_ssl maps the certificate's CN to the user).
#include <doctest/doctest.h>

#include <squall/testing.hpp>

#include "squall/amqp/amqp.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/address.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/iostream/tls.hpp"
#include "tests/amqp/amqp_test_util.hpp"

using namespace squall::amqp::test;

namespace {
// Named: GCC 12 rejects a braced list of string literals inside co_await.
const std::vector<std::string> kViewItems{"user", "auth_mechanism", "ssl"};
}  // namespace

TEST_SUITE("amqp") {
    SQUALL_TEST_CASE("amqps with a verified certificate carries publish and get", 30s) {
        auto url = testing::amqps_url();
        if (url.empty()) co_return;
        const std::string ca = testing::amqp_tls_dir() + "/ca.pem";
        // localhost resolves to ::1 and 127.0.0.1; the broker listens on 127.0.0.1 only, so this also takes
        // the connect path that moves on from a refused address. The certificate names localhost.
        auto conn = co_await Connection::open(loop, url + "?cafile=" + ca);
        REQUIRE(conn->is_open());
        auto ch = co_await conn->channel();
        co_await ch->confirm_select();
        auto q = co_await exclusive_queue(*ch);
        // Bodies larger than a TLS record (16 KiB) and than frame_max: several records per frame and frames
        // per message.
        std::string big(300 * 1000, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
        co_await ch->publish("", q.queue, big);
        co_await ch->publish("", q.queue, "small");
        auto first = co_await ch->basic_get(q.queue, true);
        auto second = co_await ch->basic_get(q.queue, true);
        REQUIRE(first.has_value());
        REQUIRE(second.has_value());
        CHECK(first->body == big);
        CHECK(second->body == "small");
        auto view = co_await broker_connection_info(loop, *conn, kViewItems);
        CHECK(view == "guest\tPLAIN\ttrue");
        co_await conn->close();
        CHECK(conn->is_closed());
    }

    SQUALL_TEST_CASE("amqps refuses a broker certificate from an untrusted CA", 20s) {
        auto url = testing::amqps_url();
        if (url.empty()) co_return;
        // No cafile: the system store does not hold the test CA.
        auto e = co_await error_of(Connection::open(loop, url));
        REQUIRE(holds<TlsError>(e));
        try {
            std::rethrow_exception(e);
        } catch (const TlsError& err) {
            CHECK(std::string(err.what()).find("certificate verify failed") != std::string::npos);
            CHECK(err.verify_result() != 0);
        }
        // The stream's TLS alert to the broker is still being sent: let that send complete before the test's
        // loop is destroyed (the stream stays alive until its last operation ends).
        co_await squall::sleep(loop, 50ms);
    }

    SQUALL_TEST_CASE("amqps refuses a certificate issued for another name", 20s) {
        auto url = testing::amqps_url();
        if (url.empty()) co_return;
        const std::string ca = testing::amqp_tls_dir() + "/ca.pem";
        auto e = co_await error_of(
            Connection::open(loop, url + "?cafile=" + ca + "&server_name_indication=broker.example.org"));
        REQUIRE(holds<TlsError>(e));
        CHECK(test::what_of<TlsError>(e).find("mismatch") != std::string::npos);
        co_await squall::sleep(loop, 50ms);  // as above: the alert's send completes
        // verify=none accepts it (and is what the option is for).
        auto conn =
            co_await Connection::open(loop, url + "?verify=none&server_name_indication=broker.example.org");
        CHECK(conn->is_open());
        co_await conn->close();
    }

    SQUALL_TEST_CASE("SASL EXTERNAL logs in as the client certificate's subject", 30s) {
        auto url = testing::amqps_url();
        if (url.empty()) co_return;
        const std::string dir = testing::amqp_tls_dir();
        auto options = ConnectionOptions::from_url(url + "?cafile=" + dir + "/ca.pem&certfile=" + dir +
                                                   "/client.pem&keyfile=" + dir + "/client.key");
        options.mechanism = SaslMechanism::external;
        options.user = "not-used-by-external";
        options.password = "not-used-by-external";
        options.connection_name = unique_name("external");
        auto conn = co_await Connection::open(loop, options);
        auto ch = co_await conn->channel();
        auto q = co_await exclusive_queue(*ch);
        CHECK(q.queue.rfind("amq.gen-", 0) == 0);
        auto view = co_await broker_connection_info(loop, *conn, kViewItems);
        CHECK(view == "guest\tEXTERNAL\ttrue");
        co_await conn->close();
    }

    SQUALL_TEST_CASE("SASL EXTERNAL without a client certificate is refused", 20s) {
        auto url = testing::amqps_url();
        if (url.empty()) co_return;
        auto options = ConnectionOptions::from_url(url + "?cafile=" + testing::amqp_tls_dir() + "/ca.pem");
        options.mechanism = SaslMechanism::external;
        auto e = co_await error_of(Connection::open(loop, options));
        REQUIRE(e);
        CHECK(holds<AccessRefusedError>(e));
        co_await squall::sleep(loop, 50ms);
    }
}
