// Fuzz-ish robustness: random bytes, random truncations and random byte flips of valid encodings fed to
// every decoder. The only acceptable failure is amqp::FrameError (run under ASan/UBSan to catch reads out
// of bounds). Seeds are fixed so a failure reproduces.
#include <doctest/doctest.h>

#include <array>
#include <random>
#include <string>

#include "codec_random.hpp"
#include "squall/amqp/errors.hpp"
#include "squall/amqp/field_table.hpp"
#include "squall/amqp/frame.hpp"
#include "squall/amqp/properties.hpp"
#include "squall/amqp/spec.hpp"

using namespace squall::amqp;

namespace {

// Runs every decoder on `data`; returns how many of them accepted it. Anything but FrameError escapes.
int decode_everything(std::string_view data) {
    int accepted = 0;
    auto attempt = [&](auto&& decode) {
        try {
            decode();
            ++accepted;
        } catch (const FrameError&) {
        }
    };
    attempt([&] { decode_field_table(data); });
    attempt([&] {
        size_t used = 0;
        decode_field_table(data, &used);
        if (used > data.size()) FAIL("consumed beyond the input");
    });
    attempt([&] { spec::decode_method(data); });
    attempt([&] { decode_content_header(data); });
    attempt([&] {
        FrameParse p = parse_frame(data, 4096);
        if (p.complete()) {
            if (p.size > data.size() || p.frame->payload.size() + kFrameOverhead != p.size)
                FAIL("bad frame size");
        }
    });
    return accepted;
}

}  // namespace

TEST_SUITE("amqp_codec") {
    TEST_CASE("thousands of random byte strings never crash a decoder") {
        std::mt19937 rng(2024);
        for (int i = 0; i < 20000; ++i) {
            std::string data(std::uniform_int_distribution<size_t>(0, 64)(rng), '\0');
            for (char& c : data) c = static_cast<char>(rng());
            // Bias some inputs towards plausible prefixes so the decoders get past their first checks.
            if (i % 4 == 1 && data.size() >= 4) {
                data[0] = data[1] = data[2] = 0;  // small table length
                data[3] = static_cast<char>(data.size() - 4);
            } else if (i % 4 == 2 && data.size() >= 4) {
                static const spec::MethodId ids[] = {spec::ConnectionTune::kId, spec::BasicDeliver::kId,
                                                     spec::QueueDeclare::kId, spec::ConnectionStart::kId,
                                                     spec::BasicConsume::kId};
                spec::MethodId pick = ids[rng() % 5];
                data[0] = 0;
                data[1] = static_cast<char>(pick.class_id);
                data[2] = 0;
                data[3] = static_cast<char>(pick.method_id);
            }
            decode_everything(data);
        }
    }

    TEST_CASE("random truncations and byte flips of valid tables, methods and headers never crash") {
        squall::amqp::test::RandomFiller random(777);
        std::mt19937& rng = random.rng();
        for (int i = 0; i < 1500; ++i) {
            std::string valid;
            switch (i % 3) {
                case 0:
                    encode_field_table(valid, random.table());
                    break;
                case 1: {
                    spec::ConnectionStart start;
                    random.fill(start);
                    spec::BasicConsume consume;
                    random.fill(consume);
                    if (i % 2) {
                        spec::encode_method(valid, start);
                    } else {
                        spec::encode_method(valid, consume);
                    }
                    break;
                }
                default: {
                    BasicProperties p;
                    random.fill(p);
                    encode_content_header(valid, random.u64(), p);
                }
            }
            REQUIRE(decode_everything(valid) >= 1);  // the valid encoding itself decodes
            for (int t = 0; t < 8; ++t) {
                std::string_view cut = std::string_view(valid).substr(0, rng() % (valid.size() + 1));
                decode_everything(std::string(cut));  // a copy, so ASan sees the exact end
            }
            for (int f = 0; f < 8; ++f) {
                std::string flipped = valid;
                for (int k = 0; k < 3; ++k)
                    flipped[rng() % flipped.size()] ^= static_cast<char>(1 + rng() % 255);
                decode_everything(flipped);
            }
        }
    }

    TEST_CASE("a stream of random frames parses back frame by frame from any split point") {
        std::mt19937 rng(99);
        std::string stream;
        int count = 0;
        for (; count < 200; ++count) {
            std::string payload(rng() % 300, 'p');
            auto type = static_cast<uint8_t>(std::array<int, 4>{1, 2, 3, 8}[rng() % 4]);
            auto channel = static_cast<uint16_t>(rng());  // sequenced, for reproducible seeds
            append_frame(stream, type, channel, payload);
        }
        for (int trial = 0; trial < 50; ++trial) {
            size_t split = rng() % stream.size();
            std::string first = stream.substr(0, split);
            std::string_view view = first;
            int parsed = 0;
            while (true) {
                FrameParse p = parse_frame(view, 4096);
                if (!p.complete()) {
                    CHECK(p.size > view.size());
                    break;
                }
                view.remove_prefix(p.size);
                ++parsed;
            }
            std::string rest = std::string(view) + stream.substr(split);
            view = rest;
            while (!view.empty()) {
                FrameParse p = parse_frame(view, 4096);
                REQUIRE(p.complete());
                view.remove_prefix(p.size);
                ++parsed;
            }
            CHECK(parsed == count);
        }
    }

}  // TEST_SUITE
