// Utf8Validator: incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF) for text messages that arrive in pieces, with the state carried across fragments.
//
//     Utf8Validator v;
//     if (!v.feed(piece1) || !v.feed(piece2) || !v.complete()) fail(1007);
//
// A piece of 64 bytes or more is checked 32 bytes per step with AVX2 where the CPU has it (a table
// lookup per byte pair, whatever the script); shorter pieces and CPUs without AVX2 use a small state
// machine that skips ASCII runs a register at a time. feed() fails within 4 KiB of the first invalid
// byte, so a bad message is refused before it is all read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace squall::websocket {

// Incremental UTF-8 validation of text split across frames (RFC 3629: no overlongs, surrogates or code
// points above U+10FFFF).
class Utf8Validator {
public:
    // False once an invalid sequence was seen (and for every later call).
    bool feed(std::string_view bytes) noexcept;
    // The bytes fed so far end on a character boundary and were all valid.
    bool complete() const noexcept { return !failed_ && need_ == 0; }
    bool failed() const noexcept { return failed_; }    // an invalid sequence was seen
    void reset() noexcept { *this = Utf8Validator{}; }  // start a new text

private:
    // The byte-wise state machine over p[i, n), from the state left by the last call.
    bool feed_bytes(const unsigned char* p, std::size_t i, std::size_t n) noexcept;

    std::uint8_t need_ = 0;   // continuation bytes still expected
    std::uint8_t lo_ = 0x80;  // bounds of the next continuation byte (narrower after E0, ED, F0, F4)
    std::uint8_t hi_ = 0xbf;
    bool failed_ = false;
};

// Whole-buffer check.
bool is_valid_utf8(std::string_view bytes) noexcept;

}  // namespace squall::websocket
