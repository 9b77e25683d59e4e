// permessage-deflate: the offer, the answer's checks, and compressor/decompressor round trips.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "squall/websocket/deflate.hpp"

using namespace squall::websocket;

TEST_CASE("the offer lists what the options ask for") {
    CHECK(deflate_offer({}) == "permessage-deflate; client_max_window_bits");
    DeflateOptions o{.server_no_context_takeover = true,
                     .client_no_context_takeover = true,
                     .server_max_window_bits = 10,
                     .client_max_window_bits = 12};
    CHECK(deflate_offer(o) ==
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
          "server_max_window_bits=10; "
          "client_max_window_bits=12");
    DeflateOptions bad{.client_max_window_bits = 8};
    CHECK_THROWS_AS(deflate_offer(bad), std::invalid_argument);
}

TEST_CASE("the server's answer is checked against the offer") {
    DeflateOptions offer{.server_max_window_bits = 12};
    auto p = accept_deflate_response(
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
        "client_max_window_bits=\"11\"",
        offer);
    CHECK(p.server_no_context_takeover);
    CHECK_FALSE(p.client_no_context_takeover);
    CHECK(p.server_max_window_bits == 10);
    CHECK(p.client_max_window_bits == 11);
    CHECK_THROWS_AS(accept_deflate_response("permessage-deflate; server_max_window_bits=13", offer),
                    std::invalid_argument);  // larger than offered
    CHECK_THROWS_AS(accept_deflate_response("permessage-deflate; server_max_window_bits=7", offer),
                    std::invalid_argument);
    CHECK_THROWS_AS(accept_deflate_response("permessage-deflate; bogus", offer), std::invalid_argument);
    CHECK_THROWS_AS(accept_deflate_response(
                        "permessage-deflate; server_no_context_takeover; server_no_context_takeover", offer),
                    std::invalid_argument);
    CHECK_THROWS_AS(accept_deflate_response("permessage-deflate, permessage-deflate", offer),
                    std::invalid_argument);
    CHECK_THROWS_AS(accept_deflate_response("permessage-deflate; client_max_window_bits=8", offer),
                    std::invalid_argument);  // zlib cannot honour it
    DeflateOptions must_reset{.server_no_context_takeover = true};
    CHECK_THROWS_AS(accept_deflate_response("permessage-deflate", must_reset), std::invalid_argument);
}

TEST_CASE("compress then decompress gives the message back, with and without context takeover") {
    for (bool nct : {false, true}) {
        DeflateParams p{.server_no_context_takeover = nct, .client_no_context_takeover = nct};
        MessageDeflater out(p);
        MessageInflater in(p);
        std::size_t first_size = 0;
        for (int i = 0; i < 3; ++i) {
            std::string msg;
            for (int j = 0; j < 200; ++j) msg += "message number " + std::to_string(j % 7) + "; ";
            std::string wire;
            out.compress(msg, wire);
            if (i == 0) first_size = wire.size();
            if (i > 0) {
                if (nct)
                    CHECK(wire.size() == first_size);
                else
                    CHECK(wire.size() < first_size);
            }
            std::string back;
            REQUIRE(in.decompress(wire, back, 1 << 20));
            REQUIRE(in.finish_message(back, 1 << 20));
            CHECK(back == msg);
        }
    }
}

TEST_CASE("decompression stops at the size limit and reports corrupt input") {
    DeflateParams p;
    MessageDeflater out(p);
    std::string wire;
    out.compress(std::string(100000, 'x'), wire);
    MessageInflater in(p);
    std::string back;
    CHECK_FALSE(in.decompress(wire, back, 1000));
    CHECK(back.size() <= 1001);
    MessageInflater fresh(p);
    std::string junk = "\xff\xff\xff\xff\xff";
    std::string sink;
    CHECK_THROWS_AS((void)fresh.decompress(junk, sink, 1 << 20), std::runtime_error);
}
