// WebSocket framing (RFC 6455 section 5): frame headers, masking, and the frame a client writes.
//
//     std::string out;
//     append_frame(out, {.opcode = Opcode::text}, "hello", random_mask_key());   // header + masked payload
//
//     FrameHeader h;
//     std::size_t n = parse_frame_header(buffered_bytes, h);   // 0: need more bytes; else header size
//
// Masking XORs the payload with a 4-byte key, 32 bytes (one or two SIMD registers) per step; mask_copy
// masks while copying, so a client frame costs one pass over its payload. Keys come from a CSPRNG
// (getrandom), fetched a few thousand keys at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace squall::websocket {

// Frame opcodes (RFC 6455 section 5.2).
enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// close, ping, pong (and the reserved 0xB-0xF).
inline constexpr bool is_control(Opcode op) noexcept {
    return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

using MaskKey = std::array<std::uint8_t, 4>;  // the masking key of a client frame

// A frame header, as parse_frame_header reads it and the writer builds it.
struct FrameHeader {
    bool fin = true;               // the last frame of its message
    bool rsv1 = false;             // permessage-deflate: the message is compressed (first frame only)
    bool rsv2 = false;             // reserved: no extension squall speaks uses them
    bool rsv3 = false;             // reserved
    Opcode opcode = Opcode::text;  // raw value kept even when unknown: check with is_known_opcode
    bool masked = false;           // a mask key follows (client to server frames)
    std::uint64_t length = 0;      // payload bytes
    MaskKey mask{};                // valid when masked
};

inline constexpr std::size_t kMaxFrameHeaderSize = 14;  // 2 + 8 (64-bit length) + 4 (mask key)
inline constexpr std::size_t kMaxControlPayload = 125;  // the payload limit of control frames

// One of the six opcodes RFC 6455 defines.
bool is_known_opcode(Opcode op) noexcept;

// Parses the header at the start of `data`. Returns 0 when `data` holds less than a whole header, else the
// header's size (2 to 14). Checks nothing but the encoding; a 64-bit length with its top bit set (RFC 6455
// 5.2) or a length not in its shortest form is reported by returning kInvalidHeader.
inline constexpr std::size_t kInvalidHeader = static_cast<std::size_t>(-1);
std::size_t parse_frame_header(std::string_view data, FrameHeader& out) noexcept;

// Writes a header into out (at least kMaxFrameHeaderSize bytes); returns its size. The mask key is
// written when header.masked.
std::size_t write_frame_header(char* out, const FrameHeader& header) noexcept;

// XORs data[0, n) with the key, where data[0] is byte `offset` of the payload (so a payload masked in
// pieces gives the same result as in one go).
void mask_in_place(char* data, std::size_t n, MaskKey key, std::size_t offset = 0) noexcept;
// dst[i] = src[i] ^ key[(offset + i) % 4]; dst and src may be the same but must not otherwise overlap.
void mask_copy(char* dst, const char* src, std::size_t n, MaskKey key, std::size_t offset = 0) noexcept;

// A fresh key from the kernel's CSPRNG (getrandom), fetched in batches per thread.
MaskKey random_mask_key();

// Appends one client frame: header (masked, with `key`) and the masked payload.
void append_frame(std::string& out, FrameHeader header, std::string_view payload, MaskKey key);

}  // namespace squall::websocket
