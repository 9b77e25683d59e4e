// Utf8Validator: incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF) for text messages that arrive in pieces, with the state carried across fragments.
//
//     Utf8Validator v;
//     if (!v.feed(piece1) || !v.feed(piece2) || !v.complete()) fail(1007);
//
// ASCII runs are checked 32 bytes per step (SIMD lanes); other characters by a small state machine.
// feed() fails as early as the first invalid byte, so a bad message is refused before it is all read.
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
    std::uint8_t need_ = 0;   // continuation bytes still expected
    std::uint8_t lo_ = 0x80;  // bounds of the next continuation byte (narrower after E0, ED, F0, F4)
    std::uint8_t hi_ = 0xbf;
    bool failed_ = false;
};

// Whole-buffer check.
bool is_valid_utf8(std::string_view bytes) noexcept;

}  // namespace squall::websocket
