// The basic.deliver fast path (amqp/detail/deliver.hpp) against the generated decoder, field by field:
// random well-formed deliveries (every field, short strings from empty to 255 bytes, any flags octet),
// every cut-short prefix, trailing bytes, length octets that run past the end, and random bytes. The fast
// path must accept exactly what the generated decoder accepts and read the same values.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "squall/amqp/detail/deliver.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/amqp/spec.hpp"

using namespace squall::amqp;

namespace {

std::string payload_of(const spec::BasicDeliver& d) {
    std::string frame;
    append_method_frame(frame, 1, d);
    return frame.substr(kFrameHeaderSize, frame.size() - kFrameOverhead);
}

// Both decoders on `payload`: the same verdict, and the same fields when accepted.
void check_same(const std::string& payload) {
    detail::DeliverView fast;
    const bool fast_ok = detail::decode_deliver(payload, fast);
    bool generated_ok = true;
    spec::BasicDeliver g;
    try {
        g = spec::decode_method_as<spec::BasicDeliver>(payload);
    } catch (const FrameError&) {
        generated_ok = false;
    }
    REQUIRE_MESSAGE(fast_ok == generated_ok, "payload of " << payload.size() << " bytes");
    if (!fast_ok) return;
    CHECK(fast.consumer_tag == g.consumer_tag);
    CHECK(fast.delivery_tag == g.delivery_tag);
    CHECK(fast.redelivered == g.redelivered);
    CHECK(fast.exchange == g.exchange);
    CHECK(fast.routing_key == g.routing_key);
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("basic.deliver fast path: the generated decoder's fields on random deliveries") {
        std::mt19937 rng(20261202);
        auto str = [&](size_t max) {
            std::string s(std::uniform_int_distribution<size_t>(0, max)(rng), '\0');
            for (char& c : s) c = static_cast<char>(rng());
            return s;
        };
        for (int i = 0; i < 2000; ++i) {
            spec::BasicDeliver d{.consumer_tag = str(i % 10 == 0 ? 255 : 40),
                                 .delivery_tag = (uint64_t{rng()} << 32) | rng(),
                                 .redelivered = (rng() & 1) != 0,
                                 .exchange = str(i % 7 == 0 ? 255 : 20),
                                 .routing_key = str(i % 5 == 0 ? 255 : 30)};
            std::string payload = payload_of(d);
            detail::DeliverView fast;
            REQUIRE(detail::decode_deliver(payload, fast));
            CHECK(fast.consumer_tag == d.consumer_tag);
            CHECK(fast.delivery_tag == d.delivery_tag);
            CHECK(fast.redelivered == d.redelivered);
            CHECK(fast.exchange == d.exchange);
            CHECK(fast.routing_key == d.routing_key);
            check_same(payload);
            // Other bits of the flags octet (reserved): both read bit 0 only, or both refuse.
            const size_t flags_at = 4 + 1 + d.consumer_tag.size() + 8;
            std::string flagged = payload;
            flagged[flags_at] = static_cast<char>(rng() | 0x02);
            check_same(flagged);
            // A trailing byte, and a cut at a random point.
            check_same(payload + static_cast<char>(rng()));
            check_same(payload.substr(0, std::uniform_int_distribution<size_t>(0, payload.size() - 1)(rng)));
        }
    }

    TEST_CASE("basic.deliver fast path: every cut, every overlong length octet, random bytes") {
        spec::BasicDeliver d{.consumer_tag = "ctag",
                             .delivery_tag = 0x0102030405060708,
                             .redelivered = true,
                             .exchange = "ex",
                             .routing_key = "rk"};
        const std::string payload = payload_of(d);
        for (size_t cut = 0; cut < payload.size(); ++cut) check_same(payload.substr(0, cut));
        // Each short string's length octet set to every value: past the end, short of it, exact.
        for (size_t at : {size_t{4}, size_t{4 + 1 + 4 + 9}, size_t{4 + 1 + 4 + 9 + 1 + 2}}) {
            for (int len = 0; len < 256; ++len) {
                std::string p = payload;
                p[at] = static_cast<char>(len);
                check_same(p);
            }
        }
        std::mt19937 rng(7);
        for (int i = 0; i < 5000; ++i) {
            std::string p = payload.substr(0, 4);  // basic.deliver's id, random arguments
            p.resize(4 + rng() % 40);
            for (size_t j = 4; j < p.size(); ++j) p[j] = static_cast<char>(rng() % 12);  // small lengths
            check_same(p);
        }
    }
}
