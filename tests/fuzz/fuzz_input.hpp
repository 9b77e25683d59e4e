// Helpers shared by the libFuzzer targets in tests/fuzz: a reader that splits one fuzzer input into the
// parameters a target needs, and the oracle check that turns a wrong answer into a crash libFuzzer records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace squall::fuzz {

// Consumes a fuzzer input from the front. Reads past the end yield zeros / empty views, so every input,
// however short, maps to some parameters.
class FuzzInput {
public:
    FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

    uint8_t u8() {
        if (rest_.empty()) return 0;
        auto b = static_cast<uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return b;
    }
    uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
    uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
    // Up to n bytes.
    std::string_view take(size_t n) {
        std::string_view piece = rest_.substr(0, n);
        rest_.remove_prefix(piece.size());
        return piece;
    }
    std::string_view rest() const { return rest_; }
    bool empty() const { return rest_.empty(); }

private:
    std::string_view rest_;
};

// A deterministic stream of small numbers (piece sizes) seeded from the input, so the way an input is cut
// into pieces is part of the input and a crash reproduces.
class PieceSizes {
public:
    explicit PieceSizes(uint32_t seed) : state_(seed | 1u) {}
    // In [0, max].
    size_t next(size_t max) {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 17;
        state_ ^= state_ << 5;
        return max == 0 ? 0 : state_ % (max + 1);
    }

private:
    uint32_t state_;
};

[[noreturn]] inline void oracle_failed(const char* what, const char* file, int line) {
    std::fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", file, line, what);
    std::abort();
}

}  // namespace squall::fuzz

// Aborts (a libFuzzer crash, a failed replay) when an invariant the library documents does not hold.
#define SQUALL_FUZZ_CHECK(cond)                                                \
    do {                                                                       \
        if (!(cond)) ::squall::fuzz::oracle_failed(#cond, __FILE__, __LINE__); \
    } while (0)
