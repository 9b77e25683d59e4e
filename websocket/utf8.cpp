#include "squall/websocket/utf8.hpp"

#include <cstring>

namespace squall::websocket {

namespace {

using Lane = std::uint8_t __attribute__((vector_size(16)));  // one SSE2 register

// Index of the first byte >= 0x80 at or after i (n when none), 32 bytes per step while all are ASCII.
inline std::size_t skip_ascii(const unsigned char* p, std::size_t i, std::size_t n) noexcept {
    for (; i + 2 * sizeof(Lane) <= n; i += 2 * sizeof(Lane)) {
        Lane a, b;
        std::memcpy(&a, p + i, sizeof a);
        std::memcpy(&b, p + i + sizeof(Lane), sizeof b);
        Lane top = (a | b) & 0x80;
        std::uint64_t w[2];
        std::memcpy(w, &top, sizeof w);
        if ((w[0] | w[1]) != 0) break;
    }
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, 8);
        if ((w & 0x8080808080808080ull) != 0) break;
    }
    while (i < n && p[i] < 0x80) ++i;
    return i;
}

}  // namespace

bool Utf8Validator::feed(std::string_view bytes) noexcept {
    if (failed_) return false;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    std::size_t i = 0;
    std::uint8_t need = need_, lo = lo_, hi = hi_;
    for (;;) {
        // Continuation bytes of the character in progress.
        while (need != 0) {
            if (i == n) {
                need_ = need;
                lo_ = lo;
                hi_ = hi;
                return true;
            }
            const unsigned char c = p[i++];
            if (c < lo || c > hi) {
                failed_ = true;
                return false;
            }
            lo = 0x80;
            hi = 0xbf;
            --need;
        }
        if (i == n) break;
        unsigned char c = p[i];
        if (c < 0x80) {
            // Short ASCII runs (text mixed with other scripts) go byte by byte; a run of 8 or more is
            // skipped a register at a time.
            std::uint64_t w;
            if (i + 8 <= n && (std::memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) {
                i = skip_ascii(p, i + 8, n);
            } else {
                ++i;
            }
            continue;
        }
        ++i;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0;  // overlong
            else if (c == 0xed)
                hi = 0x9f;  // surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90;  // overlong
            else if (c == 0xf4)
                hi = 0x8f;  // above U+10FFFF
        } else {
            failed_ = true;  // continuation byte without a lead, C0/C1 (overlong), F5..FF
            return false;
        }
    }
    need_ = 0;
    lo_ = 0x80;
    hi_ = 0xbf;
    return true;
}

bool is_valid_utf8(std::string_view bytes) noexcept {
    Utf8Validator v;
    return v.feed(bytes) && v.complete();
}

}  // namespace squall::websocket
