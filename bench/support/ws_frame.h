/* Shared by the C WebSocket programs (bench_ws_echo_server, bench_ws_raw): the parts of RFC 6455 framing
 * both sides write, without a library. */
#ifndef SQUALL_BENCH_SUPPORT_WS_FRAME_H
#define SQUALL_BENCH_SUPPORT_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes the payload length of a frame header from f[1] on (with `mask_bit`, 0x80 or 0, in f[1]) and
 * returns the header's size so far: 2, 4 or 10 bytes (f[0] is the caller's). */
static inline size_t ws_put_length(uint8_t* f, uint64_t len, uint8_t mask_bit) {
    if (len < 126) {
        f[1] = (uint8_t)(mask_bit | len);
        return 2;
    }
    if (len <= 0xffff) {
        f[1] = mask_bit | 126;
        f[2] = (uint8_t)(len >> 8);
        f[3] = (uint8_t)len;
        return 4;
    }
    f[1] = mask_bit | 127;
    for (int i = 0; i < 8; ++i) f[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

/* out[i] = in[i] ^ key[i % 4] for i < len, a word at a time; `out` may be `in` (unmasking in place). */
static inline void ws_mask(uint8_t* out, const uint8_t* in, size_t len, const uint8_t key[4]) {
    uint32_t k32;
    memcpy(&k32, key, 4);
    const uint64_t k64 = (uint64_t)k32 << 32 | k32;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, in + i, 8);
        w ^= k64;
        memcpy(out + i, &w, 8);
    }
    for (; i < len; ++i) out[i] = in[i] ^ key[i & 3];
}

#endif
