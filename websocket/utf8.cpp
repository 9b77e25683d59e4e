#include "squall/websocket/utf8.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SQUALL_UTF8_AVX2 1
#else
#define SQUALL_UTF8_AVX2 0
#endif

namespace squall::websocket {

namespace {

#if SQUALL_UTF8_AVX2

// Whole-text check 32 bytes per step (AVX2), for long runs that start on a character boundary. Each byte
// is judged with the byte before it by three 16-entry tables, indexed by the previous byte's high and low
// nibble and this byte's high nibble; the AND of the three entries has a bit set exactly when the pair is
// one of these errors (each bit's condition is a product of one set per nibble, so one AND decides it):
constexpr std::uint8_t kTooShort = 1 << 0;   // a lead byte (C0-FF) not followed by a continuation
constexpr std::uint8_t kTooLong = 1 << 1;    // ASCII followed by a continuation
constexpr std::uint8_t kOverlong3 = 1 << 2;  // E0 80-9F
constexpr std::uint8_t kSurrogate = 1 << 3;  // ED A0-BF
constexpr std::uint8_t kOverlong2 = 1 << 4;  // C0 or C1 with a continuation
constexpr std::uint8_t kTooLarge = 1 << 5;   // F4-FF 90-BF
constexpr std::uint8_t kOverlong4 = 1 << 6;  // F0 80-8F, and F5-FF 80-8F (too large)
constexpr std::uint8_t kTwoConts = 1 << 7;   // a continuation after a continuation: right only as the
                                             // third or fourth byte of a character, checked apart
// Indexed by the previous byte's high nibble.
constexpr std::uint8_t kPrevHigh[16] = {
    kTooLong,
    kTooLong,
    kTooLong,
    kTooLong,
    kTooLong,
    kTooLong,
    kTooLong,
    kTooLong,  // 0-7: ASCII
    kTwoConts,
    kTwoConts,
    kTwoConts,
    kTwoConts,                            // 8-B: continuation
    kTooShort | kOverlong2,               // C
    kTooShort,                            // D
    kTooShort | kOverlong3 | kSurrogate,  // E
    kTooShort | kTooLarge | kOverlong4,   // F
};
// Indexed by the previous byte's low nibble.
constexpr std::uint8_t kAnyLow = kTooShort | kTooLong | kTwoConts;
constexpr std::uint8_t kPrevLow[16] = {
    kAnyLow | kOverlong3 | kOverlong2 | kOverlong4,  // x0: E0, C0, F0
    kAnyLow | kOverlong2,                            // x1: C1
    kAnyLow,                                         // x2
    kAnyLow,                                         // x3
    kAnyLow | kTooLarge,                             // x4: F4
    kAnyLow | kTooLarge | kOverlong4,                // x5
    kAnyLow | kTooLarge | kOverlong4,                // x6
    kAnyLow | kTooLarge | kOverlong4,                // x7
    kAnyLow | kTooLarge | kOverlong4,                // x8
    kAnyLow | kTooLarge | kOverlong4,                // x9
    kAnyLow | kTooLarge | kOverlong4,                // xA
    kAnyLow | kTooLarge | kOverlong4,                // xB
    kAnyLow | kTooLarge | kOverlong4,                // xC
    kAnyLow | kTooLarge | kOverlong4 | kSurrogate,   // xD: ED
    kAnyLow | kTooLarge | kOverlong4,                // xE
    kAnyLow | kTooLarge | kOverlong4,                // xF
};
// Indexed by this byte's high nibble.
constexpr std::uint8_t kNotCont = kTooShort;
constexpr std::uint8_t kCont = kTooLong | kOverlong2 | kTwoConts;
constexpr std::uint8_t kCurHigh[16] = {
    kNotCont,
    kNotCont,
    kNotCont,
    kNotCont,
    kNotCont,
    kNotCont,
    kNotCont,
    kNotCont,                         // 0-7
    kCont | kOverlong3 | kOverlong4,  // 80-8F
    kCont | kOverlong3 | kTooLarge,   // 90-9F
    kCont | kSurrogate | kTooLarge,   // A0-AF
    kCont | kSurrogate | kTooLarge,   // B0-BF
    kNotCont,
    kNotCont,
    kNotCont,
    kNotCont,  // C-F
};

__attribute__((target("avx2"))) inline __m256i table(const std::uint8_t (&t)[16]) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t)));
}

struct Avx2Check {
    __m256i prev_high, prev_low, cur_high, low_nibbles;
    __m256i prev = _mm256_setzero_si256();  // the block before: ASCII before the first
    __m256i error = _mm256_setzero_si256();

