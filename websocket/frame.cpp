#include "squall/websocket/frame.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace squall::websocket {

bool is_known_opcode(Opcode op) noexcept {
    switch (op) {
        case Opcode::continuation:
        case Opcode::text:
        case Opcode::binary:
        case Opcode::close:
        case Opcode::ping:
        case Opcode::pong:
            return true;
    }
    return false;
}

std::size_t parse_frame_header(std::string_view data, FrameHeader& out) noexcept {
    if (data.size() < 2) return 0;
    const auto b0 = static_cast<std::uint8_t>(data[0]);
    const auto b1 = static_cast<std::uint8_t>(data[1]);
    out.fin = (b0 & 0x80) != 0;
    out.rsv1 = (b0 & 0x40) != 0;
    out.rsv2 = (b0 & 0x20) != 0;
    out.rsv3 = (b0 & 0x10) != 0;
    out.opcode = static_cast<Opcode>(b0 & 0x0f);
    out.masked = (b1 & 0x80) != 0;
    std::size_t size = 2;
    std::uint64_t len = b1 & 0x7f;
    if (len == 126) {
        if (data.size() < 4) return 0;
        len = static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[2])) << 8 |
              static_cast<std::uint8_t>(data[3]);
        if (len < 126) return kInvalidHeader;
        size = 4;
    } else if (len == 127) {
        if (data.size() < 10) return 0;
        len = 0;
        for (int i = 2; i < 10; ++i) len = len << 8 | static_cast<std::uint8_t>(data[i]);
        if ((len >> 63) != 0 || len <= 0xffff) return kInvalidHeader;
        size = 10;
    }
    out.length = len;
    if (out.masked) {
        if (data.size() < size + 4) return 0;
        std::memcpy(out.mask.data(), data.data() + size, 4);
        size += 4;
    }
    return size;
}

std::size_t write_frame_header(char* out, const FrameHeader& h) noexcept {
    auto* p = reinterpret_cast<unsigned char*>(out);
    p[0] = static_cast<unsigned char>((h.fin ? 0x80 : 0) | (h.rsv1 ? 0x40 : 0) | (h.rsv2 ? 0x20 : 0) |
                                      (h.rsv3 ? 0x10 : 0) | (static_cast<std::uint8_t>(h.opcode) & 0x0f));
    const unsigned char mask_bit = h.masked ? 0x80 : 0;
    std::size_t size;
    if (h.length < 126) {
        p[1] = static_cast<unsigned char>(mask_bit | h.length);
        size = 2;
    } else if (h.length <= 0xffff) {
        p[1] = mask_bit | 126;
        p[2] = static_cast<unsigned char>(h.length >> 8);
        p[3] = static_cast<unsigned char>(h.length);
        size = 4;
    } else {
        p[1] = mask_bit | 127;
        for (int i = 0; i < 8; ++i) p[2 + i] = static_cast<unsigned char>(h.length >> (56 - 8 * i));
        size = 10;
    }
    if (h.masked) {
        std::memcpy(p + size, h.mask.data(), 4);
        size += 4;
    }
    return size;
}

namespace {

// One SSE2 register (the x86-64 baseline); the loop below does four per step. A 32-byte GCC vector
// without AVX would be split through the stack.
using Lane = std::uint8_t __attribute__((vector_size(16)));

inline void mask_span(char* dst, const char* src, std::size_t n, MaskKey key, std::size_t offset) noexcept {
    // The key rotated to the payload offset, as one 32-bit word and as an 8-byte word (byte order as in
    // memory, so XOR with a memcpy'd word masks the right bytes).
    std::uint8_t k[8];
    for (int i = 0; i < 8; ++i) k[i] = key[(offset + static_cast<std::size_t>(i)) & 3];
    std::uint64_t word;
    std::memcpy(&word, k, 8);
    std::size_t i = 0;
    if (n >= sizeof(Lane)) {
        Lane pattern;
        std::memcpy(&pattern, k, 8);
        std::memcpy(reinterpret_cast<char*>(&pattern) + 8, k, 8);
        for (; i + 4 * sizeof(Lane) <= n; i += 4 * sizeof(Lane)) {
            Lane a, b, c, d;
            std::memcpy(&a, src + i, sizeof a);
            std::memcpy(&b, src + i + sizeof(Lane), sizeof b);
            std::memcpy(&c, src + i + 2 * sizeof(Lane), sizeof c);
            std::memcpy(&d, src + i + 3 * sizeof(Lane), sizeof d);
            a ^= pattern;
            b ^= pattern;
            c ^= pattern;
            d ^= pattern;
            std::memcpy(dst + i, &a, sizeof a);
            std::memcpy(dst + i + sizeof(Lane), &b, sizeof b);
            std::memcpy(dst + i + 2 * sizeof(Lane), &c, sizeof c);
            std::memcpy(dst + i + 3 * sizeof(Lane), &d, sizeof d);
        }
        for (; i + sizeof(Lane) <= n; i += sizeof(Lane)) {
            Lane a;
            std::memcpy(&a, src + i, sizeof a);
            a ^= pattern;
            std::memcpy(dst + i, &a, sizeof a);
        }
    }
    // i is a multiple of 8 here, so the key phase is unchanged.
    for (; i + 8 <= n; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, src + i, 8);
        w ^= word;
        std::memcpy(dst + i, &w, 8);
    }
    for (; i < n; ++i) dst[i] = static_cast<char>(static_cast<std::uint8_t>(src[i]) ^ k[i & 3]);
}

}  // namespace

void mask_in_place(char* data, std::size_t n, MaskKey key, std::size_t offset) noexcept {
    mask_span(data, data, n, key, offset);
}

void mask_copy(char* dst, const char* src, std::size_t n, MaskKey key, std::size_t offset) noexcept {
    mask_span(dst, src, n, key, offset);
}

MaskKey random_mask_key() {
    // getrandom is the kernel's CSPRNG; 1024 keys per call keep the syscall off the per-frame path.
    thread_local std::uint8_t pool[4096];
    thread_local std::size_t used = sizeof pool;
    if (used == sizeof pool) {
        std::size_t got = 0;
        while (got < sizeof pool) {
            ssize_t n = ::getrandom(pool + got, sizeof pool - got, 0);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
            }
            got += static_cast<std::size_t>(n);
        }
        used = 0;
    }
    MaskKey key;
    std::memcpy(key.data(), pool + used, 4);
    // Forget the bytes once handed out.
    std::memset(pool + used, 0, 4);
    used += 4;
    return key;
}

void append_frame(std::string& out, FrameHeader header, std::string_view payload, MaskKey key) {
    header.masked = true;
    header.mask = key;
    header.length = payload.size();
    const std::size_t start = out.size();
    out.resize(start + kMaxFrameHeaderSize + payload.size());
    std::size_t hsize = write_frame_header(out.data() + start, header);
    mask_copy(out.data() + start + hsize, payload.data(), payload.size(), key);
    out.resize(start + hsize + payload.size());
}

}  // namespace squall::websocket
