// Big-endian primitives of the AMQP 0-9-1 wire format: a bounds-checked Reader over untrusted bytes and
// append-only writers into an output std::string. Internal to the codec (spec, field tables, frames).
//
// Invariant: every Reader accessor checks the remaining length before touching a byte, so a malformed
// input can only end in amqp::FrameError naming what was being read and the offset where it failed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "squall/amqp/errors.hpp"

namespace squall::amqp::detail {

class Reader {
public:
    // `context` names the structure being decoded ("basic.deliver arguments", "field table") for messages.
    Reader(std::string_view data, std::string_view context) : data_(data), context_(context) {}

    size_t offset() const { return pos_; }
    size_t remaining() const { return data_.size() - pos_; }
    bool at_end() const { return pos_ == data_.size(); }
    std::string_view context() const { return context_; }

    uint8_t u8(const char* what) {
        need(1, what);
        return static_cast<uint8_t>(data_[pos_++]);
    }
    uint16_t u16(const char* what) {
        need(2, what);
        uint16_t v = static_cast<uint16_t>((byte(0) << 8) | byte(1));
        pos_ += 2;
        return v;
    }
    uint32_t u32(const char* what) {
        need(4, what);
        uint32_t v =
            (uint32_t{byte(0)} << 24) | (uint32_t{byte(1)} << 16) | (uint32_t{byte(2)} << 8) | byte(3);
        pos_ += 4;
        return v;
    }
    uint64_t u64(const char* what) {
        need(8, what);
        uint64_t v = 0;
        for (size_t i = 0; i < 8; ++i) v = (v << 8) | byte(i);
        pos_ += 8;
        return v;
    }
    std::string_view bytes(size_t n, const char* what) {
        need(n, what);
        std::string_view v = data_.substr(pos_, n);
        pos_ += n;
        return v;
    }
    std::string_view shortstr_view(const char* what) {
        size_t n = u8(what);
        return bytes(n, what);
    }
    std::string shortstr(const char* what) {
        size_t n = u8(what);
        return std::string(bytes(n, what));
    }
    std::string longstr(const char* what) {
        size_t n = u32(what);
        return std::string(bytes(n, what));
    }

    // Throws FrameError("<context>: <message> at offset <offset>").
    [[noreturn]] void fail(std::string_view message, size_t at) const;
    [[noreturn]] void fail(std::string_view message) const { fail(message, pos_); }

    // Fails unless every byte was consumed (a method or header with trailing garbage is malformed).
    void expect_end() const;

private:
    uint8_t byte(size_t i) const { return static_cast<uint8_t>(data_[pos_ + i]); }
    void need(size_t n, const char* what) const {
        if (n > remaining()) truncated(n, what);
    }
    [[noreturn]] void truncated(size_t n, const char* what) const;

    std::string_view data_;
    std::string_view context_;
    size_t pos_ = 0;
};

inline void put_u8(std::string& out, uint8_t v) {
    out.push_back(static_cast<char>(v));
}
inline void put_u16(std::string& out, uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 2);
}
inline void put_u32(std::string& out, uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.append(b, 4);
}
inline void put_u64(std::string& out, uint64_t v) {
    char b[8];
    for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<char>(v);
    out.append(b, 8);
}
// Overwrites 4 bytes at `at` (a length placeholder written earlier).
inline void patch_u32(std::string& out, size_t at, uint32_t v) {
    out[at] = static_cast<char>(v >> 24);
    out[at + 1] = static_cast<char>(v >> 16);
    out[at + 2] = static_cast<char>(v >> 8);
    out[at + 3] = static_cast<char>(v);
}

// Throw squall::UsageError when the value does not fit its wire type; `what` names the field.
void put_shortstr(std::string& out, std::string_view s, const char* what);
void put_longstr(std::string& out, std::string_view s, const char* what);

}  // namespace squall::amqp::detail
