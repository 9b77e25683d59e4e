// Helpers of the amqp client tests: unique entity names, the broker's prologue and polling steps
// (tests/support/amqp_channel.hpp), raw frames for the fake brokers. A test file's prologue is one line,
// `using namespace squall::amqp::test;`: it brings these helpers, squall, squall::amqp and
// std::chrono_literals.
#pragma once

#include <chrono>
#include <random>
#include <sstream>
#include <string>

#include "squall/amqp/amqp.hpp"
#include "squall/amqp/detail/wire.hpp"
#include "squall/amqp/spec.hpp"
#include "squall/ioloop/async.hpp"
#include "squall/iostream/address.hpp"
#include "squall/iostream/iostream.hpp"
#include "squall/testing.hpp"
#include "tests/support/amqp_channel.hpp"
#include "tests/support/rabbitmq_fixture.hpp"

namespace squall::amqp::test {

using namespace std::chrono_literals;
using namespace squall;
using namespace squall::amqp;

// "prefix-<random>": names are unique per test run, so reruns never see leftovers.
inline std::string unique_name(const std::string& prefix) {
    static std::mt19937_64 rng{std::random_device{}()};
    return "squall-test-" + prefix + "-" + std::to_string(rng() % 1000000000);
}

using squall::testing::holds;

template <class E>
std::string what_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const E& err) {
        return err.what();
    } catch (...) {
        return {};
    }
}

using squall::testing::error_of;
using squall::testing::exclusive_queue;
using squall::testing::get_when_routed;

// rabbitmqctl list_connections' view of `conn`, found by its client-side port: the values of `items`
// joined by tabs (e.g. {"user", "auth_mechanism"} -> "guest\tPLAIN"), or "" when the broker does not list
// it within about 2 s.
inline Task<std::string> broker_connection_info(IOLoop& loop, const Connection& conn,
                                                std::vector<std::string> items) {
    const std::string port = std::to_string(SocketAddress(conn.stream()->local_address()).port());
    std::vector<std::string> args{"list_connections", "peer_port"};
    args.insert(args.end(), items.begin(), items.end());
    args.insert(args.end(), {"--quiet", "--no-table-headers"});
    for (int attempt = 0; attempt < 10; ++attempt) {
        std::istringstream lines(testing::rabbitmqctl(args));
        std::string line;
        while (std::getline(lines, line)) {
            if (line.rfind(port + "\t", 0) == 0) co_return line.substr(port.size() + 1);
        }
        co_await squall::sleep(loop, std::chrono::milliseconds(200));
    }
    co_return std::string();
}

// One frame as it travels on the wire: type, channel, payload size, payload and the end octet (another
// end octet makes a malformed frame).
inline std::string frame(uint8_t type, uint16_t channel, std::string_view payload,
                         uint8_t end = spec::kFrameEnd) {
    std::string out;
    amqp::detail::put_u8(out, type);
    amqp::detail::put_u16(out, channel);
    amqp::detail::put_u32(out, static_cast<uint32_t>(payload.size()));
    out += payload;
    amqp::detail::put_u8(out, end);
    return out;
}

}  // namespace squall::amqp::test
