#include "squall/amqp/detail/wire.hpp"

#include <cstdint>

namespace squall::amqp::detail {

void Reader::fail(std::string_view message, size_t at) const {
    std::string s(context_);
    s += ": ";
    s += message;
    s += " at offset ";
    s += std::to_string(at);
    throw FrameError(s);
}

void Reader::truncated(size_t n, const char* what) const {
    fail("truncated " + std::string(what) + ": need " + std::to_string(n) + " bytes, " +
         std::to_string(remaining()) + " left");
}

void Reader::expect_end() const {
    if (!at_end()) fail(std::to_string(remaining()) + " unexpected trailing bytes");
}

void put_shortstr(std::string& out, std::string_view s, const char* what) {
    if (s.size() > 255) {
        throw UsageError(std::string("cannot encode ") + what + ": short string of " +
                         std::to_string(s.size()) + " bytes (at most 255)");
    }
    put_u8(out, static_cast<uint8_t>(s.size()));
    out.append(s);
}

void put_longstr(std::string& out, std::string_view s, const char* what) {
    if (s.size() > UINT32_MAX) {
        throw UsageError(std::string("cannot encode ") + what + ": long string over 4 GiB");
    }
    put_u32(out, static_cast<uint32_t>(s.size()));
    out.append(s);
}

}  // namespace squall::amqp::detail