    __attribute__((target("avx2"))) Avx2Check()
        : prev_high(table(kPrevHigh)),
          prev_low(table(kPrevLow)),
          cur_high(table(kCurHigh)),
          low_nibbles(_mm256_set1_epi8(0x0f)) {}

    __attribute__((target("avx2"))) void block(__m256i cur) {
        // The bytes 1, 2 and 3 places earlier, across the 128-bit lanes and from the previous block.
        const __m256i carried = _mm256_permute2x128_si256(prev, cur, 0x21);
        const __m256i prev1 = _mm256_alignr_epi8(cur, carried, 15);
        const __m256i prev2 = _mm256_alignr_epi8(cur, carried, 14);
        const __m256i prev3 = _mm256_alignr_epi8(cur, carried, 13);
        const __m256i pairs = _mm256_and_si256(
            _mm256_and_si256(
                _mm256_shuffle_epi8(prev_high, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), low_nibbles)),
                _mm256_shuffle_epi8(prev_low, _mm256_and_si256(prev1, low_nibbles))),
            _mm256_shuffle_epi8(cur_high, _mm256_and_si256(_mm256_srli_epi16(cur, 4), low_nibbles)));
        // Where a continuation must stand as a 3rd or 4th byte: two after E0-FF or three after F0-FF.
        const __m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8(static_cast<char>(0xdf)));
        const __m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8(static_cast<char>(0xef)));
        const __m256i must =
            _mm256_andnot_si256(_mm256_cmpeq_epi8(_mm256_or_si256(third, fourth), _mm256_setzero_si256()),
                                _mm256_set1_epi8(static_cast<char>(0x80)));
        error = _mm256_or_si256(error, _mm256_xor_si256(pairs, must));
        prev = cur;
    }

    // An ASCII block only needs the previous block not to end inside a character.
    __attribute__((target("avx2"))) void ascii_block(__m256i cur) {
        const __m256i limits = _mm256_setr_epi8(
            -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
            -1, -1, -1, -1, -1, static_cast<char>(0xef), static_cast<char>(0xdf), static_cast<char>(0xbf));
        error = _mm256_or_si256(error, _mm256_subs_epu8(prev, limits));
        prev = cur;
    }

    __attribute__((target("avx2"))) bool ok() const { return _mm256_testz_si256(error, error) != 0; }
};

// True when p[0, n) is valid UTF-8 that starts and ends on character boundaries.
__attribute__((target("avx2"))) bool valid_avx2(const unsigned char* p, std::size_t n) noexcept {
    Avx2Check check;
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
        if (_mm256_movemask_epi8(_mm256_or_si256(a, b)) == 0) {
            check.ascii_block(a);
            check.prev = b;
        } else {
            check.block(a);
            check.block(b);
        }
        if ((i & 4095) == 0 && !check.ok()) return false;  // a bad text stops within 4 KiB
    }
    // The tail, padded with ASCII; the padding also catches a character cut off at the end.
    alignas(32) unsigned char tail[64] = {};
    std::memcpy(tail, p + i, n - i);
    check.block(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail)));
    check.block(_mm256_load_si256(reinterpret_cast<const __m256i*>(tail + 32)));
    if (n - i > 32) check.block(_mm256_setzero_si256());
    return check.ok();
}

bool have_avx2() noexcept {
    static const bool yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return yes;
}

// Runs shorter than this go through the byte-wise state machine (with its ASCII skip).
constexpr std::size_t kVectorMin = 64;

// The end of the longest prefix of p[i, n) that does not stop inside a character: the last up to three
// bytes are looked at for a lead byte whose character needs more bytes than there are.
std::size_t whole_characters_end(const unsigned char* p, std::size_t i, std::size_t n) noexcept {
    for (std::size_t k = 1; k <= 3 && n >= i + k; ++k) {
        const unsigned char c = p[n - k];
        if (c < 0x80) return n;
        if (c >= 0xc0) {
            const std::size_t length = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            return length > k ? n - k : n;
        }
    }
    return n;
}

#endif  // SQUALL_UTF8_AVX2

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
#if SQUALL_UTF8_AVX2
    if (n >= kVectorMin && have_avx2()) {
        // The character in progress first, then every whole character a register at a time; a
        // character cut off at the end is left to the state machine below, which carries it over.
        i = std::min<std::size_t>(need_, n);
        if (i != 0 && !feed_bytes(p, 0, i)) return false;
        const std::size_t end = whole_characters_end(p, i, n);
        if (end > i && !valid_avx2(p + i, end - i)) {
            failed_ = true;
            return false;
        }
        i = end;
    }
#endif
    return feed_bytes(p, i, n);
}

bool Utf8Validator::feed_bytes(const unsigned char* p, std::size_t i, std::size_t n) noexcept {
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
