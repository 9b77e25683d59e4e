// libFuzzer target: amqp::parse_url and amqp::percent_decode on arbitrary text (a URL comes from
// configuration, which is often built from user input).
//
// Oracles: only squall::Error escapes; a parsed URL has a non-empty host, a non-zero port and a
// non-empty vhost, and TLS options only with amqps.
#include <cstdint>
#include <string_view>

#include "fuzz_input.hpp"
#include "squall/amqp/url.hpp"
#include "squall/coro/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)squall::amqp::percent_decode(text);
    } catch (const squall::Error&) {
    }
    try {
        squall::amqp::Url url = squall::amqp::parse_url(text);
        SQUALL_FUZZ_CHECK(!url.host.empty());
        SQUALL_FUZZ_CHECK(url.port != 0);
        SQUALL_FUZZ_CHECK(!url.vhost.empty());
        if (!url.tls) {
            SQUALL_FUZZ_CHECK(!url.verify_peer && url.ca_file.empty() && url.cert_file.empty() &&
                              url.key_file.empty() && url.server_name.empty());
        }
        if (url.connection_timeout) SQUALL_FUZZ_CHECK(url.connection_timeout->count() >= 0);
    } catch (const squall::Error&) {
    }
    return 0;
}
